// deploy/.plugbox/log: one JSON line per change, appended after the change is
// made (a refused or failed command changes nothing and logs nothing).
//
// Line schema (stable; keys always present):
//   {"time": "2026-11-25T21:40:00Z",   // UTC, when the change completed
//    "user": "shop",                   // the effective user running the tool
//    "host": "web01", "pid": 4242,
//    "owner": "deploy-7f3a" | null,    // the lock owner id given, if any
//    "command": "upgrade-to",
//    "versions": ["2026-11-25T21:40:00"],   // every version the change touched
//    "detail": {...}}                  // command-specific, e.g. {"from": V, "to": W}
//
// A kill -9 between a change and its line loses the line (the change itself
// is complete or not made, see chain.h); the log never claims a change that
// did not happen.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
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

// The line (with its '\n') that append_log writes.
std::string log_line(const LogEntry& entry, const Actor& actor, const std::string& time);

void append_log(const std::filesystem::path& log_file, const LogEntry& entry, const Actor& actor);

// Every line of the log, parsed; a line that is not JSON is returned as a
// string value (the log is append-only: an operator may have scribbled on it).
std::vector<nlohmann::json> read_log(const std::filesystem::path& log_file);

}  // namespace plugbox::server
