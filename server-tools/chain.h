// The version chain's mutating operations (docs/DESIGN.md §3). Each one checks
// everything it needs first and refuses (ServerError, nothing changed) or
// makes its changes in an order that survives kill -9 at any point. The log
// (oplog.h) gets the change's intent before it (when that cannot be written
// the operation refuses and changes nothing) and its outcome after it (when
// that cannot be written the change stands and warnings() says so; the exit
// status must not call a change that happened refused). Each takes a
// MutationGuard: it runs only under the oplock and the deploy lock (its own,
// or its owner's held elsewhere).
//
// Crash safety, per operation (a kill at any point leaves deploy/live on the
// old or the new version, every link naming an existing version; re-running
// the same command completes it):
// Below, "intent" and "log" are the two log lines.
//   next-version V  intent; mkdir V; V/previous -> live; record (staged); log.
//                   Killed early: V is a staged leftover (no record = staged),
//                   which gc or `remove V` clears.
//   seal V          intent; record rewritten (ready, size) by rename; log.
//   upgrade-to V    0. intent
//                   1. V/previous -> L (the live version), if not already
//                   2. L/next -> V, if not already
//                   3. live -> V (temporary link renamed over it, dir fsynced)
//                   4. log
//                   Killed before 3: live is still L and the two links say
//                   "V followed L", exactly the state an upgrade to V followed
//                   by a rollback to L leaves, so the chain is consistent; the
//                   re-run skips 1-2 and switches. Killed after 3: V is live,
//                   and the re-run sees "already live" and changes nothing.
//   rollback-to V   intent; live -> V; log. Links are history and stay as
//                   they are, so rolling back twice goes back two versions.
//   remove V        0. intent
//                   1. every link pointing at V re-pointed (its next's
//                   previous := V's previous, its previous's next := V's next,
//                   or removed when V has none)
//                   2. V's record deleted: V can no longer go live
//                   3. V renamed into .plugbox/trash (gone from deploy/ at once)
//                   4. the trash copy deleted; log.
//                   A half-deleted tree is never visible as a version.
// Every operation first (after its intent) sweeps .plugbox/tmp and .plugbox/trash of what killed
// commands left behind (safe: the oplock makes us the only writer there).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"

namespace plugbox::server {

// What one operation did, for the operator.
struct Outcome {
  bool changed = false;
  std::string message;                // one line
  std::vector<std::string> relinked;  // remove/gc: "W/previous -> ../X" or "W/next removed"
  std::vector<std::string> warnings;  // receive: see Chain::warnings()
};

struct NextVersionOptions {
  std::optional<std::string> name;  // default: the current UTC second
  std::optional<std::string> by;
  std::optional<std::string> source_rev;
};

// Why a provenance value (--by, --source-rev) is not acceptable, or nullopt.
std::optional<std::string> provenance_problem(const std::string& option, const std::string& value);

// Throws bad_input naming `what` unless `name` is a version name.
void require_version_name(const std::string& name, const std::string& what = "version name");

class Chain {
 public:
  Chain(Layout layout, Actor actor) : layout_(std::move(layout)), actor_(std::move(actor)) {}

  const Layout& layout() const { return layout_; }

  // Refuses (naming the fix) when V exists in deploy/ in any form, as
  // next_version does: for a caller that must check before it locks.
  void require_new_version(const std::string& v) const;
  // Creates deploy/V (staged) with V/previous -> the live version; returns V.
  std::string next_version(const MutationGuard&, const NextVersionOptions& opts);
  // staged -> ready, recording the tree's size. Ready already: no change.
  // `known_size`: the bytes of V's regular files when the caller knows them
  // (receive --seal has V's manifest); otherwise V's tree is walked.
  Outcome seal(const MutationGuard&, const std::string& v, std::optional<std::uint64_t> known_size = std::nullopt);
  Outcome upgrade_to(const MutationGuard&, const std::string& v);
  // nullopt: the live version's previous.
  Outcome rollback_to(const MutationGuard&, const std::optional<std::string>& v);
  // missing_ok: a version that does not exist is "nothing to do", not a refusal.
  Outcome remove(const MutationGuard&, const std::string& v, bool missing_ok = false);
  // Executes plan_gc(keep): one Outcome per version removed, then one for the
  // stale records dropped (if any).
  std::vector<Outcome> gc(const MutationGuard&, unsigned keep);

  // One line each: changes made whose outcome could not be logged. The
  // command still succeeds; the CLI prints these on stderr.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  void sweep_leftovers();
  // Steps 1-4 of remove (the caller checked V is not live). Returns the relinks.
  std::vector<std::string> splice_and_delete(const std::string& v);
  // Appends the intent of a change (refusing if it cannot be written).
  LoggedChange intend(const std::string& command, std::vector<std::string> versions, nlohmann::json detail);
  void note(std::optional<std::string> warning);

  Layout layout_;
  Actor actor_;
  std::vector<std::string> warnings_;
};

}  // namespace plugbox::server
