// The two locks of a service home.
//
//  deploy lock  flock(2) on deploy/.plugbox/lock. Held for a whole fleet deploy
//               by `plugbox-server lock --owner ID` (which writes who holds it
//               into the file), or for one command by a mutating command that
//               finds it free. A mutating command that finds it held proceeds
//               only if it was given the holder's owner id: that is how the
//               orchestrator runs commands "under its held lock" on other
//               channels. Otherwise it fails naming the holder, or polls until
//               --wait runs out.
//  oplock       flock(2) on deploy/.plugbox/oplock, taken exclusively (and
//               blocking) by every mutating command for its whole run and by
//               `lock` while it acquires, shared by readers (status, verify).
//               Two commands of the same owner never interleave, readers see
//               no half-done command, and the probe a reader makes of the
//               deploy lock can never make a concurrent command see it "held".
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "server-tools/fs_ops.h"
#include "server-tools/layout.h"

namespace plugbox::server {

// Who holds the deploy lock, as written into the lock file by its holder.
struct LockHolder {
  std::string owner;
  std::string host;
  long pid = 0;
  std::string since;  // utc_timestamp
  std::string describe() const;  // "owner 'X' (host h, pid 12, since T)"
  std::string to_json_line() const;
  static std::optional<LockHolder> from_json(const std::string& text);
};

// flock(2) on one open file, released when destroyed.
class Flock {
 public:
  enum class Mode { shared, exclusive };
  // Blocks until the lock is had. `create`: make the file if missing.
  static Flock acquire(const std::filesystem::path& p, Mode mode, bool create = true);
  // nullopt when someone else holds a conflicting lock.
  static std::optional<Flock> try_acquire(const std::filesystem::path& p, Mode mode,
                                          bool create = true);
  int fd() const { return fd_.get(); }

 private:
  explicit Flock(base::UniqueFd fd) : fd_(std::move(fd)) {}
  base::UniqueFd fd_;
};

struct LockRequest {
  std::string owner;  // empty: none given
  std::chrono::milliseconds wait{0};
  // Set only by a switch transaction's own steps: they run while its txn
  // lock is held, which refuses every other changing command.
  bool in_txn = false;
  // Set only by `hold` and `release` (hold.h), which change the maintenance
  // hold itself: every other changing command is refused while it exists.
  bool past_hold = false;
};

// Held by a mutating command for its whole run (see top of file). Its
// existence is the proof the chain's mutating operations ask for.
class MutationGuard {
 public:
  // True when the command runs under a deploy lock its owner holds elsewhere.
  bool under_held_lock() const { return !deploy_; }
  // The holder whose lock we run under (under_held_lock()).
  const std::optional<LockHolder>& holder() const { return holder_; }

 private:
  friend MutationGuard acquire_for_mutation(const Layout&, const LockRequest&);
  MutationGuard(Flock oplock, std::optional<Flock> deploy, std::optional<LockHolder> holder)
      : oplock_(std::move(oplock)), deploy_(std::move(deploy)), holder_(std::move(holder)) {}
  Flock oplock_;
  std::optional<Flock> deploy_;
  std::optional<LockHolder> holder_;
};

// Takes the oplock (blocking) and the deploy lock, or passes when the deploy
// lock's holder has req.owner. Throws a refusal naming the holder when the
// wait runs out, and at once while a maintenance hold (hold.h) is in place.
MutationGuard acquire_for_mutation(const Layout& layout, const LockRequest& req);

// What `plugbox-server lock` holds: the deploy lock, with our holder info in
// the file. Destroying it clears the info, then releases the lock.
class HeldLock {
 public:
  HeldLock(HeldLock&&) = default;
  HeldLock& operator=(HeldLock&&) = delete;
  ~HeldLock();
  const LockHolder& holder() const { return holder_; }

 private:
  friend HeldLock acquire_deploy_lock(const Layout&, const LockRequest&);
  friend std::optional<HeldLock> take_txn_lock(const Layout&, const MutationGuard&, const std::string&);
  HeldLock(Flock f, LockHolder h) : lock_(std::move(f)), holder_(std::move(h)) {}
  std::optional<Flock> lock_;
  LockHolder holder_;
};

// Takes the deploy lock for req.owner (which must not be empty). Refuses,
// naming the holder, when someone holds it, even the same owner: two lock
// processes must never both believe they hold it; and at once while a
// maintenance hold (hold.h) is in place.
HeldLock acquire_deploy_lock(const Layout& layout, const LockRequest& req);

// The txn lock (deploy/.plugbox/txn.lock): held by a switch transaction
// (switch_txn.h) from its first step to its last, and inherited by the
// process that finishes it when its client is gone. While it is held every
// other changing command, and `lock`, is refused naming it: the deploy lock
// alone would be released when the client dies, mid-switch. Taken under the
// caller's mutation guard; nullopt when another transaction holds it.
std::optional<HeldLock> take_txn_lock(const Layout& layout, const MutationGuard& guard, const std::string& owner);
// Who runs a switch transaction here now (nullopt: none).
std::optional<LockHolder> probe_txn_lock(const Layout& layout);
// The deploy lock for the whole run of a command that changes the home over a
// long time without blocking readers (receive: an upload may take minutes,
// and `status` must not wait for it). It takes the deploy lock but not the
// oplock; each step then takes acquire_for_mutation(layout, steps), which
// passes under this lock and serialises the step with other commands.
//  - req.owner holds the lock elsewhere (a deploy's `lock`): `held` is empty
//    and the command runs under that lock, as before.
//  - otherwise the lock is taken (waiting up to req.wait) for req.owner, or,
//    when none was given, for `fallback_owner`; its holder info is written,
//    so `status` and a refused command name it. Held until destroyed.
struct CommandLock {
  std::optional<HeldLock> held;
  LockRequest steps;  // what each step passes to acquire_for_mutation
};
CommandLock hold_deploy_lock_for_command(const Layout& layout, const LockRequest& req,
                                         const std::string& fallback_owner);

// Who holds the deploy lock now (nullopt: free). The caller holds the oplock
// (shared is enough), so the probe cannot disturb a command that acquires.
// A holder that wrote no info is reported with owner "(unknown)".
std::optional<LockHolder> probe_deploy_lock(const Layout& layout);

// The holder line of this process for `owner`.
LockHolder this_process_holder(std::string owner);

// Why `owner` cannot be an owner id, or nullopt.
std::optional<std::string> owner_problem(const std::string& owner);

}  // namespace plugbox::server
