#include "tests/orchestrator/e2e_support.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace plugbox::e2e {

namespace {

std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && extra.count(std::string(kv.substr(0, eq)))) continue;
    out.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) fail_errno("mkdtemp " + tmpl);
  ::chmod(tmpl.c_str(), 0755);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string RunResult::describe() const {
  return "rc=" + std::to_string(rc) + (timed_out ? " (timed out, killed)" : "") + "\n--- stdout:\n" + out +
         "--- stderr:\n" + err;
}

Background Background::start(const std::vector<std::string>& argv, const RunOptions& options) {
  Background b;
  b.files_ = std::make_shared<TempDir>("pbx-e2e-out");
  b.out_path_ = b.files_->path() / "stdout";
  b.err_path_ = b.files_->path() / "stderr";
  b.deadline_ = std::chrono::steady_clock::now() + options.timeout;
  std::vector<std::string> args = argv;
  auto cargv = c_strings(args);
  auto envs = merged_env(options.env);
  auto cenv = c_strings(envs);
  const std::string cwd = options.cwd.string();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls until exec. A test that dies (ctest
    // timeout) takes its plugbox with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(b.out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(b.err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) _exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    // Default dispositions and no blocked signal, whatever the test runner has.
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  b.pid_ = pid;
  return b;
}

Background::Background(Background&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      status_(o.status_),
      reaped_(o.reaped_),
      deadline_(o.deadline_),
      out_path_(std::move(o.out_path_)),
      err_path_(std::move(o.err_path_)),
      files_(std::move(o.files_)) {}

Background::~Background() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Background::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool Background::running() {
  if (reaped_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

RunResult Background::wait() {
  RunResult r;
  auto pause = std::chrono::milliseconds(1);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline_) {
      r.timed_out = true;
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
      break;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  r.rc = WIFEXITED(status_) ? WEXITSTATUS(status_) : WIFSIGNALED(status_) ? 128 + WTERMSIG(status_) : -1;
  r.out = out_so_far();
  r.err = err_so_far();
  return r;
}

std::string Background::out_so_far() const { return slurp(out_path_); }
std::string Background::err_so_far() const { return slurp(err_path_); }

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  return Background::start(argv, options).wait();
}

RunResult run_in_pty(const std::vector<std::string>& argv, const RunOptions& options) {
  std::vector<std::string> args = argv;
  auto cargv = c_strings(args);
  auto envs = merged_env(options.env);
  auto cenv = c_strings(envs);
  const std::string cwd = options.cwd.string();
  const pid_t parent = ::getpid();
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) fail_errno("forkpty");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  RunResult r;
  char buf[4096];
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) r.out.append(buf, std::size_t(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;  // EIO: the terminal's last user has gone
  }
  ::close(master);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text, fs::perms mode) {
  fs::create_directories(p.parent_path());
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + p.string());
  }
  fs::permissions(p, mode);
}

std::vector<std::string> HomeOnDisk::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : versions) n.push_back(k);
  return n;  // std::map: sorted, and names are timestamps
}

HomeOnDisk read_home(const fs::path& home) {
  HomeOnDisk h;
  const fs::path deploy = home / "deploy";
  std::error_code ec;
  if (!fs::is_directory(deploy, ec)) return h;
  h.exists = true;
  auto link_name = [&](const fs::path& l, const std::string& what) -> std::string {
    if (!fs::is_symlink(fs::symlink_status(l, ec))) return "";
    std::string t = fs::read_symlink(l, ec).string();
    if (t.rfind("../", 0) != 0 || t.find('/', 3) != std::string::npos) {
      h.problems.push_back(what + " -> " + t + " is not ../NAME");
      return t;
    }
    return t.substr(3);
  };
  for (const auto& e : fs::directory_iterator(deploy)) {
    std::string n = e.path().filename().string();
    if (n == "live" || n == ".plugbox") continue;
    if (!e.is_directory() || e.is_symlink()) {
      h.problems.push_back("stray entry deploy/" + n);
      continue;
    }
    VersionOnDisk v;
    fs::path rec = deploy / ".plugbox" / "versions" / (n + ".json");
    if (fs::exists(rec)) {
      auto j = nlohmann::json::parse(slurp(rec), nullptr, false);
      v.state = j.is_object() && j.contains("state") && j["state"].is_string() ? j["state"].get<std::string>()
                                                                               : "unreadable";
    } else {
      v.state = "norecord";
    }
    v.previous = link_name(e.path() / "previous", n + "/previous");
    v.next = link_name(e.path() / "next", n + "/next");
    h.versions[n] = v;
  }
  const fs::path live = deploy / "live";
  if (fs::is_symlink(fs::symlink_status(live, ec))) h.live = fs::read_symlink(live, ec).string();
  return h;
}

ino_t inode_of(const fs::path& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string lock_file_text(const fs::path& home) {
  std::string t = slurp(home / "deploy/.plugbox/lock");
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

LockHolder::LockHolder(const std::string& server_bin, const fs::path& home, const std::string& owner) {
  struct stat st;
  if (::stat(home.c_str(), &st) != 0) fail_errno("stat " + home.string());
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) fail_errno("pipe");
  files_ = std::make_unique<TempDir>("pbx-e2e-lock");
  std::string out_file = (files_->path() / "out").string();
  std::vector<std::string> args{server_bin, "--home", home.string(), "--owner", owner, "lock"};
  auto cargv = c_strings(args);
  std::vector<std::string> envs{"PATH=/usr/bin:/bin", "HOME=" + home.string()};
  auto cenv = c_strings(envs);
  uid_t uid = st.st_uid;
  gid_t gid = st.st_gid;
  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in[0], 0);
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) _exit(126);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (::getuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) _exit(126);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  ::close(in[0]);
  pid_ = pid;
  stdin_fd_ = in[1];
  bool held = eventually([&] { return slurp(out_file).find("locked by") != std::string::npos || !alive(); });
  std::string said = slurp(out_file);
  if (!held || said.find("locked by") == std::string::npos) {
    release();
    throw std::runtime_error("could not hold the lock of " + home.string() + ": " + said);
  }
}

LockHolder::~LockHolder() { release(); }

void LockHolder::release() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
  if (pid_ > 0) {
    bool gone = eventually([&] { return !alive(); }, std::chrono::milliseconds(10000));
    if (!gone) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
}

bool LockHolder::alive() {
  if (pid_ <= 0) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void wait_past(const std::string& version) {
  std::tm tm{};
  if (!::strptime(version.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) throw std::invalid_argument("not a version: " + version);
  std::time_t v = ::timegm(&tm);
  while (std::time(nullptr) <= v) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(slurp(p));
  for (std::string line; std::getline(in, line);)
    if (!nlohmann::json::parse(line, nullptr, false).is_discarded()) out.push_back(line);
  return out;
}

}  // namespace plugbox::e2e
