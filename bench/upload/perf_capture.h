// Optional profiling of the measured steps only (--perf-dir): a system-wide
// `perf record` (every process: this one, ssh, rsync, sshd, plugbox-server)
// started before a measured run and stopped right after it, so the untimed
// checks stay out of the profile. Read with `perf report -i FILE --sort comm,dso`.
#pragma once

#include <string>
#include <sys/types.h>

namespace plugbox::bench {

class PerfCapture {
 public:
  // Starts `perf record -a -g -o output` (if output is empty, does nothing).
  explicit PerfCapture(const std::string& output);
  ~PerfCapture();  // stops it (SIGINT) and waits for it to write its file
  PerfCapture(const PerfCapture&) = delete;
  PerfCapture& operator=(const PerfCapture&) = delete;

 private:
  pid_t pid_ = -1;
};

}  // namespace plugbox::bench
