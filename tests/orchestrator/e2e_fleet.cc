#include "tests/orchestrator/e2e_fleet.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <stdexcept>

#include "tests/harness/sshd_fleet.h"

namespace plugbox::e2e {

namespace {

std::string toml_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Whether a user other than root (the harness's login user) can reach and run
// `path`: every directory above it searchable by others, the file readable
// and executable by others.
// One word for sh: single-quoted.
std::string shell_word(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool runnable_by_others(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH)) return false;
  for (fs::path p = path.parent_path(); !p.empty(); p = p.parent_path()) {
    if (::stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
    if (p == p.root_path()) break;
  }
  return true;
}

const char* kStart = R"(# started by plugbox in the service home: say which version is live
echo "start $(readlink deploy/live) $PLUGBOX_VERSION" >> service.log
if [ -e FAIL_START ]; then echo "start: FAIL_START is set" >&2; exit 1; fi
if [ -e SLOW_START ]; then
  i=0
  while [ ! -e RELEASE_START ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
fi
)";
const char* kSlow = R"(# a slow start: waits for the test to say go (at most 60 s)
i=0
while [ ! -e RELEASE_START ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
)";
const char* kStop = R"(echo "stop $(readlink deploy/live) $PLUGBOX_VERSION" >> service.log
)";
const char* kHealth = R"(if [ -e HANG_HEALTH ]; then
  echo $$ > health.pid
  sleep 300 & echo $! > health-child.pid
  wait
fi
test ! -e FAIL_HEALTH
)";
const char* kRefresh = R"(echo "refresh $(readlink deploy/live) $PLUGBOX_VERSION" >> service.log
)";
// Runs in the new version's directory: deploy/V, two levels below the home.
const char* kPostUpload = R"(if [ -e ../../FAIL_POST_UPLOAD ]; then echo "post_upload: FAIL_POST_UPLOAD is set" >&2; exit 1; fi
if [ -e ../../SLOW_POST_UPLOAD ]; then
  i=0
  while [ ! -e ../../RELEASE_POST_UPLOAD ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
fi
test -x bin/start
)";
// The prepare step, run here in the source tree: builds dist/ from release/.
const char* kBuild = R"(set -e
rm -rf dist
cp -a release dist
echo "$PLUGBOX_VERSION" > dist/VERSION
)";

}  // namespace

E2eFleet::E2eFleet() = default;
E2eFleet::~E2eFleet() = default;

std::unique_ptr<E2eFleet> E2eFleet::local(int count) {
  std::unique_ptr<E2eFleet> f(new E2eFleet());
  f->dir_ = std::make_unique<TempDir>("pbx-e2e-local");
  f->server_bin_ = PLUGBOX_SERVER_BIN;
  std::string inv = "# local-transport hosts for the end-to-end tests\n[defaults]\ntransport = \"local\"\nserver = " +
                    toml_str(f->server_bin_) + "\n";
  std::string members;
  for (int i = 1; i <= count; ++i) {
    E2eHost h{"h" + std::to_string(i), f->dir() / "hosts" / ("h" + std::to_string(i)), {}};
    inv += "\n[hosts." + h.name + "]\nhome = " + toml_str(h.home.string()) + "\n";
    members += std::string(members.empty() ? "" : ", ") + toml_str(h.name);
    f->hosts_.push_back(h);
  }
  inv += "\n[groups.app]\nhosts = [" + members + "]\n";
  f->finish_setup(inv);
  return f;
}

// The hosts of an sshd fleet are on this machine: `server` is the built
// plugbox-server, run by the harness's login user, who must be able to reach
// it (else a copy in the test's own directory).
std::string E2eFleet::server_for_sshd() {
  std::string bin = PLUGBOX_SERVER_BIN;
  if (runnable_by_others(bin)) return bin;
  fs::path copy = dir() / "bin" / "plugbox-server";
  fs::create_directories(copy.parent_path());
  fs::copy_file(bin, copy, fs::copy_options::overwrite_existing);
  fs::permissions(copy, fs::perms(0755));
  WARN("the build directory is not readable by the sshd harness's user: using a copy of plugbox-server in "
       << copy.string());
  return copy.string();
}

