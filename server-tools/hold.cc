#include "server-tools/hold.h"

#include <nlohmann/json.hpp>

#include "base/age_text.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace plugbox::server {

std::string MaintenanceHold::to_json_text() const {
  return nlohmann::json{{"owner", owner}, {"host", host}, {"since", since}, {"message", message}}.dump() + "\n";
}

std::optional<MaintenanceHold> MaintenanceHold::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  MaintenanceHold h;
  for (auto [key, field] : {std::pair{"owner", &h.owner}, {"host", &h.host}, {"since", &h.since}, {"message", &h.message}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    *field = *it;
  }
  if (h.owner.empty()) return std::nullopt;
  return h;
}

HoldLookup read_hold(const Layout& layout) {
  HoldLookup out;
  const auto p = layout.hold();
  if (kind_of(p) == FileKind::absent) return out;
  out.kind = HoldLookup::Kind::unreadable;
  std::string text;
  try {
    text = read_file(p);
  } catch (const ServerError& e) {
    out.problem = "the maintenance lock " + p.string() + " cannot be read (" + e.what() + ")";
    return out;
  }
  out.hold = MaintenanceHold::from_json(text);
  if (!out.hold) {
    out.problem = "the maintenance lock " + p.string() + " is not a hold record (not JSON with owner, host, since "
                  "and message)";
    return out;
  }
  out.kind = HoldLookup::Kind::held;
  return out;
}

std::optional<long long> held_seconds(const std::string& since, std::chrono::system_clock::time_point now) {
  const auto t = parse_utc_timestamp(since);
  if (!t) return std::nullopt;
  return std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(now - *t).count());
}

std::string held_for(const std::string& since, std::chrono::system_clock::time_point now) {
  const auto secs = held_seconds(since, now);
  if (!secs) return "?";
  return base::age_text(*secs);
}

std::optional<std::string> hold_refusal(const HoldLookup& lookup, std::chrono::system_clock::time_point now) {
  switch (lookup.kind) {
    case HoldLookup::Kind::absent:
      return std::nullopt;
    case HoldLookup::Kind::unreadable:
      return lookup.problem + ", so this home stays locked: `plugbox fleet unlock --force` removes it";
    case HoldLookup::Kind::held:
      break;
  }
  const MaintenanceHold& h = *lookup.hold;
  return "locked for maintenance by " + h.owner + " for " + held_for(h.since, now) + ": '" + h.message +
         "'; `plugbox fleet unlock` ends it (--force for someone else's)";
}

namespace {

// The oplock and the deploy lock, as every changing command takes them, but
// past the hold: these two commands change the hold itself.
MutationGuard guard_for_hold(const Layout& layout, const LockRequest& req) {
  LockRequest past = req;
  past.past_hold = true;
  return acquire_for_mutation(layout, past);
}

}  // namespace

HoldResult place_hold(const Layout& layout, const LockRequest& req, const Actor& actor, const std::string& message) {
  MutationGuard guard = guard_for_hold(layout, req);
  const auto now = std::chrono::system_clock::now();
  const HoldLookup current = read_hold(layout);
  HoldResult out;
  if (current.kind == HoldLookup::Kind::unreadable || (current.hold && current.hold->owner != req.owner))
    refuse(*hold_refusal(current, now));
  out.renewed = current.kind == HoldLookup::Kind::held;
  const LockHolder me = this_process_holder(req.owner);
  out.hold = MaintenanceHold{req.owner, me.host, out.renewed ? current.hold->since : me.since, message};
  LoggedChange change(layout.log(), actor, LogEntry{"hold", {}, {{"message", message}}});
  change.run([&] { write_file_atomic(layout.hold(), out.hold.to_json_text(), layout.tmp()); });
  if (auto w = change.done({{"message", message}, {"renewed", out.renewed}})) out.warnings.push_back(*w);
  return out;
}

std::optional<ReleaseResult> release_hold(const Layout& layout, const LockRequest& req, const Actor& actor,
                                          bool force) {
  MutationGuard guard = guard_for_hold(layout, req);
  const HoldLookup current = read_hold(layout);
  if (current.kind == HoldLookup::Kind::absent) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  if (!force && current.kind == HoldLookup::Kind::unreadable)
    refuse(current.problem + ": `plugbox fleet unlock --force` removes it");
  if (!force && current.hold->owner != req.owner)
    refuse("locked for maintenance by " + current.hold->owner + " for " + held_for(current.hold->since, now) +
           ": '" + current.hold->message + "', not by " + req.owner +
           ": only its holder unlocks it; `plugbox fleet unlock --force` ends someone else's");
  ReleaseResult out;
  if (current.hold) {
    out.released = *current.hold;
  } else {
    out.released.owner = "(unreadable)";
  }
  LoggedChange change(layout.log(), actor,
                      LogEntry{"release", {}, {{"owner", out.released.owner}, {"force", force}}});
  change.run([&] { remove_file(layout.hold()); });
  if (auto w = change.done({{"owner", out.released.owner}, {"message", out.released.message},
                            {"since", out.released.since}, {"force", force}}))
    out.warnings.push_back(*w);
  return out;
}

}  // namespace plugbox::server
