// deploy/.plugbox/log: the record of every change plugbox-server makes, one
// JSON line per event. A change and its record succeed or fail together:
//
//   1. before the change, an intent line ("phase": "intent") is appended and
//      fsynced. If it cannot be written (the log is not a writable file, the
//      disk is full) the command refuses and changes nothing.
//   2. the change is made.
//   3. its outcome line ("phase": "done", or "failed" with the error when the
//      change itself failed) is appended. If that line cannot be written the
//      change stands: the command still exits 0 and prints one warning line
//      naming the log (the intent line on disk already says what was begun).
//
// An intent without an outcome line means the command was killed (or its
// outcome could not be written) while changing: the chain itself is complete
// or not changed (see chain.h); `status` tells which.
//
// Line schema (stable; keys always present):
//   {"time": "2026-11-25T21:40:00Z",   // UTC, when the line was written
//    "user": "shop",                   // the effective user running the tool
//    "host": "web01", "pid": 4242,
//    "owner": "deploy-7f3a" | null,    // the lock owner id given, if any
//    "command": "upgrade-to",
//    "versions": ["2026-11-25T21:40:00"],   // every version the change touches
//    "detail": {...},                  // command-specific, e.g. {"from": V, "to": W}
//    "phase": "intent" | "done" | "failed",
//    "op": "4242-1"}                   // pairs an outcome with its intent
// Lines written before phases existed have neither "phase" nor "op"; they
// were written after their change and count as "done".
//
// Every line is written with one write(2) on an O_APPEND descriptor; if the
// file does not end with '\n' (a line torn by a full disk or a crash), the
// write starts with '\n' so that entries never glue. A short write is cut
// back off the file. Readers skip a torn line.
#pragma once

#include <filesystem>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace plugbox::server {

struct LogEntry {
  std::string command;
  std::vector<std::string> versions;
  nlohmann::json detail = nlohmann::json::object();
};

// Who makes the changes of this process.
struct Actor {
  std::string user;
  std::string host;
  long pid = 0;
  std::string owner;  // empty: none given
  static Actor of_this_process(std::string owner);
};

// The line (with its '\n') that append_log writes; `phase`/`op` empty: the
// keys are left out (the schema before phases).
std::string log_line(const LogEntry& entry, const Actor& actor, const std::string& time,
                     const std::string& phase = {}, const std::string& op = {});

// Appends one line (phase "done", no op: a change recorded after the fact,
// e.g. init, which creates the log itself). Throws ServerError naming the step.
void append_log(const std::filesystem::path& log_file, const LogEntry& entry, const Actor& actor);

// One change's pair of lines (see the top of this file).
class LoggedChange {
 public:
  // Appends and fsyncs the intent. Throws a refusal (exit 1, nothing
  // changed) naming the log, the failed step and the fix when it cannot.
  LoggedChange(std::filesystem::path log_file, const Actor& actor, LogEntry intent);
  // The outcome line; `detail` replaces the intent's. Never throws: returns
  // the warning line to print when the line could not be written.
  std::optional<std::string> done(nlohmann::json detail, std::vector<std::string> versions = {});
  // The change failed after its intent was written (best effort, never throws).
  void failed(const std::string& error);

  // Runs `change`, recording "failed" with its error if it throws.
  template <class F>
  auto run(F&& change) -> decltype(change()) {
    try {
      return change();
    } catch (const std::exception& e) {
      failed(e.what());
      throw;
    }
  }

 private:
  std::filesystem::path log_file_;
  Actor actor_;
  LogEntry entry_;
  std::string op_;
};

// The warning printed when a change was made but its outcome line could not
// be written: one line naming the log and the fix.
std::string outcome_not_logged_warning(const std::filesystem::path& log_file, const std::string& error);

// Every line of the log, parsed. A line that is not JSON is returned as a
// string value (the log is append-only: an operator may have scribbled on
// it), except a torn line (a JSON object cut short by a full disk or a
// crash), which is skipped.
std::vector<nlohmann::json> read_log(const std::filesystem::path& log_file);

// The changes the log records as made: outcome lines ("done", and lines
// without a phase), in order; intents, failures and scribbles left out.
std::vector<nlohmann::json> read_changes(const std::filesystem::path& log_file);

// For tests: when set, every log append first asks it; a returned errno
// makes that append fail as if write(2) had (nothing is written).
// The user name of `uid` as /etc/passwd has it, without NSS: plugbox-server
// is linked statically, where glibc's getpwuid would need the host's NSS
// modules of the very glibc version it was built with. A user only a
// directory service knows (LDAP, sssd) has none here: the log says "uid N".
std::optional<std::string> user_name_of(unsigned uid);
std::optional<std::string> user_name_in_passwd(std::istream& passwd, unsigned uid);

void set_log_append_fault_for_tests(std::function<std::optional<int>(const std::string& line)> fault);

}  // namespace plugbox::server
