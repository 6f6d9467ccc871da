// Every command the orchestrator runs on a host, built as a value
// (transport::Command: argv + env + cwd, rendered with quoting) so that tests
// compare them as strings and no user input is ever spliced into a line.
// The plugbox-server commands are built here and nowhere else (server_cmd).
#pragma once

#include <string>
#include <vector>

#include "transport/command.h"

namespace plugbox::orchestrator {

// Where a host's plugbox-server comes from (docs/DESIGN.md §3 "Server install").
enum class ServerSource {
  pinned,     // the inventory's `server`: run as written, never checked or touched
  installed,  // plugbox's own copy in the home: installed when missing or of another version
  bootstrap,  // the same copy, installed only by `fleet bootstrap` (server_install = false)
};

// What the commands for one host need to know.
struct HostContext {
  std::string host;     // inventory name
  std::string home;     // the service home on the host
  std::string server;   // the plugbox-server command (server_words)
  std::string owner;    // the lock owner id of this run
  ServerSource server_source = ServerSource::pinned;
};

// The server command's words: a pinned `server` split on spaces ("sudo -u
// shop plugbox-server"); plugbox's own, its path as one word.
std::vector<std::string> server_words(const HostContext& h);
// `plugbox-server --home HOME --owner OWNER ARGS...`
transport::Command server_command(const HostContext& h, const std::vector<std::string>& args);

// The typed plugbox-server commands (docs/DESIGN.md §3), one builder each.
namespace server_cmd {
transport::Command init(const HostContext& h);
// Holds the lock while its stdin is open. `wait_s` > 0: waits that long for a
// holder (or a switch transaction still running there) to finish.
transport::Command lock(const HostContext& h, int wait_s = 0);
transport::Command status_json(const HostContext& h);
// The maintenance lock (`plugbox fleet lock` / `unlock`), held by h.owner.
transport::Command hold(const HostContext& h, const std::string& message);
transport::Command release(const HostContext& h, bool force);
// `receive V FLAGS...` (DeployPlan::receive_flags: --create, --seal, provenance).
transport::Command receive(const HostContext& h, const std::string& version, const std::vector<std::string>& flags);
// Fan-out's relay on this host (server-tools/relay.h).
// `upstream` (ADDR:PORT, or ""): the site's relay it fetches from.
transport::Command relay(const HostContext& h, const std::string& listen, const std::string& upstream = "");
transport::Command seal(const HostContext& h, const std::string& version);
transport::Command upgrade_to(const HostContext& h, const std::string& version);
transport::Command rollback_to(const HostContext& h, const std::string& version);
// Idempotent: a V that is already gone is not an error (a cleanup may be
// run again, or follow an upload cut off before V was made).
transport::Command remove(const HostContext& h, const std::string& version);
transport::Command gc(const HostContext& h, int keep, bool dry_run);
// A switch transaction (its step list on stdin). It waits up to `wait_s` for
// one still running there (a switch whose client lost its connection) to end.
transport::Command switch_txn(const HostContext& h, int wait_s);
// `session`: serves every other command of the run on one channel
// (docs/SESSION.md); the client's SessionMux speaks to it.
transport::Command session(const HostContext& h);
// `run --timeout S -- LINE`: the host runs LINE in a process group of its own
// and kills the group at S seconds (exit 124), children left behind included.
transport::Command run_line(const HostContext& h, const std::string& line, double timeout_s);
}  // namespace server_cmd

// The service's own shell lines, with PLUGBOX_* in their environment.
// post_upload runs in the new version's directory; the others in the home.
struct ServiceEnv {
  std::string service, version, previous;
};
transport::Command service_command(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                   const std::string& cwd);
// The same line run by `plugbox-server run` (server_cmd::run_line): for a line
// the client times itself (the health check). Past its timeout the host kills
// what it started; a channel closed by the client would leave it running.
transport::Command service_command_timed(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                         const std::string& cwd, double timeout_s);

std::string version_dir(const HostContext& h, const std::string& version);

}  // namespace plugbox::orchestrator
