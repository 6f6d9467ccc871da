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

TEST_CASE("a fresh home's status says so, nothing live, no lock") {
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

TEST_CASE("a host's maintenance lock is read as the server reports it, never guessed") {
  std::string why;
  auto s = HostStatus::parse(R"({"initialised":true,"live":"V1","hold":{"owner":"alice@laptop","host":"web01",
    "since":"2026-11-25T20:00:00Z","held_s":7980,"message":"db migration","problem":null}})",
                             &why);
  REQUIRE(s);
  REQUIRE(s->hold);
  CHECK(s->hold->owner == "alice@laptop");
  CHECK(s->hold->since == "2026-11-25T20:00:00Z");
  CHECK(s->hold->held_s == 7980);
  CHECK(s->hold->describe() == "alice@laptop for 2h13m: 'db migration'");
  CHECK(s->hold->refusal() ==
        "locked for maintenance by alice@laptop for 2h13m: 'db migration'; `plugbox fleet unlock` ends it (--force "
        "for someone else's)");

  auto u = HostStatus::parse(R"({"initialised":true,"hold":{"owner":null,"problem":"the maintenance lock H is not a hold record"}})", &why);
  REQUIRE(u);
  REQUIRE(u->hold);
  CHECK(u->hold->describe() == "the maintenance lock H is not a hold record");
  CHECK(u->hold->refusal() == "the maintenance lock H is not a hold record, so this host stays locked: `plugbox fleet "
                              "unlock --force` removes it");

  // A hold that names no holder and no problem is not taken for "free".
  auto odd = HostStatus::parse(R"({"initialised":true,"hold":{}})", &why);
  REQUIRE(odd);
  REQUIRE(odd->hold);
  CHECK_FALSE(odd->hold->problem.empty());

  auto none = HostStatus::parse(R"({"initialised":true,"hold":null})", &why);
  REQUIRE(none);
  CHECK_FALSE(none->hold);
}
