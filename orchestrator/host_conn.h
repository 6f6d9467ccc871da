// One host during a fleet command, and the executor's only way to it: its
// session (through its jump chain), the deploy lock held on a channel of its
// own for the whole run, and every step run there, journaled with its output.
// Deploy, rollback, gc and status all drive hosts through this one piece.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/fleet_context.h"
#include "orchestrator/host_status.h"
#include "orchestrator/host_upload.h"
#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "orchestrator/server_install.h"
#include "orchestrator/step.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

// The outcome of a step list (HostConn::run_steps, run_txn).
struct StepsResult {
  bool ok = true;         // every step whose failure is not tolerated succeeded
  std::size_t begun = 0;  // steps sent to the host, a failing last one included
  std::vector<std::string> tolerated;  // the tolerated failures, one line each
  // False when the host's last word never came (the connection went): the
  // transaction may still be running there, and `begun` counts every step.
  bool settled = true;
  // A transaction's steps within `begun` that the host did not run (their
  // intent could not be recorded, or an earlier step failed, and only a start
  // of the stopped service ran after them), and the step that failed.
  std::vector<std::size_t> skipped;
  std::optional<std::size_t> failed_at;
  // Whether step i of a `count`-step list succeeded, as far as the host's
  // replies tell: when they are missing, a later step begun says it did.
  bool succeeded(std::size_t i, std::size_t count) const;
  // Whether the list's live switch (its upgrade-to / rollback-to step)
  // succeeded; true for a list without one (an undo that only starts).
  bool switched_live(const Steps& steps) const;
};

// A step list sent to the host as one transaction (plugbox-server switch):
// the host records it and runs it to its end whatever happens to us.
struct TxnSpec {
  std::string run;   // the run id: a deploy's version, or a rollback's id
  std::string kind;  // "deploy" | "rollback"
  std::string txn;   // "switch" | "undo"
  std::string from, to;
  Steps steps;
};

class HostConn {
 public:
  HostConn(transport::Transport& transport, const PlannedHost& plan, Journal& journal);
  ~HostConn();
  HostConn(const HostConn&) = delete;
  HostConn& operator=(const HostConn&) = delete;

  const PlannedHost& plan() const { return plan_; }
  const HostContext& ctx() const { return plan_.ctx; }
  const std::string& name() const { return plan_.name; }
  bool connected() const { return session_ != nullptr; }
  // The last failure, one line ("upgrade-to: exit 1: ...").
  const std::string& error() const { return error_; }
  void set_error(std::string e) { error_ = std::move(e); }

  // What open() may do about the host's server (server_install.h).
  enum class OpenMode {
    run,        // install plugbox's own where the plan says plugbox may (server_install)
    bootstrap,  // `fleet bootstrap`: install it whatever server_install says; learn the architecture
    dry_run,    // install nothing: a dry run changes no host
  };
  // Connects, checks the host's plugbox-server in the command it runs first
  // (the session), and installs it as `mode` allows. False, with error(),
  // when the host cannot be reached (connected() false) or its server cannot
  // be made to run (connected()).
  transport::Awaitable<bool> open(double timeout_s, OpenMode mode = OpenMode::run);
  // What open() found of the host's server (the action is empty when it was
  // not checked: a pinned server on a run that is not a bootstrap).
  const ServerReport& server_report() const { return server_; }
  // Runs one step, journaled, with `input` on its stdin if given. A failure
  // (error or non-zero exit) sets error(). Once the lock is lost only
  // read-only steps run.
  // (Two overloads, not a default argument: g++ 12 destroys a default
  // argument's temporary twice in a co_await expression.)
  transport::Awaitable<transport::ExecResult> run(const Step& step);
  transport::Awaitable<transport::ExecResult> run(const Step& step, transport::StdinSource input);
  // Runs the steps in order, each journaled, up to the first failure that
  // is not tolerated.
  transport::Awaitable<StepsResult> run_steps(const Steps& steps);
  // Runs the spec's steps as one transaction on the host; each step's result
  // is journaled as it arrives.
  transport::Awaitable<StepsResult> run_txn(const TxnSpec& spec);
  // `plugbox-server status --json`, parsed; nullopt (and error()) on failure.
  transport::Awaitable<std::optional<HostStatus>> status(double timeout_s);
  // Starts `plugbox-server lock` on its own channel and waits until it holds
  // the lock. False (error() names the holder) if refused.
  // `wait_s`: how long the host may wait for a holder, or a switch
  // transaction still running there, to finish first.
  transport::Awaitable<bool> lock(double timeout_s, int wait_s = 0);
  // The lock was held and its holder on the host ended without our letting
  // go: from then on only read-only steps run here.
  bool lock_lost() const;
  // `receive V FLAGS` with the upload stream, on its own channel, under the
  // lock (refused, nothing sent, once it is lost). Journaled.
  transport::Awaitable<HostUploadResult> upload(const std::string& version, const upload::Manifest& manifest,
                                                const upload::BlobStore& blobs, double timeout_s,
                                                const std::vector<std::string>& flags,
                                                upload::RelayLink* relay = nullptr);
  // `relay --listen ADDR:PORT` (fan-out: site_relay.h) on its own channel,
  // with `o`'s stdin and stdout. Journaled.
  // `upstream`: as server_cmd::relay's.
  transport::Awaitable<transport::ExecResult> relay(const std::string& listen, const std::string& upstream,
                                                    transport::ExecOptions o);
  // The newest upload protocol the host's server speaks (what its session
  // said; without a session, ours for our own build, else 1).
  std::uint32_t upload_protocol() const;
  // Lets go of the lock (EOF on its stdin) and closes the session.
  transport::Awaitable<void> release();

