#include "inventory/host_table.h"

#include <fmt/format.h>

#include <map>

#include "inventory/range.h"

namespace plugbox::inventory {

HostTable expand_hosts(const Document& doc, Diagnostics& diag) {
  HostTable table;
  for (size_t d = 0; d < doc.hosts.size(); ++d) {
    const HostDecl& decl = doc.hosts[d];
    Expansion ex = expand_name(decl.name.text);
    if (ex.problem) {
      diag.error(Loc{decl.name.text_loc.line, decl.name.text_loc.column + static_cast<int>(ex.problem->offset)},
                 ex.problem->message);
      continue;
    }
    const bool templated = decl.address && decl.address->text.find("{}") != std::string::npos;
    if (templated && !ex.is_range)
      diag.error(decl.address->loc,
                 fmt::format("the address of host '{}' has '{{}}' but the host name has no range to number it, e.g. "
                             "[hosts.\"{}[1:3]\"]",
                             decl.name.text, decl.name.text));
    else if (decl.address && ex.is_range && !templated && ex.items.size() > 1)
      diag.warning(decl.address->loc, fmt::format("all {} hosts of '{}' get the same address '{}'; put {{}} where "
                                                  "the number goes",
                                                  ex.items.size(), decl.name.text, decl.address->text));
    if (auto home = decl.layer.find("home");
        home != decl.layer.end() && !ex.is_range && home->second.text.find("{}") != std::string::npos)
      diag.error(home->second.loc, fmt::format("the home of host '{}' has '{{}}' but the host name has no range to "
                                               "number it",
                                               decl.name.text));

    // Overlaps are reported once per pair of declarations, not once per host.
    struct Overlap {
      std::string first;
      size_t count = 0;
    };
    std::map<size_t, Overlap> overlaps;  // earlier declaration -> names declared again here
    for (auto& item : ex.items) {
      auto [it, fresh] = table.index.emplace(item.name, table.hosts.size());
      if (!fresh) {
        Overlap& o = overlaps[table.hosts[it->second].decl];
        if (o.count++ == 0) o.first = item.name;
        continue;
      }
      ExpandedHost h;
      h.address = decl.address ? (ex.is_range ? substitute_number(decl.address->text, item.number) : decl.address->text)
                               : item.name;
      h.name = std::move(item.name);
      h.number = std::move(item.number);
      h.decl = d;
      table.names.push_back(h.name);
      table.hosts.push_back(std::move(h));
    }
    for (const auto& [earlier, o] : overlaps) {
      const HostDecl& e = doc.hosts[earlier];
      std::string msg = fmt::format("host '{}'", o.first);
      if (o.count > 1) msg += fmt::format(" (and {} more)", o.count - 1);
      if (ex.is_range) msg += fmt::format(" of '{}'", decl.name.text);
      msg += " is already declared";
      if (e.name.text != o.first) msg += fmt::format(" by '{}'", e.name.text);
      msg += fmt::format(" at {}; each host is declared once", diag.where(e.name.loc));
      diag.error(decl.name.loc, msg);
    }
  }
  return table;
}

}  // namespace plugbox::inventory