std::unique_ptr<E2eFleet> E2eFleet::sshd(std::string* skip_reason) {
  std::unique_ptr<E2eFleet> f(new E2eFleet());
  f->dir_ = std::make_unique<TempDir>("pbx-e2e-ssh");
  f->server_bin_ = f->server_for_sshd();
  testing::FleetOptions opt;
  opt.hosts = {{"bastion"},
               {"web1", "bastion", {"app"}},
               {"web2", "bastion", {"app"}},
               {"b2", "bastion"},
               {"deep", "b2", {"app"}},
               {"solo", "", {"app"}}};
  opt.inventory_defaults_extra = {"server = " + toml_str(f->server_bin_)};
  f->sshd_ = testing::SshdFleet::start(opt, skip_reason);
  if (!f->sshd_) return nullptr;
  for (const char* n : {"web1", "web2", "deep", "solo"}) {
    const auto& h = f->sshd_->host(n);
    f->hosts_.push_back(E2eHost{h.name, h.home, h.jump_chain});
  }
  f->finish_setup(slurp(f->sshd_->inventory_path()));
  return f;
}

std::unique_ptr<E2eFleet> E2eFleet::sshd_behind_bastion(const std::vector<std::string>& names,
                                                        std::string* skip_reason) {
  std::unique_ptr<E2eFleet> f(new E2eFleet());
  f->dir_ = std::make_unique<TempDir>("pbx-e2e-ssh");
  f->server_bin_ = f->server_for_sshd();
  testing::FleetOptions opt;
  opt.hosts = {{"bastion"}};
  for (const auto& n : names) opt.hosts.push_back({n, "bastion", {"app"}});
  opt.inventory_defaults_extra = {"server = " + toml_str(f->server_bin_)};
  f->sshd_ = testing::SshdFleet::start(opt, skip_reason);
  if (!f->sshd_) return nullptr;
  for (const auto& n : names) {
    const auto& h = f->sshd_->host(n);
    f->hosts_.push_back(E2eHost{h.name, h.home, h.jump_chain});
  }
  f->finish_setup(slurp(f->sshd_->inventory_path()));
  return f;
}

std::unique_ptr<E2eFleet> E2eFleet::mixed(std::string* skip_reason) {
  std::unique_ptr<E2eFleet> f(new E2eFleet());
  f->dir_ = std::make_unique<TempDir>("pbx-e2e-mixed");
  f->server_bin_ = f->server_for_sshd();
  testing::FleetOptions opt;
  opt.hosts = {{"bastion"}, {"web1", "bastion"}, {"solo", ""}};
  opt.inventory_defaults_extra = {"server = " + toml_str(f->server_bin_)};
  f->sshd_ = testing::SshdFleet::start(opt, skip_reason);
  if (!f->sshd_) return nullptr;
  // Hosts are in declaration order (by position in the file): l1's table
  // goes before the harness's, l2's after, so batches mix the two kinds.
  auto local_host = [&](const std::string& name) {
    E2eHost h{name, f->dir() / "hosts" / name, {}};
    return std::make_pair(h, "\n[hosts." + h.name + "]\ntransport = \"local\"\nhome = " + toml_str(h.home.string()) + "\n");
  };
  auto [l1, l1_toml] = local_host("l1");
  auto [l2, l2_toml] = local_host("l2");
  f->hosts_.push_back(l1);
  for (const char* n : {"web1", "solo"}) {
    const auto& h = f->sshd_->host(n);
    f->hosts_.push_back(E2eHost{h.name, h.home, h.jump_chain});
  }
  f->hosts_.push_back(l2);
  std::string inv = "# l1 and l2 are local-transport hosts; the rest are the sshd harness's" + l1_toml + "\n" +
                    slurp(f->sshd_->inventory_path()) + l2_toml + "\n[groups.app]\nhosts = [\"l1\", \"web1\", \"solo\", \"l2\"]\n";
  f->finish_setup(inv);
  return f;
}

void E2eFleet::finish_setup(const std::string& inventory_text) {
  inventory_ = dir() / "inventory.toml";
  write_file(inventory_, inventory_text);
  fs::create_directories(state_dir());
  write_service();
  write_release(Release{});
}

testing::SshdFleet& E2eFleet::sshd() const {
  if (!sshd_) throw std::logic_error("not an sshd fleet");
  return *sshd_;
}

