#include "server-tools/version_name.h"

#include <cstdio>

namespace plugbox::server {

namespace {

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

std::string format(std::chrono::system_clock::time_point t, const char* suffix) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), suffix);
  return buf;
}

}  // namespace

std::optional<std::string> version_name_problem(std::string_view name) {
  constexpr std::string_view shape = "YYYY-MM-DDTHH:MM:SS";
  if (name.size() != shape.size() || name[4] != '-' || name[7] != '-' || name[10] != 'T' ||
      name[13] != ':' || name[16] != ':' || !digits(name.substr(0, 4)) ||
      !digits(name.substr(5, 2)) || !digits(name.substr(8, 2)) || !digits(name.substr(11, 2)) ||
      !digits(name.substr(14, 2)) || !digits(name.substr(17, 2)))
    return std::string("not of the form YYYY-MM-DDTHH:MM:SS");
  using namespace std::chrono;
  const int y = number(name.substr(0, 4));
  const unsigned mo = static_cast<unsigned>(number(name.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(number(name.substr(8, 2)));
  if (y == 0) return std::string("year 0000 does not exist");
  if (mo < 1 || mo > 12) return "month " + std::string(name.substr(5, 2)) + " does not exist";
  if (!year_month_day{year{y}, month{mo}, day{d}}.ok())
    return std::string(name.substr(0, 10)) + " is not a calendar date";
  if (number(name.substr(11, 2)) > 23) return "hour " + std::string(name.substr(11, 2)) + " does not exist";
  if (number(name.substr(14, 2)) > 59)
    return "minute " + std::string(name.substr(14, 2)) + " does not exist";
  // UTC names never carry leap seconds: the client takes them from a clock
  // that does not show them, and :60 would sort oddly against the next minute.
  if (number(name.substr(17, 2)) > 59)
    return "second " + std::string(name.substr(17, 2)) + " does not exist";
  return std::nullopt;
}

std::string version_name_at(std::chrono::system_clock::time_point t) { return format(t, ""); }

std::string utc_timestamp(std::chrono::system_clock::time_point t) { return format(t, "Z"); }

std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text) {
  using namespace std::chrono;
  if (text.empty() || text.back() != 'Z') return std::nullopt;
  const std::string_view name = text.substr(0, text.size() - 1);
  if (version_name_problem(name)) return std::nullopt;
  const year_month_day ymd{year{number(name.substr(0, 4))}, month{static_cast<unsigned>(number(name.substr(5, 2)))},
                           day{static_cast<unsigned>(number(name.substr(8, 2)))}};
  return sys_days{ymd} + hours{number(name.substr(11, 2))} + minutes{number(name.substr(14, 2))} +
         seconds{number(name.substr(17, 2))};
}

}  // namespace plugbox::server
