#include "orchestrator/journal.h"

#include <fstream>
#include <set>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace plugbox::orchestrator {

namespace {

// A whole number >= 1 from the environment, else 0.
long env_count(const char* name) {
  const char* k = std::getenv(name);
  if (!k || !*k) return 0;
  char* end = nullptr;
  long n = std::strtol(k, &end, 10);
  return end && *end == '\0' && n >= 1 ? n : 0;
}

// The fault hook's line, run to its end before the run goes on (fork and
// exec rather than std::system: SIGINT stays ours while it runs).
void run_fault_cmd(const std::string& line) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(2, 1);
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) return;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::filesystem::path Journal::state_root() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::filesystem::path(x) / "plugbox";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/tmp") / ".local/state/plugbox";
}

std::string Journal::newest_deploy(const std::string& service, const std::vector<std::string>& hosts) {
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(state_root() / "runs", ec)) {
    const std::string name = e.path().filename().string();
    if (name <= best) continue;
    std::ifstream in(e.path() / "deploy.jsonl");
    std::string first, line, last;
    if (!in || !std::getline(in, first)) continue;
    auto j = nlohmann::json::parse(first, nullptr, false);
    if (!j.is_object() || j.value("event", "") != "plan" || j.value("service", "") != service) continue;
    // The hosts it worked on: sent a step that could change them (the
    // upload, or any later one), or refused by the host itself (init,
    // status or lock failing there: a full disk, an unwritable log). Not a
    // host it only looked at before the run stopped for another host's
    // sake, nor one whose lock another run held: the run never worked
    // there, and must not hide the run that did.
    std::set<std::string> named;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto r = nlohmann::json::parse(line, nullptr, false);
      // The hooks run after the run's end (local_hooks.h): its end stays its last word.
      if (r.is_object() && r.value("event", "") == "hook") continue;
      last = line;
      if (!r.is_object() || !r.contains("host") || !r["host"].is_string() || !r.contains("step") ||
          !r["step"].is_string())
        continue;
      const std::string step = r["step"].get<std::string>();
      // Opening the host's session (or falling back from it) changes nothing
      // of the service; nor does checking or installing plugbox's own server.
      if (step == "connect" || step == "session" || step == "unlock" || step.starts_with("server-")) continue;
      if (step == "init" || step == "status" || step == "lock") {
        const bool failed = r.contains("refused") || r.contains("error") ||
                            (r.contains("exit") && r["exit"].is_number_integer() && r["exit"].get<int>() != 0);
        // plugbox-server's words for a lock someone else holds (server-tools/lock.cc).
        const bool held_by_another = step == "lock" && r.contains("error") && r["error"].is_string() &&
                                     r["error"].get<std::string>().find("the deploy lock is held by") != std::string::npos;
        if (!failed || held_by_another) continue;
      }
      named.insert(r["host"].get<std::string>());
    }
    bool names_a_host = false;
    for (const auto& h : hosts) names_a_host |= named.count(h) > 0;
    // A run cut short may have died before any host heard of it. One that
    // ended was the last run on the hosts it worked on, even where it changed
    // nothing (staging refused before any record could be written): undoing
    // the run before it would take a good release away. A deploy of other
    // hosts (another group) is not theirs.
    auto end = nlohmann::json::parse(last, nullptr, false);
    if (end.is_object() && end.value("event", "") == "end" && !names_a_host) continue;
    best = name;
  }
  return best;
}

Journal Journal::open(const std::string& kind, const std::string& run_name) {
  Journal j;
  j.dir_ = state_root() / "runs" / run_name;
  std::error_code ec;
  std::filesystem::create_directories(j.dir_, ec);
  if (ec) throw std::runtime_error("cannot create the run journal " + j.dir_.string() + ": " + ec.message());
  auto file = j.dir_ / (kind + ".jsonl");
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    throw JournalTaken("another run from this machine took the name " + run_name + " (its journal " +
                       file.string() + " exists)");
  if (fd >= 0 && !(j.file_ = ::fdopen(fd, "a"))) ::close(fd);
  if (!j.file_) throw std::runtime_error("cannot write the run journal " + file.string());
  // The test hook (journal.h): kill -9 ourselves after the Nth record.
  j.kill_at_ = env_count("PLUGBOX_TEST_KILL_AT");
  // The fault hook (journal.h): run a line after the Nth record.
  if (const char* c = std::getenv("PLUGBOX_TEST_FAULT_CMD"); c && *c) {
    j.fault_at_ = env_count("PLUGBOX_TEST_FAULT_AT");
    j.fault_cmd_ = c;
  }
  return j;
}

Journal::~Journal() {
  if (file_) std::fclose(file_);
}
Journal::Journal(Journal&& o) noexcept
    : dir_(std::move(o.dir_)),
      file_(std::exchange(o.file_, nullptr)),
      kill_at_(std::exchange(o.kill_at_, 0)),
      fault_at_(std::exchange(o.fault_at_, 0)),
      fault_cmd_(std::move(o.fault_cmd_)),
      written_(std::exchange(o.written_, 0)) {}
Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    if (file_) std::fclose(file_);
    dir_ = std::move(o.dir_);
    file_ = std::exchange(o.file_, nullptr);
    kill_at_ = std::exchange(o.kill_at_, 0);
    fault_at_ = std::exchange(o.fault_at_, 0);
    fault_cmd_ = std::move(o.fault_cmd_);
    written_ = std::exchange(o.written_, 0);
  }
  return *this;
}

void Journal::record(nlohmann::json event) {
  if (!file_) return;
  auto now = std::chrono::system_clock::now();
  event["t"] = std::chrono::duration<double>(now.time_since_epoch()).count();
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
  ++written_;
  if (fault_at_ > 0 && written_ == fault_at_) run_fault_cmd(fault_cmd_);
  if (kill_at_ > 0 && written_ == kill_at_) ::raise(SIGKILL);
}

}  // namespace plugbox::orchestrator