const E2eHost& E2eFleet::host(const std::string& name) const {
  for (const auto& h : hosts_)
    if (h.name == name) return h;
  throw std::out_of_range("no host " + name);
}

std::vector<std::string> E2eFleet::names() const {
  std::vector<std::string> n;
  for (const auto& h : hosts_) n.push_back(h.name);
  return n;
}

std::string E2eFleet::default_deploy_table() {
  return "group = \"app\"\n"
         "batches = [1, 1, \"100%\"]\n"
         "max_fail = 0\n"
         "keep = 3\n"
         "health_retries = 2\n"
         "health_interval = 0.1\n"
         "health_timeout = 20\n"
         "command_timeout = 90\n";
}

void E2eFleet::write_service(const std::string& deploy_table, const std::string& service_extra) {
  write_file(service_file(),
             "# the end-to-end tests' service: its scripts ship in each release\n"
             "[service]\n"
             "name = \"e2e\"\n"
             "prepare = [\"sh build.sh\"]\n"
             "upload_version = \"dist\"\n"
             "post_upload = [\"sh bin/post_upload\"]\n"
             "stop = [\"sh live/bin/stop\"]\n"
             "start = [\"sh live/bin/start\"]\n"
             "health = \"sh live/bin/health\"\n" +
                 service_extra + "\n[deploy]\n" +
                 (deploy_table.empty() ? default_deploy_table() : deploy_table));
  write_file(service_dir() / "build.sh", kBuild);
}

void E2eFleet::write_release(const Release& r) {
  // Like an incremental build: a file whose content is unchanged keeps its
  // mtime, so the versions' files are the build's exactly, mtimes included
  // (e2e_local_test.cc has the build that rewrites every file).
  fs::path rel = service_dir() / "release";
  auto put = [&](const std::string& name, const std::string& text, fs::perms mode = fs::perms(0644)) {
    if (fs::exists(rel / name) && slurp(rel / name) == text) return;
    write_file(rel / name, text, mode);
  };
  put("bin/start", std::string(kStart) + (r.slow_start ? kSlow : ""), fs::perms(0755));
  put("bin/stop", kStop, fs::perms(0755));
  put("bin/health", kHealth, fs::perms(0755));
  put("bin/refresh", kRefresh, fs::perms(0755));
  put("bin/post_upload", kPostUpload, fs::perms(0755));
  put("same.txt", "the same in every release\n");
  put("changing.txt", "release " + r.tag + "\n");
  if (r.with_dropped) put("dropped.txt", "only in some releases\n");
  else fs::remove(rel / "dropped.txt");
  if (!r.extra_file.empty()) put(r.extra_file, "an extra file\n");
}

RunOptions E2eFleet::options() const {
  RunOptions o;
  o.cwd = dir();
  o.env["XDG_STATE_HOME"] = state_dir().string();
  o.env["XDG_CACHE_HOME"] = cache_dir().string();
  return o;
}

std::string E2eFleet::plugbox_bin() {
  const char* installed = std::getenv("PLUGBOX_CLIENT");
  return installed && *installed ? installed : PLUGBOX_BIN;
}

RunResult E2eFleet::plugbox(const std::vector<std::string>& args, RunOptions o) const {
  std::vector<std::string> argv{plugbox_bin(), "-i", inventory_.string(), "-f", service_file().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, o);
}

