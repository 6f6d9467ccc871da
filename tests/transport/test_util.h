// Helpers shared by the transport tests: run a coroutine to its end on an
// io_context, make and remove temporary directories.
#pragma once

#include <unistd.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "transport/asio.h"
#include "transport/transport.h"

#include <boost/asio/io_context.hpp>

namespace plugbox::transport::test {

// Runs the io_context until `a` has finished (open sessions keep the context
// busy forever, so "until it runs out of work" would never come).
template <class T>
T run(boost::asio::io_context& io, Awaitable<T> a) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
    done = true;
  });
  io.restart();
  while (!done)
    if (io.run_one() == 0) break;
  if (error) std::rethrow_exception(error);
  if (!out) throw std::runtime_error("coroutine did not finish");
  return std::move(*out);
}

// Options that keep both outputs in the result.
inline ExecOptions captured() {
  ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  return o;
}

// Runs whatever is ready now (handlers posted by a close, for instance).
inline void drain(boost::asio::io_context& io) {
  io.restart();
  io.poll();
}

// Processes of process group `pgid` that are not zombies (an orphaned zombie
// waits for init to reap it, which is no business of ours), from /proc.
inline int live_processes_in_group(pid_t pgid) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    long ppid, pgrp;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  return n;
}

// The same, once the group has had up to `patience` to die: a killed
// group's leader is reaped first, and the rest, signalled at the same time,
// die on their own schedule (seen still alive right after, on a loaded
// machine). Not a timing assertion: it returns as soon as none is left.
inline int live_processes_in_group_after(pid_t pgid, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
  auto until = std::chrono::steady_clock::now() + patience;
  int left = live_processes_in_group(pgid);
  while (left > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    left = live_processes_in_group(pgid);
  }
  return left;
}

// A directory under $TMPDIR removed (with everything in it) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t") {
    auto base = std::filesystem::temp_directory_path();
    std::random_device rd;
    path_ = base / ("plugbox-transport-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace plugbox::transport::test
