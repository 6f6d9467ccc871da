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
  r.record = read_host_record(layout, &r.record_problem);
  r.txn = probe_txn_lock(layout);
  r.hold = read_hold(layout);
  r.read_at = std::chrono::system_clock::now();
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

std::string StatusReport::transaction_state() const {
  if (!record || (record->state != "switching" && record->state != "undoing")) return "";
  // The record says a transaction began; only its process's txn lock says
  // it is still going (a host reboot or a kill -9 of it ends both).
  return txn ? "running" : "interrupted";
}

std::vector<std::string> StatusReport::problems() const {
  std::vector<std::string> out = chain.problems();
  if (!record_problem.empty()) out.push_back(record_problem);
  if (hold.kind == HoldLookup::Kind::unreadable)
    out.push_back(hold.problem + ": the home stays locked until `plugbox fleet unlock --force` removes it");
  if (transaction_state() == "interrupted") {
    std::string step;
    for (const auto& st : record->steps)
      if (st.state == "running") step = st.name;
    out.push_back("the " + record->txn + " of run " + record->run + " was interrupted" +
                  (step.empty() ? "" : " during its " + step + " step") +
                  ": run `plugbox fleet rollback` to put the host back");
  } else if (record && record->service_stopped && transaction_state().empty()) {
    out.push_back("run " + record->run + " left the service stopped (its " + record->txn +
                  " did not start it again): run `plugbox fleet rollback`, or start it by hand");
  }
  return out;
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
  nlohmann::json transaction = nullptr;
  if (std::string ts = r.transaction_state(); !ts.empty()) {
    std::string step;
    for (const auto& st : r.record->steps)
      if (st.state == "running") step = st.name;
    transaction = {{"state", ts}, {"run", r.record->run}, {"txn", r.record->txn},
                   {"step", step.empty() ? nlohmann::json(nullptr) : nlohmann::json(step)}};
  }
  nlohmann::json lock = nullptr;
  if (r.lock)
    lock = {{"owner", r.lock->owner}, {"host", r.lock->host}, {"pid", r.lock->pid}, {"since", r.lock->since}};
  nlohmann::json hold = nullptr;
  if (r.hold.kind == HoldLookup::Kind::held) {
    const MaintenanceHold& h = *r.hold.hold;
    const auto secs = held_seconds(h.since, r.read_at);
    hold = {{"owner", h.owner},     {"host", h.host},         {"since", h.since},
            {"message", h.message}, {"problem", nullptr},
            {"held_s", secs ? nlohmann::json(*secs) : nlohmann::json(nullptr)}};
  } else if (r.hold.kind == HoldLookup::Kind::unreadable) {
    hold = {{"owner", nullptr}, {"host", nullptr}, {"since", nullptr}, {"message", nullptr},
            {"held_s", nullptr}, {"problem", r.hold.problem}};
  }
  return {{"schema", 1},
          {"home", r.home},
          {"live", opt(live)},
          {"previous", prev},
          {"chain", r.chain.chain_from_live()},
          {"versions", versions},
          {"lock", lock},
          {"hold", hold},
          {"problems", r.problems()},
          {"initialised", r.initialised},
          {"run", r.record ? r.record->to_json() : nlohmann::json(nullptr)},
          {"transaction", transaction},
          {"service_stopped", r.record && r.record->service_stopped}};
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
  if (r.hold.kind == HoldLookup::Kind::held)
    out += "maintenance: locked by " + r.hold.hold->owner + " (on " + r.hold.hold->host + ") since " +
           r.hold.hold->since + ", " + held_for(r.hold.hold->since, r.read_at) + ": '" + r.hold.hold->message + "'\n";
  else if (r.hold.kind == HoldLookup::Kind::unreadable)
    out += "maintenance: locked (unreadable: see the problem below)\n";
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
  if (r.record)
    out += "last run: " + r.record->run + " (" + r.record->kind + ", " + r.record->state + ", " +
           (r.record->from.empty() ? std::string("nothing") : r.record->from) + " -> " + r.record->to +
           (r.record->service_stopped ? ", service left stopped" : "") + ")\n";
  if (std::string ts = r.transaction_state(); !ts.empty()) out += "transaction: " + r.record->txn + " " + ts + "\n";
  for (const auto& p : r.problems()) out += "problem: " + p + "\n";
  if (!r.chain.strays.empty()) {
    out += "other entries in deploy/ (left alone):";
    for (const auto& s : r.chain.strays) out += " " + s;
    out += "\n";
  }
  return out;
}

}  // namespace plugbox::server
