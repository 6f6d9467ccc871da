// plugbox's own plugbox-server on each host (docs/DESIGN.md §3 "Server
// install"): one copy per client version, HOME/.plugbox/servers/TAG/
// plugbox-server, checked by the first command a fleet command runs there
// and installed when it is missing or of another version. The binaries come
// with the client (ServerBuilds), one static build per host architecture.
//
// Why per version and in the home: the service user can write there without
// sudo; two clients of different versions never replace each other's server
// under a running deploy; and a path that names its version needs no extra
// command to tell whether it is current: the session's hello says so.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/remote_commands.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

class HostConn;

// "0.1.0-7a5a3bf1afa6": this build's release and commit, the name of its
// server's directory on hosts.
std::string server_tag();
// The line this build's plugbox-server prints first for --version (and says
// in the session hello): "plugbox-server 0.1.0 (commit 7a5a3bf1afa6)".
std::string server_identity();
// HOME/.plugbox/servers and HOME/.plugbox/servers/TAG/plugbox-server.
std::string servers_dir(const std::string& home);
std::string installed_server_path(const std::string& home);

// "x86_64" for "x86_64"/"amd64", "aarch64" for "aarch64"/"arm64", else the
// name as given: the directory names of ServerBuilds.
std::string normalise_arch(std::string_view uname_m);

// One static plugbox-server build, read into memory once and shared by every
// host that gets it (500 hosts upload the same 8 MB, not 500 copies).
struct ServerBinary {
  std::string arch;
  std::filesystem::path path;
  std::shared_ptr<const std::string> bytes;
  std::string sha256;  // hex
};

// The plugbox-server builds this client can install, one per architecture:
// DIR/ARCH/plugbox-server.
class ServerBuilds {
 public:
  explicit ServerBuilds(std::filesystem::path dir);
  // $PLUGBOX_SERVERS when set (an operator's own builds, say for riscv64);
  // else EXE/../lib/plugbox/servers (the Debian package); else EXE/../servers
  // (the build tree). EXE is the directory of the running plugbox.
  // Looked up at each call; the builds of one directory are loaded once.
  static const ServerBuilds& local();
  static std::filesystem::path default_dir();

  const std::filesystem::path& dir() const { return dir_; }
  // The architectures there is a build for, sorted.
  std::vector<std::string> arches() const;
  // The build for a host's `uname -m`: nullptr when there is none, and
  // *why says so (or that it could not be read).
  std::shared_ptr<const ServerBinary> binary(std::string_view uname_m, std::string* why) const;

 private:
  std::filesystem::path dir_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const ServerBinary>> loaded_;
};

// The commands of a check and an install, as values (tested as strings).
// The shell scripts get every path and value as a positional argument, so
// nothing is spliced into them.
namespace install_cmd {
// `SERVER --version`: which server answers there, if any (127: none).
transport::Command version(const HostContext& h);
// `uname -m`, then the version's directory made (and found writable).
transport::Command probe(const HostContext& h);
// `uname -m` alone (a pinned server's host: nothing is made there).
transport::Command arch(const HostContext& h);
// Reads the binary on stdin into a temporary file beside its place, checks
// its SHA-256 and that it runs and names itself `identity`, then renames it
// into place. Exit 3: it could not be written; 4: it does not run there (a
// noexec home, another architecture); 5: it arrived damaged.
transport::Command put(const HostContext& h, const std::string& sha256, const std::string& identity);
// Removes every other version's directory under HOME/.plugbox/servers but
// those of newer releases, and temporary files an interrupted install left
// over an hour ago. Prints "removed server NAME" for each, "kept server NAME
// (a newer release)" ("would remove ..." on a dry run, which removes
// nothing). Exit 1 when a directory could not be removed.
transport::Command remove_others(const HostContext& h, bool dry_run);
}  // namespace install_cmd

// What a host's server check (and install) found and did: a row of
// `fleet bootstrap`'s table.
struct ServerReport {
  std::string action;   // "current", "installed", "replaced", "pinned", "failed"
  std::string arch;     // the host's `uname -m`; empty when it was not asked
  std::string version;  // what the server says of itself, afterwards
  std::string error;    // when failed: one line, the host named, with the fix
  bool lost_connection = false;  // failed because the connection went
  bool ok() const { return action != "failed"; }
};

struct EnsureOptions {
  bool install = true;     // false: report a missing server as a failure, saying why_not
  std::string why_not = "server_install = false";
  bool learn_arch = false; // ask `uname -m` even when the server is current (the bootstrap table)
  double timeout_s = 60;
};

// Checks the host's server over the connection's current session, and
// installs it where needed. Every command is journaled as a step of its own.
transport::Awaitable<ServerReport> ensure_server(HostConn& conn, const ServerBuilds& builds, EnsureOptions opts);

}  // namespace plugbox::orchestrator
