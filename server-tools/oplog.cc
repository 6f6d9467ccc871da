#include "server-tools/oplog.h"

#include <fstream>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace plugbox::server {

namespace {

std::function<std::optional<int>(const std::string&)>& append_fault() {
  static std::function<std::optional<int>(const std::string&)> f;
  return f;
}

void append(const std::filesystem::path& log_file, const std::string& line) {
  if (auto& f = append_fault())
    if (auto err = f(line)) sys_fail("append to " + log_file.string(), *err);
  append_line(log_file, line);
}

std::string now_utc() { return utc_timestamp(std::chrono::system_clock::now()); }

}  // namespace

std::optional<std::string> user_name_in_passwd(std::istream& passwd, unsigned uid) {
  for (std::string line; std::getline(passwd, line);) {
    // name:password:uid:gid:gecos:home:shell
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    const auto c3 = c2 == std::string::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string::npos || c1 == 0) continue;
    if (line.compare(c2 + 1, c3 - c2 - 1, std::to_string(uid)) == 0) return line.substr(0, c1);
  }
  return std::nullopt;
}

std::optional<std::string> user_name_of(unsigned uid) {
  std::ifstream passwd("/etc/passwd");
  return user_name_in_passwd(passwd, uid);
}

void set_log_append_fault_for_tests(std::function<std::optional<int>(const std::string& line)> fault) {
  append_fault() = std::move(fault);
}

Actor Actor::of_this_process(std::string owner) {
  Actor a;
  const uid_t uid = ::geteuid();
  a.user = user_name_of(uid).value_or("uid " + std::to_string(uid));
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) a.host = host;
  a.pid = static_cast<long>(::getpid());
  a.owner = std::move(owner);
  return a;
}

std::string log_line(const LogEntry& e, const Actor& a, const std::string& time, const std::string& phase,
                     const std::string& op) {
  nlohmann::json j{{"time", time},
                   {"user", a.user},
                   {"host", a.host},
                   {"pid", a.pid},
                   {"owner", a.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.owner)},
                   {"command", e.command},
                   {"versions", e.versions},
                   {"detail", e.detail}};
  if (!phase.empty()) j["phase"] = phase;
  if (!op.empty()) j["op"] = op;
  // Invalid UTF-8 in a name cannot occur (names are validated), but an owner
  // or provenance string could carry it: replace rather than fail the command.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void append_log(const std::filesystem::path& log_file, const LogEntry& entry, const Actor& actor) {
  append(log_file, log_line(entry, actor, now_utc(), "done"));
}

std::string outcome_not_logged_warning(const std::filesystem::path& log_file, const std::string& error) {
  return "warning: the change was made, but its outcome could not be recorded in " + log_file.string() +
         " (" + error + "); the log holds its intent only: make " + log_file.string() +
         " a writable file with free space";
}

LoggedChange::LoggedChange(std::filesystem::path log_file, const Actor& actor, LogEntry intent)
    : log_file_(std::move(log_file)), actor_(actor), entry_(std::move(intent)) {
  static std::atomic<unsigned> counter{0};
  op_ = std::to_string(actor_.pid) + "-" + std::to_string(++counter);
  try {
    append(log_file_, log_line(entry_, actor_, now_utc(), "intent", op_));
  } catch (const std::exception& e) {
    refuse("cannot record " + entry_.command + " in " + log_file_.string() + " before making it (" +
           e.what() + "), so nothing was changed: make " + log_file_.string() +
           " a writable file with free space, then retry");
  }
}

std::optional<std::string> LoggedChange::done(nlohmann::json detail, std::vector<std::string> versions) {
  LogEntry out = entry_;
  out.detail = std::move(detail);
  if (!versions.empty()) out.versions = std::move(versions);
  try {
    append(log_file_, log_line(out, actor_, now_utc(), "done", op_));
    return std::nullopt;
  } catch (const std::exception& e) {
    return outcome_not_logged_warning(log_file_, e.what());
  }
}

void LoggedChange::failed(const std::string& error) {
  LogEntry out = entry_;
  out.detail = nlohmann::json{{"error", error}};
  try {
    append(log_file_, log_line(out, actor_, now_utc(), "failed", op_));
  } catch (const std::exception&) {
    // The command fails with `error` anyway; the intent line stays unanswered.
  }
}

std::vector<nlohmann::json> read_log(const std::filesystem::path& log_file) {
  std::vector<nlohmann::json> out;
  if (kind_of(log_file) == FileKind::absent) return out;
  std::istringstream in(read_file(log_file));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) {
      out.push_back(std::move(j));
      continue;
    }
    // Every line we write is a JSON object: one that starts like ours and
    // does not parse was cut short.
    if (line.front() == '{') continue;
    out.push_back(nlohmann::json(line));
  }
  return out;
}

std::vector<nlohmann::json> read_changes(const std::filesystem::path& log_file) {
  std::vector<nlohmann::json> out;
  for (auto& j : read_log(log_file)) {
    if (!j.is_object()) continue;
    auto phase = j.find("phase");
    if (phase == j.end() || *phase == "done") out.push_back(std::move(j));
  }
  return out;
}

}  // namespace plugbox::server
