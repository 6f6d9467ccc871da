#include <catch2/catch.hpp>

#include "orchestrator/host_steps.h"

using namespace plugbox::orchestrator;

namespace {

ServiceConfig service(bool refresh) {
  ServiceConfig s;
  s.name = "shop";
  s.stop = {"stop-a", "stop-b"};
  s.start = {"start-shop"};
  if (refresh) s.refresh = {"reload-shop"};
  s.health = "check-shop";
  s.post_upload = {"./migrate"};
  return s;
}

const HostContext kHost{"web1", "/srv/shop", "plugbox-server", "owner-1"};

std::vector<std::string> names(const Steps& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(s.name);
  return out;
}

}  // namespace

TEST_CASE("a switch stops, upgrades and starts, with refresh commands it upgrades and refreshes") {
  auto svc = service(false);
  StepContext c{kHost, svc, 300};
  Steps s = switch_steps(c, "V2", "V1");
  CHECK(names(s) == std::vector<std::string>{"stop", "stop", "upgrade-to", "start"});
  CHECK(s[2].command.render() == "plugbox-server --home /srv/shop --owner owner-1 upgrade-to V2");
  CHECK(s[0].effect == Effect::stops_service);
  CHECK(s[2].effect == Effect::switches_live);
  CHECK_FALSE(s[0].tolerate_failure);
  CHECK_THAT(s[0].command.render(), Catch::Contains("PLUGBOX_VERSION=V2") && Catch::Contains("PLUGBOX_PREVIOUS=V1"));
  // A first deploy has nothing to stop.
  CHECK(names(switch_steps(c, "V2", "")) == std::vector<std::string>{"upgrade-to", "start"});

  auto rsvc = service(true);
  StepContext rc{kHost, rsvc, 300};
  CHECK(names(switch_steps(rc, "V2", "V1")) == std::vector<std::string>{"upgrade-to", "refresh"});
  // ...and nothing to refresh: it is started.
  CHECK(names(switch_steps(rc, "V2", "")) == std::vector<std::string>{"upgrade-to", "start"});
}

TEST_CASE("a rollback runs every stop (failures tolerated), rollback-to, then start, never refresh") {
  auto svc = service(true);
  StepContext c{kHost, svc, 42};
  Steps s = rollback_steps(c, "V1", "V2");
  CHECK(names(s) == std::vector<std::string>{"stop", "stop", "rollback-to", "start"});
  CHECK(s[0].tolerate_failure);
  CHECK(s[1].tolerate_failure);
  CHECK_FALSE(s[2].tolerate_failure);
  CHECK_FALSE(s[3].tolerate_failure);
  CHECK(s[2].command.render() == "plugbox-server --home /srv/shop --owner owner-1 rollback-to V1");
  CHECK(s[3].timeout_s == 42);
  // The old version's commands see it as the version going live.
  CHECK_THAT(s[3].command.render(), Catch::Contains("PLUGBOX_VERSION=V1") && Catch::Contains("PLUGBOX_PREVIOUS=V2"));
  // Without a service file: the links only.
  ServiceConfig none;
  StepContext nc{kHost, none, 300};
  CHECK(names(rollback_steps(nc, "V1", "V2")) == std::vector<std::string>{"rollback-to"});
}

TEST_CASE("the undo of a switch follows how far the switch got") {
  auto svc = service(false);
  StepContext c{kHost, svc, 300};
  Steps sw = switch_steps(c, "V2", "V1");
  SwitchProgress none;
  none.note(sw, 0);
  CHECK(undo_steps(c, none, "V1", "V2").empty());

  SwitchProgress stopped;
  stopped.note(sw, 1);  // the first stop was sent (and failed)
  CHECK(stopped.stopped);
  CHECK_FALSE(stopped.switched);
  Steps restart = undo_steps(c, stopped, "V1", "V2");
  CHECK(names(restart) == std::vector<std::string>{"start"});
  CHECK_THAT(restart[0].command.render(), Catch::Contains("PLUGBOX_VERSION=V1"));

  SwitchProgress switched;
  switched.note(sw, 3);  // upgrade-to sent: it may have switched
  CHECK(switched.switched);
  CHECK(render(undo_steps(c, switched, "V1", "V2"), "") == render(rollback_steps(c, "V1", "V2"), ""));
}

