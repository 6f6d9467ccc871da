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
  return script(
      "uname -m || exit 3\n"
      "mkdir -p -- \"$1\" || exit 3\n"
      "[ -w \"$1\" ] || { echo \"$1 is not writable by $(id -un)\" >&2; exit 3; }\n",
      {version_dir(h)});
}

transport::Command arch(const HostContext&) { return transport::Command::argv({"uname", "-m"}); }

transport::Command put(const HostContext& h, const std::string& sha256, const std::string& identity) {
  // The temporary file is the shell's own ($$), so installs racing on one
  // host never write the same file; the rename is atomic, so the path holds
  // a whole, checked binary or nothing, whichever install renames last.
  // A signal still runs the EXIT trap (HUP: the connection went).
  return script(
      "dir=$1 sum=$2 want=$3\n"
      "tmp=$dir/.plugbox-server.$$.tmp\n"
      "trap 'rm -f \"$tmp\"' EXIT\n"
      "trap 'exit 1' HUP INT TERM\n"
      "cat > \"$tmp\" || exit 3\n"
      "command -v sha256sum >/dev/null 2>&1 || { echo 'sha256sum is not installed (coreutils and busybox have it)' >&2; exit 3; }\n"
      "got=$(sha256sum \"$tmp\") || exit 3\n"
      "got=${got%% *}\n"
      "[ \"$got\" = \"$sum\" ] || { echo \"it arrived damaged (sha256 $got, sent $sum)\" >&2; exit 3; }\n"
      "chmod 755 \"$tmp\" || exit 3\n"
      "out=$(\"$tmp\" --version 2>&1) || { echo \"it does not run there: $out\" >&2; exit 4; }\n"
      "first=$(printf '%s\\n' \"$out\" | head -n 1)\n"
      "[ \"$first\" = \"$want\" ] || { echo \"it says '$first', not '$want'\" >&2; exit 4; }\n"
      "mv -f \"$tmp\" \"$dir/plugbox-server\" || exit 3\n"
      "trap - EXIT\n",
      {version_dir(h), sha256, identity});
}

transport::Command remove_others(const HostContext& h, bool dry_run) {
  if (dry_run)
    return script(
        "cd \"$1\" 2>/dev/null || exit 0\n"
        "for d in *; do\n"
        "  [ -e \"$d\" ] && [ \"$d\" != \"$2\" ] && echo \"would remove server $d\"\n"
        "done\n"
        "exit 0\n",
        {servers_dir(h.home), server_tag()});
  return script(
      "cd \"$1\" 2>/dev/null || exit 0\n"
      "for d in *; do\n"
      "  [ -e \"$d\" ] && [ \"$d\" != \"$2\" ] || continue\n"
      "  rm -rf -- \"$d\" && echo \"removed server $d\"\n"
      "done\n"
      "[ -d \"$2\" ] && find \"$2\" -maxdepth 1 -name '.plugbox-server.*.tmp' -mmin +60 -exec rm -f {} +\n"
      "exit 0\n",
      {servers_dir(h.home), server_tag()});
}

}  // namespace install_cmd

namespace {

std::string first_line_of(const std::string& s) {
  std::size_t start = s.find_first_not_of("\r\n \t");
  if (start == std::string::npos) return "";
  std::size_t end = s.find('\n', start);
  return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

ServerReport failed(const HostContext& h, const std::string& what, const std::string& fix,
                    const std::string& arch = "") {
  return ServerReport{"failed", arch, "", h.host + ": " + what + "; " + fix};
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
    rep.version = v.ok() ? first_line_of(v.out) : "(" + describe_failure(v) + ")";
    if (opts.learn_arch) {
      const Step a{"server-arch", install_cmd::arch(h), opts.timeout_s, false, true};
      const auto r = co_await conn.run(a);
      if (r.ok()) rep.arch = first_line_of(r.out);
    }
    co_return rep;
  }

  const Step check{"server-check", install_cmd::version(h), opts.timeout_s, false, /*read_only=*/true};
  const auto v = co_await conn.run(check);
  if (v.error) co_return failed(h, "checking plugbox-server: " + describe_failure(v), "is the host reachable?");
  const std::string found = v.exit_status == 0 ? first_line_of(v.out) : "";
  if (found == want) {
    rep.action = "current";
    rep.version = found;
    if (opts.learn_arch) {
      const Step a{"server-arch", install_cmd::arch(h), opts.timeout_s, false, true};
      const auto r = co_await conn.run(a);
      if (r.ok()) rep.arch = first_line_of(r.out);
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
  rep.arch = first_line_of(p.out);
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
  if (!r.ok()) {
    if (r.exit_status == 4)
      co_return failed(h, "plugbox-server (" + bin->arch + ") was uploaded but " + first_line_of(r.err),
                       "if " + h.home + " is mounted noexec, install a plugbox-server yourself where it may run and "
                       "set server = \"PATH\" for the host in the inventory",
                       rep.arch);
    co_return failed(h, "installing plugbox-server in " + servers_dir(h.home) + ": " + describe_failure(r),
                     "free space there (it needs " + std::to_string(bin->bytes->size() / (1024 * 1024) + 1) +
                         " MB) or make it writable, " + own_copy_fix(),
                     rep.arch);
  }
  rep.action = missing ? "installed" : "replaced";
  rep.version = want;
  co_return rep;
}

}  // namespace plugbox::orchestrator
