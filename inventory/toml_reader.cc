#include "inventory/toml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <toml++/toml.h>

#include "inventory/range.h"
#include "inventory/setting_docs.h"
#include "inventory/settings.h"
#include "base/suggest.h"

namespace plugbox::inventory {
namespace {

Loc loc_of(const toml::source_region& r) { return Loc{static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)}; }

// Where the text of a key or string starts: one column in when it is quoted.
// (With escape sequences the width differs; then the quote itself is as close as we get.)
Loc text_loc_of(const toml::source_region& r, size_t text_size) {
  Loc l = loc_of(r);
  if (r.begin.line == r.end.line && r.end.column - r.begin.column == text_size + 2) ++l.column;
  return l;
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

struct Entry {
  const toml::key* key;
  const toml::node* node;
};

// toml::table iterates by key order; an inventory is reported in file order.
std::vector<Entry> in_file_order(const toml::table& t) {
  std::vector<Entry> out;
  out.reserve(t.size());
  for (auto&& [k, v] : t) out.push_back(Entry{&k, &v});
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    const auto &x = a.key->source().begin, &y = b.key->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  return out;
}

bool has_space_or_control(std::string_view s, char* found) {
  for (char c : s)
    if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      *found = c;
      return true;
    }
  return false;
}

// Which table a layer of settings comes from, for messages.
enum class LayerKind { defaults, group_vars, host };

class Reader {
 public:
  Reader(const ReadContext& ctx, Diagnostics& diag) : ctx_(ctx), diag_(diag) {}

  Document read(std::string_view text) {
    Document doc;
    toml::table root;
    try {
      root = toml::parse(text, diag_.file());
    } catch (const toml::parse_error& e) {
      diag_.error(loc_of(e.source()), fmt::format("TOML syntax error: {}", e.description()));
      return doc;
    }
    doc.parsed = true;
    static const std::vector<std::string> top = base::key_names(inventory_tables());  // setting_docs.h
    for (const auto& [key, node] : in_file_order(root)) {
      const std::string k(key->str());
      if (k == "defaults") {
        if (const auto* t = node->as_table())
          read_layer(*t, LayerKind::defaults, "[defaults]", doc.defaults);
        else
          diag_.error(loc_of(node->source()), fmt::format("'defaults' must be a table ([defaults]), not {}", type_name(*node)));
      } else if (k == "hosts") {
        if (const auto* t = node->as_table())
          read_hosts(*t, doc);
        else
          diag_.error(loc_of(node->source()),
                      fmt::format("'hosts' must be a table of hosts ([hosts.NAME]), not {}", type_name(*node)));
      } else if (k == "groups") {
        if (const auto* t = node->as_table())
          read_groups(*t, doc);
        else
          diag_.error(loc_of(node->source()),
                      fmt::format("'groups' must be a table of groups ([groups.NAME]), not {}", type_name(*node)));
      } else {
        diag_.error(loc_of(key->source()),
                    fmt::format("unknown key '{}' (an inventory has [defaults], [hosts.NAME] and [groups.NAME]){}", k,
                                base::did_you_mean(k, top)));
      }
    }
    return doc;
  }

 private:
  void read_hosts(const toml::table& hosts, Document& doc) {
    for (const auto& [key, node] : in_file_order(hosts)) {
      const std::string name(key->str());
      const auto* t = node->as_table();
      if (!t) {
        diag_.error(loc_of(node->source()),
                    fmt::format("host '{}' must be a table, not {}: write [hosts.{}] and its settings below it", name,
                                type_name(*node), name));
        continue;
      }
      HostDecl decl;
      decl.name = Ref{name, loc_of(key->source()), text_loc_of(key->source(), name.size())};
      read_host(*t, decl);
      doc.hosts.push_back(std::move(decl));
    }
  }

  void read_host(const toml::table& t, HostDecl& decl) {
    const std::string what = fmt::format("host '{}'", decl.name.text);
    for (const auto& [key, node] : in_file_order(t)) {
      const std::string k(key->str());
      if (k == "address") {
        if (auto v = plain_string(k, *node, what)) decl.address = std::move(v);
      } else if (k == "jump") {
        read_jump(*node, decl, what);
      } else {
        read_entry(*key, *node, LayerKind::host, what, decl.layer);
      }
    }
  }

