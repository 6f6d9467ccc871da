#include "orchestrator/service_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "base/suggest.h"
#include "orchestrator/service_keys.h"

namespace plugbox::orchestrator {

namespace {

using inventory::Diagnostic;
using inventory::SourcePos;

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void error(const toml::node* at, const std::string& path, const std::string& msg) {
    SourcePos pos{file_, 0, 0};
    if (at) pos = SourcePos{file_, int(at->source().begin.line), int(at->source().begin.column)};
    diags_.push_back(Diagnostic{pos, path.empty() ? msg : path + ": " + msg, false});
  }

  // Unknown keys are errors: a typo in a deploy file (say `helth`) would
  // otherwise silently deploy without a health check. `known` comes from
  // service_keys.h, the rows plugbox.toml(5) is generated from.
  void check_keys(const toml::table& t, const std::string& where, const std::vector<std::string>& known) {
    for (const auto& [k, v] : t) {
      std::string key(k.str());
      if (std::find(known.begin(), known.end(), key) == known.end())
        error(&v, where.empty() ? key : where + "." + key,
              "unknown key" + base::did_you_mean(key, known) + " (known: " + join(known) + ")");
    }
  }

  std::string string(const toml::table& t, const std::string& where, const char* key, bool required) {
    const toml::node* n = t.get(key);
    std::string path = where + "." + key;
    if (!n) {
      if (required) error(&t, path, "missing: set it in [" + where + "]");
      return "";
    }
    if (auto s = n->value<std::string>()) return *s;
    error(n, path, "must be a string");
    return "";
  }

  std::vector<std::string> strings(const toml::table& t, const std::string& where, const char* key) {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    std::string path = where + "." + key;
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) {
      error(n, path, "must be an array of strings, e.g. [\"make dist\"]");
      return out;
    }
    for (size_t i = 0; i < a->size(); ++i) {
      if (auto s = (*a)[i].value<std::string>()) {
        if (s->empty()) error(&(*a)[i], path + "[" + std::to_string(i) + "]", "is empty: remove it");
        out.push_back(*s);
      } else {
        error(&(*a)[i], path + "[" + std::to_string(i) + "]", "must be a string");
      }
    }
    return out;
  }

  bool boolean(const toml::table& t, const std::string& where, const char* key, bool def) {
    const toml::node* n = t.get(key);
    if (!n) return def;
    if (auto b = n->value_exact<bool>()) return *b;
    error(n, where + "." + key, std::string("must be true or false, e.g. ") + key + " = true");
    return def;
  }

  template <typename T>
  T number(const toml::table& t, const std::string& where, const char* key, T def, T min, T max) {
    const toml::node* n = t.get(key);
    std::string path = where + "." + key;
    if (!n) return def;
    std::optional<double> v;
    if (auto i = n->value_exact<int64_t>()) v = double(*i);
    else if (std::is_floating_point_v<T>) v = n->value_exact<double>();
    if (!v) {
      error(n, path, std::is_integral_v<T> ? "must be an integer" : "must be a number of seconds");
      return def;
    }
    // Written so that nan (which TOML allows) is out of every range.
    if (!(*v >= double(min) && *v <= double(max))) {
      std::ostringstream os;
      os << "must be between " << min << " and " << max;
      error(n, path, os.str());
      return def;
    }
    return T(*v);
  }

  std::vector<Diagnostic> take() { return std::move(diags_); }
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

 private:
  std::string file_;
  std::vector<Diagnostic> diags_;
};

}  // namespace

