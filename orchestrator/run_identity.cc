#include "orchestrator/run_identity.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "orchestrator/journal.h"
#include "orchestrator/planner.h"

namespace plugbox::cli {

std::string whoami() {
  const char* u = std::getenv("USER");
  if (!u || !*u)
    if (const passwd* pw = ::getpwuid(::getuid())) u = pw->pw_name;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(u && *u ? u : "unknown") + "@" + host;
}

std::string owner_id(const std::string& kind, const std::string& run_name) {
  return "plugbox-" + whoami() + "-" + std::to_string(::getpid()) + "-" + (kind.empty() ? "" : kind + "-") + run_name;
}

std::string fresh_run_name(const std::string& kind) {
  for (;;) {
    std::string v = orchestrator::version_now();
    std::error_code ec;
    if (!std::filesystem::exists(orchestrator::Journal::state_root() / "runs" / v / (kind + ".jsonl"), ec)) return v;
    ::usleep(20 * 1000);
  }
}

}  // namespace plugbox::cli
