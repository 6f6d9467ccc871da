#include "orchestrator/journal.h"

#include <fstream>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace plugbox::orchestrator {

std::filesystem::path Journal::state_root() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::filesystem::path(x) / "plugbox";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/tmp") / ".local/state/plugbox";
}

std::string Journal::newest_unfinished_deploy(const std::string& service) {
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
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    // A run that ended wrote what it did to the hosts' records; only one cut
    // short may have died before any host heard of it.
    auto end = nlohmann::json::parse(last, nullptr, false);
    if (end.is_object() && end.value("event", "") == "end") continue;
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
  j.file_ = std::fopen(file.c_str(), "a");
  if (!j.file_) throw std::runtime_error("cannot write the run journal " + file.string());
  // The test hook (journal.h): kill -9 ourselves after the Nth record.
  if (const char* k = std::getenv("PLUGBOX_TEST_KILL_AT"); k && *k) {
    char* end = nullptr;
    long n = std::strtol(k, &end, 10);
    if (end && *end == '\0' && n >= 1) j.kill_at_ = n;
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
      written_(std::exchange(o.written_, 0)) {}
Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    if (file_) std::fclose(file_);
    dir_ = std::move(o.dir_);
    file_ = std::exchange(o.file_, nullptr);
    kill_at_ = std::exchange(o.kill_at_, 0);
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
  if (kill_at_ > 0 && ++written_ == kill_at_) ::raise(SIGKILL);
}

}  // namespace plugbox::orchestrator
