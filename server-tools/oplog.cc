#include "server-tools/oplog.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace plugbox::server {

Actor Actor::of_this_process(std::string owner) {
  Actor a;
  const uid_t uid = ::geteuid();
  if (const passwd* pw = ::getpwuid(uid); pw && pw->pw_name)
    a.user = pw->pw_name;
  else
    a.user = "uid " + std::to_string(uid);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) a.host = host;
  a.pid = static_cast<long>(::getpid());
  a.owner = std::move(owner);
  return a;
}

std::string log_line(const LogEntry& e, const Actor& a, const std::string& time) {
  nlohmann::json j{{"time", time},
                   {"user", a.user},
                   {"host", a.host},
                   {"pid", a.pid},
                   {"owner", a.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.owner)},
                   {"command", e.command},
                   {"versions", e.versions},
                   {"detail", e.detail}};
  // Invalid UTF-8 in a name cannot occur (names are validated), but an owner
  // or provenance string could carry it: replace rather than fail the command.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void append_log(const std::filesystem::path& log_file, const LogEntry& entry, const Actor& actor) {
  append_line(log_file, log_line(entry, actor, utc_timestamp(std::chrono::system_clock::now())));
}

std::vector<nlohmann::json> read_log(const std::filesystem::path& log_file) {
  std::vector<nlohmann::json> out;
  if (kind_of(log_file) == FileKind::absent) return out;
  std::istringstream in(read_file(log_file));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    out.push_back(j.is_discarded() ? nlohmann::json(line) : std::move(j));
  }
  return out;
}

}  // namespace plugbox::server