  struct LockState;  // the lock command's channel (public for the coroutine that holds it)

 private:
  // Starts the session (SessionMux) on the connection; `ours`: only this
  // build's server is accepted. False: the steps go one exec each, unless
  // `may_install` (the server is checked, installed, and the session tried
  // again).
  transport::Awaitable<bool> start_session(bool ours, double timeout_s, bool may_install);
  transport::Awaitable<bool> check_server(const EnsureOptions& opts);
  // Why a changing step may not run now, if it may not.
  std::optional<std::string> refusal(const std::string& step) const;

  transport::Transport& transport_;
  const PlannedHost& plan_;
  Journal& journal_;
  std::shared_ptr<transport::Session> session_;
  std::shared_ptr<LockState> lock_;
  std::string error_;
  ServerReport server_;
  unsigned upload_protocol_ = 0;  // as the session's hello said; 0: no session
};

// Every planned host of `ctx` on a HostConn of its own, and `one(conn, i)`
// run on each, at most ctx.parallel at once; a host not yet begun when Ctrl-C
// came gets `not_begun(conn, i)` instead, and nothing runs there. Both
// functions are named by the caller, never temporaries in its co_await.
using HostTask = std::function<transport::Awaitable<void>(HostConn&, std::size_t)>;
using HostNotBegun = std::function<void(HostConn&, std::size_t)>;
transport::Awaitable<void> for_each_host(const FleetContext& ctx, const HostTask& one, const HostNotBegun& not_begun);

// for_each_host for a command whose table has a row per host: a Row with
// `host`, `action` and `error`. Each row gets its host's name before
// `one(conn, row)` runs; a host not begun is "skipped".
template <class Row>
transport::Awaitable<std::vector<Row>> rows_for_each_host(
    const FleetContext& ctx, const std::function<transport::Awaitable<void>(HostConn&, Row&)>& one) {
  std::vector<Row> rows(ctx.hosts.size());
  HostTask each = [&](HostConn& c, std::size_t i) -> transport::Awaitable<void> {
    rows[i].host = c.name();
    co_await one(c, rows[i]);
  };
  HostNotBegun not_begun = [&](HostConn& c, std::size_t i) {
    rows[i].host = c.name();
    rows[i].action = "skipped";
    rows[i].error = "interrupted before it began here";
  };
  co_await for_each_host(ctx, each, not_begun);
  co_return rows;
}

// The first non-blank line of a command's output, without its newline.
std::string first_line(const std::string& s);
// "first line of stderr", else "first line of stdout", else the result.
std::string describe_failure(const transport::ExecResult& r);

}  // namespace plugbox::orchestrator
