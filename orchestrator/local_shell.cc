#include "orchestrator/local_shell.h"

#include <signal.h>
#include <unistd.h>

namespace plugbox::orchestrator {

pid_t start_shell_line(const std::string& line, const std::filesystem::path& cwd,
                       const std::vector<std::pair<std::string, std::string>>& vars, bool own_group) {
  const pid_t pid = ::fork();
  if (pid != 0) {
    if (pid > 0 && own_group) ::setpgid(pid, pid);  // also here: no race with the child's own call
    return pid;
  }
  if (own_group) {
    ::setpgid(0, 0);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
  }
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(127);
  for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace plugbox::orchestrator
