#include <catch2/catch.hpp>

#include "orchestrator/host_status.h"

using namespace plugbox::orchestrator;

TEST_CASE("a host's status answer is read as the server writes it") {
  std::string why;
  auto s = HostStatus::parse(R"({"schema":1,"home":"/srv/shop","initialised":true,"live":"V2","previous":"V1",
    "chain":["V2","V1"],"versions":[{"name":"V2","state":"ready"},{"name":"V1","state":"ready"}],
    "lock":{"owner":"someone","pid":1},"problems":[]})",
                             &why);
  REQUIRE(s);
  CHECK(s->initialised);
  CHECK(s->live == "V2");
  CHECK(s->previous == "V1");
  CHECK(s->lock_owner == "someone");
  REQUIRE(s->versions.size() == 2);
  CHECK(s->versions[1].name == "V1");
  CHECK(s->raw["home"] == "/srv/shop");
}

TEST_CASE("a fresh home's status says so; nothing live, no lock") {
  std::string why;
  auto s = HostStatus::parse(R"({"schema":1,"home":"/h","initialised":false,"live":null,"previous":null,
    "chain":[],"versions":[],"lock":null,"problems":[]})",
                             &why);
  REQUIRE(s);
  CHECK_FALSE(s->initialised);
  CHECK(s->live.empty());
  CHECK(s->lock_owner.empty());
}

TEST_CASE("an answer that is not a status is refused with a reason") {
  std::string why;
  CHECK_FALSE(HostStatus::parse("plugbox-server: unknown command", &why));
  CHECK_THAT(why, Catch::Contains("same version as plugbox"));
  // An older server's answer has no "initialised": it is not guessed at.
  CHECK_FALSE(HostStatus::parse(R"({"schema":1,"live":"V1"})", &why));
}
