#include "orchestrator/local_prepare.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "orchestrator/local_shell.h"

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
    const pid_t pid = start_shell_line(line, svc.source_dir,
                                       {{"PLUGBOX_SERVICE", svc.name}, {"PLUGBOX_VERSION", version}},
                                       /*own_group=*/false);
    int status = 0;
    pid_t r = -1;
    while (pid > 0 && (r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "plugbox: prepare failed: `" << line << "` in " << svc.source_dir.string() << " exited "
                << (WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "on a signal")
                << "; nothing was sent to any host\n";
      return false;
    }
  }
  return true;
}

}  // namespace plugbox::orchestrator
