#include "orchestrator/local_prepare.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace plugbox::orchestrator {

std::string source_rev(const std::filesystem::path& dir) {
  if (dir.string().find('\'') != std::string::npos) return "";
  std::string cmd = "git -C '" + dir.string() + "' rev-parse --short HEAD 2>/dev/null";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  char buf[128] = {0};
  std::string out = std::fgets(buf, sizeof buf, p) ? buf : "";
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool run_prepare(const ServiceConfig& svc, const std::string& version) {
  for (const auto& line : svc.prepare) {
    std::cerr << "prepare: $ " << line << "\n";
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(svc.source_dir.c_str()) != 0) _exit(127);
      ::setenv("PLUGBOX_SERVICE", svc.name.c_str(), 1);
      ::setenv("PLUGBOX_VERSION", version.c_str(), 1);
      ::dup2(STDERR_FILENO, STDOUT_FILENO);  // stdout stays ours (JSON events)
      ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "plugbox: prepare failed: `" << line << "` in " << svc.source_dir.string() << " exited "
                << (WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "on a signal")
                << "; nothing was sent to any host\n";
      return false;
    }
  }
  return true;
}

}  // namespace plugbox::orchestrator