TEST_CASE("health and post_upload steps carry their own timeout and directory") {
  auto svc = service(false);
  StepContext c{kHost, svc, 300};
  auto h = health_step(c, "V2", "V1", 7);
  REQUIRE(h);
  // The host kills the check at 7 s; we wait for its answer 5 s longer.
  CHECK(h->timeout_s == 12);
  auto quick = health_step(c, "V2", "V1", 0.5);
  REQUIRE(quick);
  CHECK(quick->timeout_s == 3);  // 0.5 + the host's 2 s grace + 0.5
  CHECK(h->command.words() == std::vector<std::string>{"plugbox-server", "--home", "/srv/shop", "--owner", "owner-1",
                                                       "run", "--timeout", "7", "--", "check-shop"});
  CHECK(h->command.directory() == "/srv/shop");
  ServiceConfig no_health;
  StepContext nc{kHost, no_health, 300};
  CHECK_FALSE(health_step(nc, "V2", "V1", 7));
  Steps post = post_upload_steps(c, "V2", "V1");
  REQUIRE(post.size() == 1);
  CHECK_THAT(post[0].command.render(), Catch::StartsWith("cd /srv/shop/deploy/V2 || exit"));
}

TEST_CASE("a step list renders as the dry-run shows it and as JSON a host could take") {
  auto svc = service(false);
  StepContext c{kHost, svc, 300};
  Steps s = rollback_steps(c, "V1", "V2");
  std::string text = render(s, "  ");
  CHECK_THAT(text, Catch::Contains("  plugbox-server --home /srv/shop --owner owner-1 rollback-to V1\n"));
  CHECK_THAT(text, Catch::Contains("(stop: a failure is recorded and the next step runs)"));
  auto j = to_json(s);
  REQUIRE(j.size() == 4);
  // A chain step goes to the host as an operation, not a command line.
  CHECK(j[2]["op"] == "rollback-to");
  CHECK(j[2]["version"] == "V1");
  CHECK(j[2]["effect"] == "switch");
  CHECK_FALSE(j[2].contains("argv"));
  CHECK(j[0]["shell"] == "stop-a");
  CHECK(j[0]["env"]["PLUGBOX_VERSION"] == "V1");
  CHECK(j[0]["tolerate_failure"] == true);
}

TEST_CASE("every plugbox-server command has its builder") {
  const auto& h = kHost;
  const std::string p = "plugbox-server --home /srv/shop --owner owner-1 ";
  CHECK(server_cmd::init(h).render() == p + "init");
  CHECK(server_cmd::lock(h).render() == p + "lock");
  CHECK(server_cmd::status_json(h).render() == p + "status --json");
  CHECK(server_cmd::receive(h, "V", {"--create", "--seal"}).render() == p + "receive V --create --seal");
  CHECK(server_cmd::seal(h, "V").render() == p + "seal V");
  CHECK(server_cmd::remove(h, "V").render() == p + "remove V --missing-ok");
  CHECK(server_cmd::gc(h, 5, false).render() == p + "gc --keep 5");
  CHECK(server_cmd::gc(h, 3, true).render() == p + "gc --keep 3 --dry-run");
  // The message is one word of the argv, quoted as the shell needs: never spliced.
  CHECK(server_cmd::hold(h, "db migration; it's late").render() ==
        p + "hold --message 'db migration; it'\\''s late'");
  CHECK(server_cmd::release(h, false).render() == p + "release");
  CHECK(server_cmd::release(h, true).render() == p + "release --force");
}
