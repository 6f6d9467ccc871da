// Running a shell script from a test: its exit status and its stdout.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace plugbox::docgen::test {

struct ShellRun {
  int status = -1;
  std::string out;  // stdout and stderr
};

// `shell` is "bash" or "zsh"; the script is passed in a file, not quoted.
inline ShellRun run_shell(const std::string& shell, const std::string& script) {
  char path[] = "/tmp/plugbox-docgen-test-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return {};
  ::close(fd);
  std::ofstream(path) << script;
  ShellRun r;
  if (FILE* p = ::popen((shell + " " + path + " 2>&1").c_str(), "r")) {
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  ::unlink(path);
  return r;
}

inline bool have(const std::string& program) {
  return run_shell("sh", "command -v " + program + " >/dev/null").status == 0;
}

}  // namespace plugbox::docgen::test
