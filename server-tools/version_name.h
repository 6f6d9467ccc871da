// Version names (docs/DESIGN.md §2): UTC timestamps `YYYY-MM-DDTHH:MM:SS`, chosen once
// by the client for a whole fleet deploy. Only real calendar values are names;
// nothing else is accepted, so a name can never be a path trick ("..", "/").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace plugbox::server {

// Why `name` is not a version name (one phrase, no trailing period), or
// nullopt when it is one.
std::optional<std::string> version_name_problem(std::string_view name);
inline bool is_version_name(std::string_view name) { return !version_name_problem(name); }

// The version name of a moment (truncated to the second, UTC).
std::string version_name_at(std::chrono::system_clock::time_point t);

// "YYYY-MM-DDTHH:MM:SSZ": the form of every timestamp the tool records
// (created, lock since, log time). The Z tells readers it is UTC.
std::string utc_timestamp(std::chrono::system_clock::time_point t);
// The moment a utc_timestamp names; nullopt for any other text.
std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text);

}  // namespace plugbox::server