  void read_jump(const toml::node& node, HostDecl& decl, const std::string& what) {
    decl.jump_loc = loc_of(node.source());
    if (const auto* s = node.as_string()) {
      decl.jump.push_back(Ref{s->get(), loc_of(node.source()), text_loc_of(node.source(), s->get().size())});
      return;
    }
    const auto* a = node.as_array();
    if (!a) {
      diag_.error(decl.jump_loc, fmt::format("'jump' of {} must be a host name or a list of host names (outermost "
                                             "first), not {}",
                                             what, type_name(node)));
      return;
    }
    if (a->empty()) {
      diag_.error(decl.jump_loc, fmt::format("'jump' of {} is an empty list; remove it to connect directly", what));
      return;
    }
    std::vector<Ref> refs;
    for (const auto& e : *a) {
      if (const auto* s = e.as_string())
        refs.push_back(Ref{s->get(), loc_of(e.source()), text_loc_of(e.source(), s->get().size())});
      else
        diag_.error(loc_of(e.source()), fmt::format("'jump' of {} lists {}; it must list host names", what, type_name(e)));
    }
    if (refs.size() == a->size()) {
      decl.jump = std::move(refs);
      decl.jump_is_list = true;
    }
  }

  void read_groups(const toml::table& groups, Document& doc) {
    for (const auto& [key, node] : in_file_order(groups)) {
      const std::string name(key->str());
      Ref ref{name, loc_of(key->source()), text_loc_of(key->source(), name.size())};
      if (auto p = name_problem(name, "group")) {
        diag_.error(Loc{ref.text_loc.line, ref.text_loc.column + static_cast<int>(p->offset)}, p->message);
        continue;
      }
      const auto* t = node->as_table();
      if (!t) {
        diag_.error(loc_of(node->source()),
                    fmt::format("group '{}' must be a table, not {}: write [groups.{}] with hosts = [...]", name,
                                type_name(*node), name));
        continue;
      }
      GroupDecl g;
      g.name = std::move(ref);
      read_group(*t, g);
      doc.groups.push_back(std::move(g));
    }
  }

  void read_group(const toml::table& t, GroupDecl& g) {
    static const std::vector<std::string> keys = base::key_names(group_keys());  // setting_docs.h
    const std::string what = fmt::format("group '{}'", g.name.text);
    for (const auto& [key, node] : in_file_order(t)) {
      const std::string k(key->str());
      if (k == "hosts" || k == "children") g.lists_members = true;
      if (k == "hosts") {
        g.hosts = name_list(*node, fmt::format("'hosts' of {}", what), "host names");
      } else if (k == "children") {
        g.children = name_list(*node, fmt::format("'children' of {}", what), "group names");
      } else if (k == "vars") {
        if (const auto* vt = node->as_table())
          read_layer(*vt, LayerKind::group_vars, fmt::format("the vars of {}", what), g.vars);
        else
          diag_.error(loc_of(node->source()),
                      fmt::format("'vars' of {} must be a table (vars = {{ home = \"/srv/app\" }}), not {}", what,
                                  type_name(*node)));
      } else if (is_setting(k) || k == "address" || k == "jump") {
        diag_.error(loc_of(key->source()),
                    fmt::format("unknown key '{}' in {}: a group's settings go in its vars: vars = {{ {} = ... }}", k,
                                what, k));
      } else {
        diag_.error(loc_of(key->source()),
                    fmt::format("unknown key '{}' in {} (a group has hosts, children and vars){}", k, what,
                                base::did_you_mean(k, keys)));
      }
    }
  }

  std::vector<Ref> name_list(const toml::node& node, const std::string& what, std::string_view of) {
    std::vector<Ref> out;
    const auto* a = node.as_array();
    if (!a) {
      diag_.error(loc_of(node.source()), fmt::format("{} must be a list of {}, not {}", what, of, type_name(node)));
      return out;
    }
    for (const auto& e : *a) {
      if (const auto* s = e.as_string())
        out.push_back(Ref{s->get(), loc_of(e.source()), text_loc_of(e.source(), s->get().size())});
      else
        diag_.error(loc_of(e.source()), fmt::format("{} must list {}, not {}", what, of, type_name(e)));
    }
    return out;
  }

  void read_layer(const toml::table& t, LayerKind kind, const std::string& what, Layer& layer) {
    for (const auto& [key, node] : in_file_order(t)) {
      const std::string k(key->str());
      if (k == "address" || k == "jump") {
        diag_.error(loc_of(key->source()),
                    fmt::format("'{}' can only be set on a host ([hosts.NAME]), not in {}", k, what));
        continue;
      }
      read_entry(*key, *node, kind, what, layer);
    }
  }

