// One host during a fleet command: its session (through its jump chain), the
// deploy lock held on a channel of its own for the whole run, and every
// command run on it, journaled with its output. Each fleet command (deploy,
// rollback, gc, status) drives hosts through this one piece.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "transport/stdin_pipe.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

class HostConn {
 public:
  HostConn(transport::Transport& transport, const PlannedHost& plan, Journal& journal);
  ~HostConn();

  const PlannedHost& plan() const { return plan_; }
  const std::string& name() const { return plan_.name; }
  bool connected() const { return session_ != nullptr; }
  // The last failure, one line ("web01: stage: next-version: exit 1: ...").
  const std::string& error() const { return error_; }
  void set_error(std::string e) { error_ = std::move(e); }

  transport::Awaitable<bool> open(double timeout_s);
  // Runs one command, journaled. A failure (error or non-zero exit) sets error().
  transport::Awaitable<transport::ExecResult> run(const std::string& step, transport::Command cmd, double timeout_s,
                                                  std::optional<std::string> stdin_data = std::nullopt);
  // A plugbox-server subcommand under this run's lock owner.
  transport::Awaitable<transport::ExecResult> server(const std::string& step, std::vector<std::string> args,
                                                     double timeout_s);
  // `plugbox-server status --json`, parsed; nullopt (and error()) on failure.
  // A home with no layout yet (nothing ever deployed there) is not a
  // failure: its status has no live version and no versions.
  transport::Awaitable<std::optional<nlohmann::json>> status(double timeout_s);
  // Whether the home holds a plugbox layout (deploy/.plugbox/versions/);
  // nullopt (and error()) when that could not be found out.
  transport::Awaitable<std::optional<bool>> has_layout(double timeout_s);
  // Starts `plugbox-server lock --owner OWNER` on its own channel and waits
  // until it holds the lock. False (error() names the holder) if refused.
  transport::Awaitable<bool> lock(double timeout_s);
  // The lock was held and its holder on the host ended without our letting
  // go: from then on only read-only probes run here (run() refuses the rest).
  bool lock_lost() const;
  // Lets go of the lock (EOF on its stdin) and closes the session.
  transport::Awaitable<void> release();
  transport::Session* session() { return session_.get(); }

 struct LockState;  // the lock command's channel (public for the coroutine that holds it)

 private:
  transport::Transport& transport_;
  const PlannedHost& plan_;
  Journal& journal_;
  std::shared_ptr<transport::Session> session_;
  std::shared_ptr<LockState> lock_;
  std::string error_;
};

// The status of a home nothing was ever deployed to (no layout): nothing
// live, no versions.
nlohmann::json status_of_fresh_home(const std::string& home);

// "first line of stderr", else "first line of stdout", else the result.
std::string describe_failure(const transport::ExecResult& r);

}  // namespace plugbox::orchestrator
