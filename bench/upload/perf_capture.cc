#include "bench/upload/perf_capture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

namespace plugbox::bench {

PerfCapture::PerfCapture(const std::string& output) {
  if (output.empty()) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execlp("perf", "perf", "record", "-a", "-g", "-F", "499", "-o", output.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid_ < 0) {
    std::perror("bench_upload: fork perf");
    return;
  }
  // perf needs a moment to open its events on every CPU.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

PerfCapture::~PerfCapture() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 130))
    std::fprintf(stderr, "bench_upload: perf record ended badly (status %d)\n", status);
}

}  // namespace plugbox::bench
