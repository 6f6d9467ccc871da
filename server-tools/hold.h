// The maintenance hold: `plugbox fleet lock --message TEXT` (the server's
// `hold`) keeps every changing command off a home until `plugbox fleet
// unlock` (`release`), recording who, when and why.
//
// Unlike the deploy lock (lock.h), which lives as long as its holder's
// process, the hold is a file, deploy/.plugbox/hold (one JSON object,
// written atomically): a maintenance window outlives the command that opened
// it, its session and a reboot. It is written and removed under the oplock
// and the deploy lock, so `hold` is refused, naming the holder, while a
// deploy or a switch transaction runs, and no changing command can begin
// half-way through it. While it exists every changing command and `lock`
// are refused at once (--wait does not wait for it: a window lasts until
// someone ends it) with one line: who, for how long, why, and how to end it.
// Readers (status, verify, gc --dry-run) are not held off.
//
// A hold file that cannot be read holds the home all the same (a changing
// command that guessed "free" could break into a window): status reports it
// as unreadable and `release --force` removes it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"

namespace plugbox::server {

struct MaintenanceHold {
  std::string owner;    // who holds it: the client's user@machine (--owner)
  std::string host;     // where `hold` ran
  std::string since;    // utc_timestamp of when it was first placed
  std::string message;  // why
  std::string to_json_text() const;
  static std::optional<MaintenanceHold> from_json(const std::string& text);
};

// What deploy/.plugbox/hold says now.
struct HoldLookup {
  enum class Kind { absent, held, unreadable } kind = Kind::absent;
  std::optional<MaintenanceHold> hold;  // when held
  std::string problem;                  // when unreadable: one line naming the file
};
HoldLookup read_hold(const Layout& layout);

// How many seconds ago `since` was (0 for a moment ahead of `now`: a host
// clock set back); nullopt when `since` is not a utc_timestamp.
std::optional<long long> held_seconds(const std::string& since, std::chrono::system_clock::time_point now);
// The same for people: "45s", "12m", "2h13m", "3d4h"; "?"
// when `since` is not a utc_timestamp.
std::string held_for(const std::string& since, std::chrono::system_clock::time_point now);

// The one line a command refused by the hold prints (nullopt: no hold).
// "the home is locked for maintenance by alice@laptop for 2h13m: 'db
// migration'; `plugbox fleet unlock` ends it (its holder's; --force for
// someone else's)"
std::optional<std::string> hold_refusal(const HoldLookup& lookup, std::chrono::system_clock::time_point now);

// `hold`: places the hold for req.owner with `message`, or, when req.owner
// already holds it, replaces its message (keeping its since). Refused when
// someone else holds it, when its file is unreadable, and, naming the holder,
// while the deploy lock or a switch transaction is held. Logged.
struct HoldResult {
  MaintenanceHold hold;
  bool renewed = false;  // req.owner held it already
  std::vector<std::string> warnings;
};
HoldResult place_hold(const Layout& layout, const LockRequest& req, const Actor& actor, const std::string& message);

// `release`: removes the hold. Someone else's, or an unreadable one, only
// with `force`. No hold is not an error (nullopt: there was none). Logged.
struct ReleaseResult {
  MaintenanceHold released;  // what the file said (owner "(unreadable)" when it could not be read)
  std::vector<std::string> warnings;
};
std::optional<ReleaseResult> release_hold(const Layout& layout, const LockRequest& req, const Actor& actor,
                                          bool force);

}  // namespace plugbox::server
