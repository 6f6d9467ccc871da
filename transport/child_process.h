// A spawned child that leads its own process group, with a pidfd that becomes
// readable when it exits (so the io_context can wait for it without SIGCHLD
// handlers or threads). Destroying a child that still runs kills its group
// and reaps it: no process outlives the exec that started it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/unique_fd.h"

namespace plugbox::transport {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Takes ownership of `pid` (a group leader) and opens its pidfd. Returns ""
  // or what failed.
  std::string adopt(pid_t pid);
  // The wait status once the child has exited (reaping it), else nullopt.
  std::optional<int> try_reap();
  // Sends `sig` to the child's whole process group, while it is not reaped.
  void signal_group(int sig);

  int pidfd() const { return pidfd_.get(); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !reaped_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  base::UniqueFd pidfd_;
};

}  // namespace plugbox::transport