ServiceConfig ServiceConfig::parse(std::string_view text, const std::filesystem::path& file) {
  ServiceConfig c;
  c.file = file;
  c.source_dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::string fname = file.string();
  toml::table root;
  try {
    root = toml::parse(text, fname);
  } catch (const toml::parse_error& e) {
    throw inventory::InventoryError({Diagnostic{
        {fname, int(e.source().begin.line), int(e.source().begin.column)}, std::string(e.description()), false}});
  }
  Reader r(fname);
  r.check_keys(root, "", base::key_names(service_file_tables()));
  const toml::table* svc = root["service"].as_table();
  if (!svc) {
    r.error(root.get("service"), "service", "missing: plugbox.toml needs a [service] table with at least name");
  } else {
    r.check_keys(*svc, "service", base::key_names(service_keys()));
    c.name = r.string(*svc, "service", "name", true);
    static const std::regex kName("[a-z][a-z0-9_-]*");
    if (!c.name.empty() && !std::regex_match(c.name, kName))
      r.error(svc->get("name"), "service.name",
              "'" + c.name + "' is not a service name: use lowercase letters, digits, '-' and '_', starting with a letter");
    c.prepare = r.strings(*svc, "service", "prepare");
    if (svc->get("upload_version")) {
      c.upload_version = r.string(*svc, "service", "upload_version", true);
      if (c.upload_version->empty()) r.error(svc->get("upload_version"), "service.upload_version", "is empty: name the prepared directory, e.g. \"dist\"");
    }
    c.upload = r.strings(*svc, "service", "upload");
    if (c.upload_version && svc->get("upload"))
      r.error(svc->get("upload"), "service.upload", "set either upload_version (one directory becomes the version) or upload (paths copied into it), not both");
    else if (!c.upload_version && c.upload.empty())
      r.error(svc, "service", "nothing to upload: set upload_version = \"dist\" or upload = [\"bin\", ...]");
    for (const auto& p : c.upload)
      if (p.find_first_of("*?[") != std::string::npos)
        r.error(svc->get("upload"), "service.upload", "'" + p + "' looks like a glob; globs are not expanded: list the paths");
    c.exact_mtimes = r.boolean(*svc, "service", "exact_mtimes", false);
    c.post_upload = r.strings(*svc, "service", "post_upload");
    c.stop = r.strings(*svc, "service", "stop");
    c.start = r.strings(*svc, "service", "start");
    c.refresh = r.strings(*svc, "service", "refresh");
    c.health = r.string(*svc, "service", "health", false);
    // An empty line would mean "no health check" silently, where an empty
    // stop line is refused: say it, as for every other command.
    if (const toml::node* h = svc->get("health"); h && h->is_string() && c.health.find_first_not_of(" \t") == std::string::npos)
      r.error(h, "service.health", "is empty: remove the key for no health check, or give the command");
  }
  if (const toml::node* dn = root.get("deploy")) {
    const toml::table* d = dn->as_table();
    if (!d) {
      r.error(dn, "deploy", "must be a table: [deploy]");
    } else {
      r.check_keys(*d, "deploy", base::key_names(deploy_keys()));
      c.deploy.group = r.string(*d, "deploy", "group", false);
      if (const toml::node* g = d->get("group"))
        c.deploy.group_pos = SourcePos{fname, int(g->source().begin.line), int(g->source().begin.column)};
      if (const toml::node* bn = d->get("batches")) {
        const toml::array* a = bn->as_array();
        if (!a || a->empty()) {
          r.error(bn, "deploy.batches", "must be a non-empty array such as [1, \"10%\", \"100%\"]");
        } else {
          c.deploy.batches.clear();
          for (size_t i = 0; i < a->size(); ++i) {
            const toml::node& e = (*a)[i];
            std::string path = "deploy.batches[" + std::to_string(i) + "]";
            std::string text;
            if (auto n = e.value_exact<int64_t>()) text = std::to_string(*n);
            else if (auto s = e.value<std::string>()) text = *s;
            else {
              r.error(&e, path, "must be a number of hosts (1) or a percentage string (\"10%\")");
              continue;
            }
            BatchSize b;
            if (auto err = parse_batch_size(text, &b); !err.empty()) r.error(&e, path, err);
            else c.deploy.batches.push_back(b);
          }
        }
      }
      c.deploy.max_fail = r.number<int>(*d, "deploy", "max_fail", 0, 0, 1000000);
      c.deploy.keep = r.number<int>(*d, "deploy", "keep", 5, 2, 1000000);
      c.deploy.health_retries = r.number<int>(*d, "deploy", "health_retries", 10, 1, 10000);
      c.deploy.health_interval = r.number<double>(*d, "deploy", "health_interval", 2, 0, 3600);
      c.deploy.health_timeout = r.number<double>(*d, "deploy", "health_timeout", 10, 0.1, 3600);
      c.deploy.command_timeout = r.number<double>(*d, "deploy", "command_timeout", 300, 1, 86400);
      c.deploy.connect_timeout = r.number<double>(*d, "deploy", "connect_timeout", 30, 1, 3600);
      if (const toml::node* f = d->get("fan_out")) {
        const auto v = f->value<std::string>();
        if (v == "auto" || v == "off") c.deploy.fan_out = *v == "auto";
        else r.error(f, "deploy.fan_out", "must be \"auto\" or \"off\", e.g. fan_out = \"off\"");
      }
      c.deploy.fan_out_port = r.number<int>(*d, "deploy", "fan_out_port", 7447, 1, 65535);
    }
  }
  if (const toml::node* hn = root.get("hooks")) {
    const toml::table* hk = hn->as_table();
    if (!hk) {
      r.error(hn, "hooks", "must be a table: [hooks]");
    } else {
      r.check_keys(*hk, "hooks", base::key_names(hook_keys()));
      for (auto [key, field] : {std::pair{"before_deploy", &c.hooks.before_deploy}, std::pair{"after_deploy", &c.hooks.after_deploy},
                                std::pair{"on_failure", &c.hooks.on_failure}, std::pair{"after_rollback", &c.hooks.after_rollback}}) {
        *field = r.string(*hk, "hooks", key, false);
        // An empty line would run nothing and look like a hook that passed.
        if (const toml::node* n = hk->get(key); n && n->is_string() && field->find_first_not_of(" \t") == std::string::npos)
          r.error(n, std::string("hooks.") + key, "is empty: remove the key for no hook, or give the command");
      }
    }
  }
  auto diags = r.take();
  if (!diags.empty()) {
    std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
    throw inventory::InventoryError(std::move(diags));
  }
  return c;
}

ServiceConfig ServiceConfig::load(const std::filesystem::path& file) {
  // A FIFO would hang and /dev/zero read without end: only a regular file,
  // and a service file is never large.
  std::error_code ec;
  if (std::filesystem::exists(file, ec) && !std::filesystem::is_regular_file(file, ec))
    throw inventory::InventoryError({Diagnostic{
        {file.string(), 0, 0}, "is not a regular file: pass -f with the service's plugbox.toml", false}});
  if (std::filesystem::is_regular_file(file, ec) && std::filesystem::file_size(file, ec) > (1u << 20))
    throw inventory::InventoryError({Diagnostic{
        {file.string(), 0, 0}, "is larger than 1 MiB: this is not a service file; pass -f with the service's plugbox.toml", false}});
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw inventory::InventoryError({Diagnostic{
        {file.string(), 0, 0}, "cannot read the service file: run plugbox in the service's source tree or pass -f FILE", false}});
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file);
}

std::filesystem::path resolve_service_path(const std::optional<std::string>& cli_value) {
  return cli_value ? std::filesystem::path(*cli_value) : std::filesystem::path("plugbox.toml");
}

}  // namespace plugbox::orchestrator
