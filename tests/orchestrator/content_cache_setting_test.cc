#include <catch2/catch.hpp>

#include "orchestrator/content_cache_setting.h"

using namespace plugbox::orchestrator;

TEST_CASE("the content cache: 1024 MB under XDG_CACHE_HOME or ~/.cache by default, PLUGBOX_CACHE_MB sizes it") {
  std::string why;
  auto s = parse_cache_setting(nullptr, nullptr, "/home/op", &why);
  REQUIRE(s);
  CHECK(s->dir == "/home/op/.cache/plugbox/contents");
  CHECK(s->max_bytes == 1024ull << 20);
  s = parse_cache_setting("0", "/var/cache/me", "/home/op", &why);
  REQUIRE(s);
  CHECK(s->dir == "/var/cache/me/plugbox/contents");
  CHECK(s->max_bytes == 0);  // off: every changed content goes whole
  s = parse_cache_setting("200", "", "/home/op", &why);
  REQUIRE(s);
  CHECK(s->dir == "/home/op/.cache/plugbox/contents");  // an empty XDG_CACHE_HOME counts as unset
  CHECK(s->max_bytes == 200ull << 20);
}

TEST_CASE("a PLUGBOX_CACHE_MB that is not a number of MB is one line naming it and the fix") {
  for (const char* bad : {"", "lots", "-1", "12MB", "99999999999"}) {
    INFO(bad);
    std::string why;
    CHECK_FALSE(parse_cache_setting(bad, nullptr, "/home/op", &why));
    CHECK(why == "PLUGBOX_CACHE_MB='" + std::string(bad) +
                     "' is not a size: give megabytes, 0 to 1048576 (0 turns the content cache off; unset means 1024)");
  }
}