  // A setting or a free-form var of a host, [defaults] or a group's vars.
  void read_entry(const toml::key& key, const toml::node& node, LayerKind kind, const std::string& what, Layer& layer) {
    const std::string k(key.str());
    const Loc at = loc_of(node.source());
    if (is_setting(k)) {
      if (auto v = read_setting(k, node, what)) layer.emplace(k, std::move(*v));
      return;
    }
    if (std::string meant = misspelt_setting(k); !meant.empty()) {
      diag_.error(loc_of(key.source()),
                  fmt::format("unknown key '{}' in {}; did you mean '{}'? (a free-form var may not look like a "
                              "setting: rename it)",
                              k, what, meant));
      return;
    }
    std::string text;
    if (const auto* s = node.as_string()) text = s->get();
    else if (const auto* i = node.as_integer()) text = std::to_string(i->get());
    else if (const auto* f = node.as_floating_point()) text = fmt::format("{}", f->get());
    else if (const auto* b = node.as_boolean()) text = b->get() ? "true" : "false";
    else {
      std::string hint = kind == LayerKind::host && node.is_table()
                             ? "; a host takes its vars directly: write key = value in its table"
                             : "";
      diag_.error(at, fmt::format("var '{}' of {} must be a string, number or boolean, not {}{}", k, what,
                                  type_name(node), hint));
      return;
    }
    layer.emplace(k, Value{std::move(text), at});
  }

  std::optional<Value> plain_string(const std::string& key, const toml::node& node, const std::string& what) {
    const Loc at = loc_of(node.source());
    const auto* s = node.as_string();
    if (!s) {
      diag_.error(at, fmt::format("'{}' of {} must be a string, not {}", key, what, type_name(node)));
      return std::nullopt;
    }
    const std::string& v = s->get();
    if (v.empty()) {
      diag_.error(at, fmt::format("'{}' of {} is empty", key, what));
      return std::nullopt;
    }
    char bad = 0;
    if (key != "server" && key != "home" && key != "identity" && key != "known_hosts" && key != "ssh_config" &&
        has_space_or_control(v, &bad)) {
      diag_.error(at, fmt::format("'{}' of {} contains {}: '{}'", key, what, bad == ' ' ? "a space" : "a control character", v));
      return std::nullopt;
    }
    return Value{v, at};
  }

  std::optional<Value> read_setting(const std::string& key, const toml::node& node, const std::string& what) {
    const Loc at = loc_of(node.source());
    if (key == "port") {
      const auto* i = node.as_integer();
      if (!i) {
        diag_.error(at, fmt::format("'port' of {} must be an integer from 1 to 65535, not {}", what, type_name(node)));
        return std::nullopt;
      }
      if (i->get() < 1 || i->get() > 65535) {
        diag_.error(at, fmt::format("'port' of {} is {}; it must be from 1 to 65535", what, i->get()));
        return std::nullopt;
      }
      return Value{std::to_string(i->get()), at};
    }
    if (key == "ssh_config") {
      if (const auto* b = node.as_boolean()) return Value{b->get() ? "true" : "false", at};
      if (!node.is_string()) {
        diag_.error(at, fmt::format("'ssh_config' of {} must be true, false or the path of an ssh config, not {}",
                                    what, type_name(node)));
        return std::nullopt;
      }
    }
    if (key == "server_install") {
      const auto* b = node.as_boolean();
      if (!b) {
        diag_.error(at, fmt::format("'server_install' of {} must be true or false, not {}", what, type_name(node)));
        return std::nullopt;
      }
      return Value{b->get() ? "true" : "false", at};
    }
    auto v = plain_string(key, node, what);
    if (!v) return v;
    if (key == "user" && v->text.find_first_of("@:") != std::string::npos) {
      diag_.error(at, fmt::format("'user' of {} is '{}': a user name has no '@' or ':'", what, v->text));
      return std::nullopt;
    }
    if (key == "identity" || key == "known_hosts" || key == "ssh_config") {
      std::string why;
      auto p = expand_path(v->text, ctx_, &why);
      if (!p) {
        diag_.error(at, fmt::format("'{}' of {} is '{}': {}", key, what, v->text, why));
        return std::nullopt;
      }
      v->text = std::move(*p);
    }
    if (key == "host_key_check") {
      static const std::vector<std::string> allowed{"strict", "accept-new", "off"};
      if (std::find(allowed.begin(), allowed.end(), v->text) == allowed.end()) {
        diag_.error(at, fmt::format("'host_key_check' of {} is \"{}\"; it must be \"strict\", \"accept-new\" or "
                                    "\"off\"{}",
                                    what, v->text, base::did_you_mean(v->text, allowed)));
        return std::nullopt;
      }
      if (v->text == "off")
        diag_.warning(at, fmt::format("host_key_check = \"off\" in {}: host keys are not checked at all (for tests "
                                      "only)",
                                      what));
    }
    if (key == "transport" && v->text != "ssh" && v->text != "local") {
      diag_.error(at, fmt::format("'transport' of {} is \"{}\"; it must be \"ssh\" or \"local\"{}", what, v->text,
                                  base::did_you_mean(v->text, {"ssh", "local"})));
      return std::nullopt;
    }
    return v;
  }

  const ReadContext& ctx_;
  Diagnostics& diag_;
};

}  // namespace

Document read_document(std::string_view text, const ReadContext& ctx, Diagnostics& diag) {
  return Reader(ctx, diag).read(text);
}

}  // namespace plugbox::inventory
