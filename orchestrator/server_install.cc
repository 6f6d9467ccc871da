#include "orchestrator/server_install.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/build_info.h"
#include "orchestrator/host_conn.h"
#include "upload/common/sha256.h"

namespace plugbox::orchestrator {

namespace fs = std::filesystem;

std::string server_tag() { return std::string(base::release_version()) + "-" + base::build_commit(); }

std::string server_identity() { return base::identity("plugbox-server"); }

std::string servers_dir(const std::string& home) { return home + "/.plugbox/servers"; }

std::string installed_server_path(const std::string& home) {
  return servers_dir(home) + "/" + server_tag() + "/plugbox-server";
}

std::string normalise_arch(std::string_view uname_m) {
  if (uname_m == "amd64") return "x86_64";
  if (uname_m == "arm64") return "aarch64";
  return std::string(uname_m);
}

ServerBuilds::ServerBuilds(fs::path dir) : dir_(std::move(dir)) {}

fs::path ServerBuilds::default_dir() {
  if (const char* env = std::getenv("PLUGBOX_SERVERS"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path packaged = exe.parent_path() / ".." / "lib" / "plugbox" / "servers";
  if (fs::is_directory(packaged, ec)) return packaged.lexically_normal();
  return (exe.parent_path() / ".." / "servers").lexically_normal();
}

const ServerBuilds& ServerBuilds::local() {
  // One per directory, each loading its binaries once; the directory is
  // looked up at each call, so a process (a test) that sets PLUGBOX_SERVERS
  // later gets those.
  static std::mutex mu;
  static std::map<fs::path, std::unique_ptr<ServerBuilds>> by_dir;
  const fs::path dir = default_dir();
  std::lock_guard<std::mutex> lock(mu);
  auto& b = by_dir[dir];
  if (!b) b = std::make_unique<ServerBuilds>(dir);
  return *b;
}

std::vector<std::string> ServerBuilds::arches() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    if (fs::is_regular_file(it->path() / "plugbox-server")) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const ServerBinary> ServerBuilds::binary(std::string_view uname_m, std::string* why) const {
  const std::string arch = normalise_arch(uname_m);
  if (dir_.empty()) {
    // Never a path relative to wherever plugbox runs.
    *why = "this plugbox cannot tell where it is installed (/proc/self/exe), so it has no plugbox-server builds";
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = loaded_.find(arch); it != loaded_.end()) return it->second;
  // A name that could climb out of dir_ is no architecture.
  const bool plain = !arch.empty() && arch.find('/') == std::string::npos && arch != "." && arch != "..";
  const fs::path path = dir_ / arch / "plugbox-server";
  std::ifstream in(path, std::ios::binary);
  if (!plain || !in) {
    std::string have;
    for (const auto& a : arches()) have += (have.empty() ? "" : ", ") + a;
    *why = "this plugbox has no plugbox-server build for " + (arch.empty() ? "an unnamed architecture" : arch) +
           " (it has: " + (have.empty() ? "none" : have) + ", in " + dir_.string() + ")";
    return nullptr;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *why = "cannot read " + path.string();
    return nullptr;
  }
  auto b = std::make_shared<ServerBinary>();
  b->arch = arch;
  b->path = path;
  b->bytes = std::make_shared<const std::string>(buf.str());
  b->sha256 = upload::to_hex(upload::sha256(*b->bytes));
  loaded_.emplace(arch, b);
  return b;
}

namespace install_cmd {

namespace {

// `sh -c SCRIPT plugbox-install ARGS...`: $0 names the script in its errors.
transport::Command script(const char* text, std::vector<std::string> args) {
  std::vector<std::string> argv{"sh", "-c", text, "plugbox-install"};
  argv.insert(argv.end(), args.begin(), args.end());
  return transport::Command::argv(std::move(argv));
}

std::string version_dir(const HostContext& h) { return servers_dir(h.home) + "/" + server_tag(); }

}  // namespace

transport::Command version(const HostContext& h) {
  std::vector<std::string> argv = server_words(h);
  argv.push_back("--version");
  return transport::Command::argv(std::move(argv));
}

transport::Command probe(const HostContext& h) {
  // umask: the server others will run must be writable by the user alone.
  // sha256sum is asked for here, before 8 MB are sent for nothing.
  return script(
      "umask 022\n"
      "uname -m || exit 3\n"
      "command -v sha256sum >/dev/null 2>&1 || { echo 'sha256sum is not installed (coreutils and busybox have it)' >&2; exit 3; }\n"
      "mkdir -p -- \"$1\" || exit 3\n"
      "[ -w \"$1\" ] || { echo \"$1 is not writable by $(id -un)\" >&2; exit 3; }\n",
      {version_dir(h)});
}

transport::Command arch(const HostContext&) { return transport::Command::argv({"uname", "-m"}); }

transport::Command put(const HostContext& h, const std::string& sha256, const std::string& identity) {
  // The temporary file is this shell's own (node name and pid: hosts sharing
  // a home over NFS have pids of their own), so installs racing on one home
  // never write the same file; the rename is atomic, so the path holds a
  // whole, checked binary or nothing, whichever install renames last. A
  // signal still runs the EXIT trap (HUP: the connection went; PIPE: our
  // stderr did).
  return script(
      "umask 022\n"
      "dir=$1 sum=$2 want=$3\n"
      "tmp=$dir/.plugbox-server.$(uname -n).$$.tmp\n"
      "trap 'rm -f \"$tmp\"' EXIT\n"
      "trap 'exit 1' HUP INT TERM PIPE\n"
      "cat > \"$tmp\" || exit 3\n"
      "got=$(sha256sum < \"$tmp\") || exit 3\n"
      "got=${got%% *}\n"
      "[ \"$got\" = \"$sum\" ] || { echo \"it arrived damaged (sha256 $got, sent $sum)\" >&2; exit 5; }\n"
      "chmod 755 \"$tmp\" || exit 3\n"
      "out=$(\"$tmp\" --version 2>&1) || { echo \"it does not run there: $out\" >&2; exit 4; }\n"
      "first=$(printf '%s\\n' \"$out\" | head -n 1)\n"
      "[ \"$first\" = \"$want\" ] || { echo \"it says '$first', not '$want'\" >&2; exit 4; }\n"
      "mv -f \"$tmp\" \"$dir/plugbox-server\" || exit 3\n"
      "trap - EXIT\n",
      {version_dir(h), sha256, identity});
}

transport::Command remove_others(const HostContext& h, bool dry_run) {
  // A newer release's server is kept: another operator's newer plugbox runs
  // it, and would only install it again. (The release is the name up to its
  // first '-'; awk compares it number by number.)
  static const char* text =
      "cd \"$1\" 2>/dev/null || exit 0\n"
      "status=0\n"
      "for d in *; do\n"
      "  [ -e \"$d\" ] && [ \"$d\" != \"$2\" ] || continue\n"
      "  if printf '%s\\n%s\\n' \"${d%%-*}\" \"$3\" | awk -F. 'NR==1{for(i=1;i<=3;i++)a[i]=$i+0}\n"
      "       NR==2{for(i=1;i<=3;i++)b[i]=$i+0} END{for(i=1;i<=3;i++){if(a[i]>b[i])exit 0;if(a[i]<b[i])exit 1};exit 1}'; then\n"
      "    echo \"kept server $d (a newer release)\"; continue\n"
      "  fi\n"
      "  if [ \"$4\" = dry ]; then echo \"would remove server $d\"; continue; fi\n"
      "  if rm -rf -- \"$d\"; then echo \"removed server $d\"; else status=1; fi\n"
      "done\n"
      "[ \"$4\" = dry ] || [ ! -d \"$2\" ] || find \"$2\" -maxdepth 1 -name '.plugbox-server.*.tmp' -mmin +60 -exec rm -f {} +\n"
      "exit $status\n";
  return script(text, {servers_dir(h.home), server_tag(), base::release_version(), dry_run ? "dry" : "remove"});
}

}  // namespace install_cmd

namespace {

ServerReport failed(const HostContext& h, const std::string& what, const std::string& fix,
                    const std::string& arch = "") {
  return ServerReport{"failed", arch, "", h.host + ": " + what + "; " + fix, false};
}

// The connection went during a step: the host was not reached after all.
ServerReport lost(const HostContext& h, const std::string& step, const transport::ExecResult& r,
                  const std::string& arch = "") {
  ServerReport rep = failed(h, step + ": " + describe_failure(r), "nothing was installed; run it again", arch);
  rep.lost_connection = true;
  return rep;
}

// Where to go when plugbox cannot put its server on a host.
std::string own_copy_fix() {
  return "or install a plugbox-server there yourself and set server = \"PATH\" for the host in the inventory";
}

// The binary, streamed in chunks: the channel's window paces it, and the
// hosts share one copy of the bytes.
transport::StdinSource chunks_of(std::shared_ptr<const std::string> bytes) {
  auto at = std::make_shared<std::size_t>(0);
  return [bytes, at]() -> transport::Awaitable<std::optional<std::string>> {
    constexpr std::size_t kChunk = 256 * 1024;
    if (*at >= bytes->size()) co_return std::nullopt;
    std::string chunk = bytes->substr(*at, kChunk);
    *at += chunk.size();
    co_return chunk;
  };
}

}  // namespace

transport::Awaitable<ServerReport> ensure_server(HostConn& conn, const ServerBuilds& builds, EnsureOptions opts) {
  const HostContext& h = conn.ctx();
  const std::string want = server_identity();
  ServerReport rep;

  if (h.server_source == ServerSource::pinned) {
    // Never touched: only asked what it is, for the table.
    rep.action = "pinned";
    const Step ver{"server-check", install_cmd::version(h), opts.timeout_s, false, /*read_only=*/true};
    const auto v = co_await conn.run(ver);
    rep.version = v.ok() ? first_line(v.out) : "(" + describe_failure(v) + ")";
    if (opts.learn_arch) {
      const Step a{"server-arch", install_cmd::arch(h), opts.timeout_s, false, true};
      const auto r = co_await conn.run(a);
      if (r.ok()) rep.arch = first_line(r.out);
    }
    co_return rep;
  }

  const Step check{"server-check", install_cmd::version(h), opts.timeout_s, false, /*read_only=*/true};
  const auto v = co_await conn.run(check);
  if (v.error) co_return lost(h, "checking plugbox-server", v);
  const std::string found = v.exit_status == 0 ? first_line(v.out) : "";
  if (found == want) {
    rep.action = "current";
    rep.version = found;
    if (opts.learn_arch) {
      const Step a{"server-arch", install_cmd::arch(h), opts.timeout_s, false, true};
      const auto r = co_await conn.run(a);
      if (r.ok()) rep.arch = first_line(r.out);
    }
    co_return rep;
  }
  // 127: nothing there. Anything else (another version, a file that does not
  // run) is replaced.
  const bool missing = v.exit_status == 127;
  if (!opts.install)
    co_return failed(h,
                     "plugbox-server " + server_tag() + (missing ? " is not installed" : " there is not this plugbox's") +
                         " (" + opts.why_not + ")",
                     "run `plugbox fleet bootstrap --host " + h.host + "`" +
                         (h.server_source == ServerSource::installed ? " or a deploy" : ", or set server_install = true"));

  const Step probe{"server-probe", install_cmd::probe(h), opts.timeout_s};
  const auto p = co_await conn.run(probe);
  rep.arch = first_line(p.out);
  if (p.error) co_return lost(h, "installing plugbox-server", p, rep.arch);
  if (!p.ok())
    co_return failed(h, "cannot install plugbox-server in " + servers_dir(h.home) + ": " + describe_failure(p),
                     "make " + h.home + "/.plugbox writable by the service user, " + own_copy_fix(), rep.arch);
  std::string why;
  const auto bin = builds.binary(rep.arch, &why);
  if (!bin)
    co_return failed(h, "its architecture is " + rep.arch + " and " + why,
                     "put a static build at " + (builds.dir() / normalise_arch(rep.arch) / "plugbox-server").string() +
                         " (or set PLUGBOX_SERVERS to a directory of ARCH/plugbox-server), " + own_copy_fix(),
                     rep.arch);

  // The upload's own time: 8 MB over a slow link outlasts a connect timeout.
  const Step put{"server-install", install_cmd::put(h, bin->sha256, want), std::max(opts.timeout_s, 300.0)};
  transport::StdinSource input = chunks_of(bin->bytes);
  const auto r = co_await conn.run(put, std::move(input));
  if (r.error) co_return lost(h, "installing plugbox-server", r, rep.arch);
  if (!r.ok()) {
    if (r.exit_status == 5)
      co_return failed(h, "installing plugbox-server in " + servers_dir(h.home) + ": " + first_line(r.err),
                       "nothing was installed; run it again (a damaged transfer is sent anew)", rep.arch);
    if (r.exit_status == 4)
      co_return failed(h, "plugbox-server (" + bin->arch + ") was uploaded but " + first_line(r.err),
                       "if " + h.home + " is mounted noexec, install a plugbox-server yourself where it may run and "
                       "set server = \"PATH\" for the host in the inventory",
                       rep.arch);
    const std::string mb = std::to_string(bin->bytes->size() / (1024 * 1024) + 1);
    const bool full = r.err.find("No space") != std::string::npos || r.err.find("quota") != std::string::npos;
    co_return failed(h, "installing plugbox-server in " + servers_dir(h.home) + ": " + describe_failure(r),
                     (full ? "free space there (it needs " + mb + " MB), " : "make it writable by the service user, ") +
                         own_copy_fix(),
                     rep.arch);
  }
  rep.action = missing ? "installed" : "replaced";
  rep.version = want;
  co_return rep;
}

}  // namespace plugbox::orchestrator