Background E2eFleet::spawn_plugbox(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{plugbox_bin(), "-i", inventory_.string(), "-f", service_file().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Background::start(argv, options());
}

Snapshot E2eFleet::snapshot_all() const {
  Snapshot all;
  for (const auto& h : hosts_)
    for (auto& [k, v] : snapshot(h.home)) all["[" + h.name + "] " + k] = v;
  for (auto& [k, v] : snapshot(dir())) all["[test] " + k] = v;
  return all;
}

void E2eFleet::mark(const std::string& name, const std::string& marker) const {
  write_file(host(name).home / marker, "set by the test\n");
}

void E2eFleet::unmark(const std::string& name, const std::string& marker) const {
  fs::remove(host(name).home / marker);
}

void E2eFleet::hook_server() {
  fs::path wrapper = dir() / "bin" / "plugbox-server-hooked";
  fs::create_directories(wrapper.parent_path());
  // argv: --home HOME --owner OWNER COMMAND ARGS... (orchestrator/remote_commands.cc)
  write_file(wrapper,
             "#!/bin/sh\n"
             "# plugbox-server behind the end-to-end tests' SLOW_SERVER_<cmd> markers (e2e_fleet.h)\n"
             "find_words() {\n"
             "  while [ $# -gt 0 ]; do\n"
             "    case \"$1\" in\n"
             "      --home) home=$2; shift 2 ;;\n"
             "      --owner) shift 2 ;;\n"
             "      -*) shift ;;\n"
             "      *) cmd=$1; return ;;\n"
             "    esac\n"
             "  done\n"
             "}\n"
             "home=; cmd=\n"
             "find_words \"$@\"\n"
             "if [ \"$cmd\" = session ] && [ -n \"$home\" ] && [ -e \"$home/NO_SESSION\" ]; then\n"
             "  echo \"plugbox-server: unknown command 'session'; \\`plugbox-server --help\\` lists the commands\" >&2\n"
             "  exit 2\n"
             "fi\n"
             "if [ -n \"$home\" ] && [ -e \"$home/RELAY_FAULT\" ]; then\n"
             "  PLUGBOX_RELAY_FAULT=$(cat \"$home/RELAY_FAULT\"); export PLUGBOX_RELAY_FAULT\n"
             "fi\n"
             "if [ \"$cmd\" = relay ] && [ -n \"$home\" ] && [ -e \"$home/TAKE_RELAY_PORT\" ]; then\n"
             "  rm -f \"$home/TAKE_RELAY_PORT\"\n"
             "  ( sleep 120 | " + shell_word(server_bin_) + " \"$@\" > \"$home/port-holder.out\" 2>&1 ) \\\n"
             "    < /dev/null > /dev/null 2>&1 &\n"
             "  i=0\n"
             "  while ! grep -q listening \"$home/port-holder.out\" 2> /dev/null && [ $i -lt 200 ]; do\n"
             "    sleep 0.05; i=$((i+1))\n"
             "  done\n"
             "fi\n"
             "if [ -n \"$home\" ] && [ -n \"$cmd\" ] && [ -e \"$home/SLOW_SERVER_$cmd\" ]; then\n"
             "  : > \"$home/WAITING_SERVER_$cmd\"\n"
             "  i=0\n"
             "  while [ ! -e \"$home/RELEASE_SERVER\" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
             "fi\n"
             "exec " + shell_word(server_bin_) + " \"$@\"\n",
             fs::perms(0755));
  std::string inv = slurp(inventory_);
  const std::string was = "server = " + toml_str(server_bin_);
  auto at = inv.find(was);
  if (at == std::string::npos) throw std::logic_error("hook_server: the inventory sets no `server` to replace");
  inv.replace(at, was.size(), "server = " + toml_str(wrapper.string()));
  write_file(inventory_, inv);
}

void E2eFleet::unpin_server(const std::string& instead) {
  std::string inv = slurp(inventory_);
  const std::string was = "server = " + toml_str(server_bin_) + "\n";
  auto at = inv.find(was);
  if (at == std::string::npos) throw std::logic_error("unpin_server: the inventory pins no `server`");
  inv.replace(at, was.size(), instead.empty() ? "" : instead + "\n");
  write_file(inventory_, inv);
}

void E2eFleet::set_host_line(const std::string& name, const std::string& line) {
  std::string inv = slurp(inventory_);
  std::string table = "[hosts.\"" + name + "\"]\n";  // the sshd harness quotes names
  auto at = inv.find(table);
  if (at == std::string::npos) at = inv.find(table = "[hosts." + name + "]\n");
  if (at == std::string::npos) throw std::logic_error("set_host_line: no table for " + name);
  inv.insert(at + table.size(), line + "\n");
  write_file(inventory_, inv);
}

fs::path E2eFleet::newest_journal(const std::string& kind) const {
  std::error_code ec;
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(runs_dir(), ec))
    if (fs::exists(e.path() / (kind + ".jsonl"))) runs.push_back(e.path() / (kind + ".jsonl"));
  std::sort(runs.begin(), runs.end());
  return runs.empty() ? fs::path() : runs.back();
}

}  // namespace plugbox::e2e
