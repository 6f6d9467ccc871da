#include "transport/child_process.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace plugbox::transport {

ChildProcess::~ChildProcess() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string ChildProcess::adopt(pid_t pid) {
  pid_ = pid;
  reaped_ = false;
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return std::string("pidfd_open: ") + ::strerror(errno);
  pidfd_.reset(fd);
  return {};
}

std::optional<int> ChildProcess::try_reap() {
  if (pid_ <= 0) return std::nullopt;
  if (reaped_) return std::nullopt;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return std::nullopt;
  reaped_ = true;
  return status;
}

void ChildProcess::signal_group(int sig) {
  if (running()) ::kill(-pid_, sig);
}

}  // namespace plugbox::transport
