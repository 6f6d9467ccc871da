#include "server-tools/status.h"

#include <algorithm>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"

namespace plugbox::server {

namespace {

nlohmann::json opt(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json link_json(const ChainLink& l) { return l.ok() ? nlohmann::json(l.target) : nlohmann::json(nullptr); }

}  // namespace

StatusReport collect_status(const Layout& layout) {
  if (never_deployed(layout)) {
    StatusReport fresh;
    fresh.home = layout.home.string();
    fresh.initialised = false;
    return fresh;
  }
  std::optional<Flock> op;
  if (kind_of(layout.oplock()) != FileKind::absent)
    op = Flock::acquire(layout.oplock(), Flock::Mode::shared, /*create=*/false);
  StatusReport r;
  r.home = layout.home.string();
  r.chain = scan_chain(layout);
  r.lock = probe_deploy_lock(layout);
  for (const auto& [name, v] : r.chain.versions) {
    std::optional<std::uint64_t> size;
    if (v.record.kind == RecordLookup::Kind::ok && v.state() == VersionState::ready)
      size = v.record.record->size_bytes;
    if (!size) {
      try {
        size = tree_size(layout.version_dir(name));
      } catch (const ServerError&) {
        // Unreadable tree: reported as an unknown size rather than failing status.
      }
    }
    r.sizes[name] = size;
  }
  return r;
}

nlohmann::json status_json(const StatusReport& r) {
  const auto live = r.chain.live_name();
  nlohmann::json prev = nullptr;
  if (live)
    if (const VersionView* lv = r.chain.find(*live)) prev = link_json(lv->previous);
  nlohmann::json versions = nlohmann::json::array();
  for (auto it = r.chain.versions.rbegin(); it != r.chain.versions.rend(); ++it) {
    const VersionView& v = it->second;
    const VersionRecord* rec = v.record.kind == RecordLookup::Kind::ok ? &*v.record.record : nullptr;
    auto size = r.sizes.find(v.name);
    versions.push_back({
        {"name", v.name},
        {"state", to_string(v.state())},
        {"created", rec && !rec->created.empty() ? nlohmann::json(rec->created) : nlohmann::json(nullptr)},
        {"by", rec ? opt(rec->by) : nullptr},
        {"source_rev", rec ? opt(rec->source_rev) : nullptr},
        {"size_bytes", size != r.sizes.end() && size->second ? nlohmann::json(*size->second)
                                                              : nlohmann::json(nullptr)},
        {"manifest_digest", rec ? opt(rec->manifest_digest) : nullptr},
        {"previous", link_json(v.previous)},
        {"next", link_json(v.next)},
        {"is_live", live == v.name},
        {"problems", v.problems()},
    });
  }
  nlohmann::json lock = nullptr;
  if (r.lock)
    lock = {{"owner", r.lock->owner}, {"host", r.lock->host}, {"pid", r.lock->pid}, {"since", r.lock->since}};
  return {{"schema", 1},
          {"home", r.home},
          {"live", opt(live)},
          {"previous", prev},
          {"chain", r.chain.chain_from_live()},
          {"versions", versions},
          {"lock", lock},
          {"problems", r.chain.problems()},
          {"initialised", r.initialised}};
}

std::string status_text(const StatusReport& r) {
  if (!r.initialised) return r.home + ": nothing was deployed here yet (no deploy/.plugbox/)\n";
  std::string out;
  const auto live = r.chain.live_name();
  out += "home:  " + r.home + "\n";
  out += "live:  " + live.value_or(r.chain.live.kind == ChainLink::Kind::broken ? "(broken)" : "(none)");
  if (live)
    if (const VersionView* lv = r.chain.find(*live); lv && lv->previous.ok())
      out += "  (previous " + lv->previous.target + ")";
  out += "\n";
  out += "lock:  " + (r.lock ? "held by " + r.lock->describe() : std::string("free")) + "\n";
  if (r.chain.versions.empty()) {
    out += "versions: none\n";
  } else {
    out += "versions (newest first):\n";
    for (auto it = r.chain.versions.rbegin(); it != r.chain.versions.rend(); ++it) {
      const VersionView& v = it->second;
      const VersionRecord* rec = v.record.kind == RecordLookup::Kind::ok ? &*v.record.record : nullptr;
      auto size = r.sizes.find(v.name);
      std::string state = to_string(v.state());
      state.resize(std::max<std::size_t>(state.size(), 6), ' ');
      std::string line = std::string("  ") + (live == v.name ? '*' : ' ') + " " + v.name + " " + state;
      line += "  " + (size != r.sizes.end() && size->second ? std::to_string(*size->second) + " bytes" : std::string("? bytes"));
      if (v.previous.ok()) line += "  previous " + v.previous.target;
      if (v.next.ok()) line += "  next " + v.next.target;
      if (rec) {
        if (!rec->created.empty()) line += "  created " + rec->created;
        if (rec->by) line += "  by " + *rec->by;
        if (rec->source_rev) line += "  rev " + *rec->source_rev;
      }
      out += line + "\n";
    }
  }
  for (const auto& p : r.chain.problems()) out += "problem: " + p + "\n";
  if (!r.chain.strays.empty()) {
    out += "other entries in deploy/ (left alone):";
    for (const auto& s : r.chain.strays) out += " " + s;
    out += "\n";
  }
  return out;
}

}  // namespace plugbox::server
