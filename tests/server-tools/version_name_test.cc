#include "server-tools/version_name.h"

#include <catch2/catch.hpp>

using namespace plugbox::server;

TEST_CASE("version names: real UTC calendar times only", "[version_name]") {
  CHECK(is_version_name("2026-11-25T21:40:00"));
  CHECK(is_version_name("2024-02-29T00:00:00"));  // leap year
  CHECK(is_version_name("2000-02-29T23:59:59"));  // divisible by 400
  CHECK(is_version_name("0001-01-01T00:00:00"));

  CHECK(*version_name_problem("1900-02-29T00:00:00") == "1900-02-29 is not a calendar date");
  CHECK(*version_name_problem("2026-02-29T00:00:00") == "2026-02-29 is not a calendar date");
  CHECK(*version_name_problem("2026-04-31T00:00:00") == "2026-04-31 is not a calendar date");
  CHECK(*version_name_problem("2026-13-01T00:00:00") == "month 13 does not exist");
  CHECK(*version_name_problem("2026-00-01T00:00:00") == "month 00 does not exist");
  CHECK(*version_name_problem("2026-01-00T00:00:00") == "2026-01-00 is not a calendar date");
  CHECK(*version_name_problem("2026-01-01T24:00:00") == "hour 24 does not exist");
  CHECK(*version_name_problem("2026-01-01T00:60:00") == "minute 60 does not exist");
  CHECK(*version_name_problem("2026-01-01T00:00:60") == "second 60 does not exist");
  CHECK(*version_name_problem("0000-01-01T00:00:00") == "year 0000 does not exist");

  for (const char* bad : {"", "..", "../2026-01-01T00:00:00", "2026-01-01 00:00:00",
                          "2026-01-01T00:00:00Z", "2026-1-01T00:00:00", "2026-01-01T00:00",
                          "2026-01-01T00:00:0a", "+026-01-01T00:00:00", "2026/01/01T00:00:00",
                          "2026-01-01t00:00:00", " 2026-01-01T00:00:00"}) {
    INFO(bad);
    CHECK(version_name_problem(bad) == std::optional<std::string>("not of the form YYYY-MM-DDTHH:MM:SS"));
  }
}

TEST_CASE("version names and timestamps are made from UTC seconds", "[version_name]") {
  using namespace std::chrono;
  // 2026-11-25T21:40:00Z, plus 999 ms that must be truncated, not rounded.
  const sys_seconds s = sys_days{year{2026} / 11 / 25} + hours{21} + minutes{40};
  const auto t = time_point_cast<system_clock::duration>(s) + milliseconds{999};
  CHECK(version_name_at(t) == "2026-11-25T21:40:00");
  CHECK(utc_timestamp(t) == "2026-11-25T21:40:00Z");
  CHECK(is_version_name(version_name_at(system_clock::now())));
  CHECK(version_name_at(sys_days{year{1999} / 12 / 31} + hours{23} + minutes{59} + seconds{59}) ==
        "1999-12-31T23:59:59");
}
