#include "server-tools/oplog.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("log lines have the documented schema", "[oplog]") {
  Actor a{"shop", "web01", 42, "deploy-1"};
  LogEntry e{"upgrade-to", {"2026-11-25T21:40:00", "2026-11-24T10:00:00"},
             {{"from", "2026-11-24T10:00:00"}, {"to", "2026-11-25T21:40:00"}}};
  const std::string line = log_line(e, a, "2026-11-25T21:40:01Z");
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line
  auto j = nlohmann::json::parse(line);
  CHECK(j == nlohmann::json{{"time", "2026-11-25T21:40:01Z"},
                            {"user", "shop"},
                            {"host", "web01"},
                            {"pid", 42},
                            {"owner", "deploy-1"},
                            {"command", "upgrade-to"},
                            {"versions", {"2026-11-25T21:40:00", "2026-11-24T10:00:00"}},
                            {"detail", {{"from", "2026-11-24T10:00:00"}, {"to", "2026-11-25T21:40:00"}}}});
  a.owner.clear();
  CHECK(nlohmann::json::parse(log_line(e, a, "t"))["owner"].is_null());
  // A provenance string that is not UTF-8 must not make logging fail.
  a.owner = std::string("bad\xff");
  CHECK_NOTHROW(nlohmann::json::parse(log_line(e, a, "t")));
}

TEST_CASE("append_log appends and read_log reads back, keeping scribbles", "[oplog]") {
  TempDir t;
  const auto f = t.path() / "log";
  Actor a = Actor::of_this_process("");
  CHECK(!a.user.empty());
  CHECK(a.pid == ::getpid());
  append_log(f, {"seal", {"2026-11-25T21:40:00"}, {}}, a);
  { std::ofstream(f, std::ios::app) << "not json\n"; }
  append_log(f, {"remove", {"2026-11-25T21:40:00"}, {}}, a);
  auto lines = read_log(f);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["command"] == "seal");
  CHECK(lines[1] == "not json");
  CHECK(lines[2]["command"] == "remove");
  CHECK(read_log(t.path() / "absent").empty());
}

TEST_CASE("the log's user name comes from /etc/passwd, without NSS, a uid it lacks has none") {
  std::istringstream passwd("root:x:0:0:root:/root:/bin/bash\n"
                            "# a comment line\n"
                            "broken\n"
                            "shop:x:1000:1000:Shop,,,:/srv/shop:/bin/sh\n"
                            "shop2:x:10000:10000::/srv/shop2:/bin/sh\n");
  CHECK(user_name_in_passwd(passwd, 1000) == "shop");
  passwd.clear();
  passwd.seekg(0);
  CHECK(user_name_in_passwd(passwd, 10000) == "shop2");
  passwd.clear();
  passwd.seekg(0);
  CHECK(user_name_in_passwd(passwd, 100) == std::nullopt);
  // This process's own user, as the log records it.
  CHECK(user_name_of(0) == "root");
}
