// The maintenance hold (`hold` / `release`): what it refuses, what it lets
// through, who may end it, and that refused or bad commands change nothing.
#include "server-tools/hold.h"

#include <catch2/catch.hpp>

#include "server-tools/version_name.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;
using namespace std::chrono_literals;

namespace {

const std::string kRefusedBy = "locked for maintenance by alice@laptop for ";

CliResult hold(const fs::path& home, const std::string& owner, const std::string& message) {
  return cli(home, {"--owner", owner, "hold", "--message", message});
}

std::size_t lines_in(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("MaintenanceHold round-trips, held_for and the refusal line", "[hold]") {
  MaintenanceHold h{"alice@laptop", "web01", "2026-11-25T20:00:00Z", "db migration window"};
  auto back = MaintenanceHold::from_json(h.to_json_text());
  REQUIRE(back);
  CHECK(back->owner == "alice@laptop");
  CHECK(back->host == "web01");
  CHECK(back->since == "2026-11-25T20:00:00Z");
  CHECK(back->message == "db migration window");
  CHECK_FALSE(MaintenanceHold::from_json("{}"));
  CHECK_FALSE(MaintenanceHold::from_json("not json"));
  CHECK_FALSE(MaintenanceHold::from_json(R"({"owner":"a","host":"h","since":"s"})"));  // no message

  const auto t0 = *parse_utc_timestamp("2026-11-25T20:00:00Z");
  CHECK(utc_timestamp(t0) == "2026-11-25T20:00:00Z");
  CHECK_FALSE(parse_utc_timestamp("2026-11-25T20:00:00"));
  CHECK_FALSE(parse_utc_timestamp("2026-02-30T20:00:00Z"));
  CHECK(held_for("2026-11-25T20:00:00Z", t0 + 45s) == "45s");
  CHECK(held_for("2026-11-25T20:00:00Z", t0 + 12min + 5s) == "12m");
  CHECK(held_for("2026-11-25T20:00:00Z", t0 + 2h + 13min) == "2h13m");
  CHECK(held_for("2026-11-25T20:00:00Z", t0 + 76h) == "3d4h");
  CHECK(held_for("2026-11-25T20:00:00Z", t0 - 1h) == "0s");  // a clock set back
  CHECK(held_for("yesterday", t0) == "?");
  CHECK(held_seconds("2026-11-25T20:00:00Z", t0 + 90s) == 90);

  HoldLookup l{HoldLookup::Kind::held, h, ""};
  CHECK(hold_refusal(l, t0 + 2h + 13min) ==
        "locked for maintenance by alice@laptop for 2h13m: 'db migration window'; `plugbox fleet unlock` ends it "
        "(--force for someone else's)");
  CHECK_FALSE(hold_refusal(HoldLookup{}, t0));
}

TEST_CASE("a maintenance hold refuses every changing command and lock with one line until released", "[hold]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  make_ready(home, b);

  CliResult h = hold(home, "alice@laptop", "db migration window");
  INFO(describe(h));
  REQUIRE(h.rc == 0);
  CHECK(h.out.rfind("held by alice@laptop since 20", 0) == 0);
  CHECK(h.out.find(": 'db migration window'") != std::string::npos);

  const Snapshot before = snapshot(home);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"upgrade-to", b}, {"rollback-to", a}, {"remove", b}, {"seal", b},
        {"next-version", "--name", vname(3)}, {"gc", "--keep", "2"}, {"lock", "--owner", "deploy-1"},
        // The holder's own deploys are held off too, and --wait does not wait for a window.
        {"--owner", "alice@laptop", "--wait", "30", "upgrade-to", b}}) {
    const auto t0 = std::chrono::steady_clock::now();
    CliResult r = cli(home, args);
    INFO(describe(r));
    CHECK(r.rc == 1);
    CHECK(r.err.find(kRefusedBy) != std::string::npos);
    CHECK(r.err.find(": 'db migration window'; `plugbox fleet unlock` ends it") != std::string::npos);
    CHECK(lines_in(r.err) == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  }
  CHECK(snapshot(home) == before);

  // Readers are not held off, and status says who, since when, for how long and why.
  CHECK(cli(home, {"verify", a}).rc == 0);
  CHECK(cli(home, {"gc", "--keep", "2", "--dry-run"}).rc == 0);
  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  REQUIRE(j["hold"].is_object());
  CHECK(j["hold"]["owner"] == "alice@laptop");
  CHECK(j["hold"]["message"] == "db migration window");
  CHECK(j["hold"]["held_s"].get<long long>() >= 0);
  CHECK(j["hold"]["problem"].is_null());
  CHECK(parse_utc_timestamp(j["hold"]["since"].get<std::string>()));
  CHECK(j["problems"].empty());
  CHECK(j["lock"].is_null());  // the hold is not the flock: no process holds anything
  const std::string text = cli(home, {"status"}).out;
  CHECK(text.find("maintenance: locked by alice@laptop (on ") != std::string::npos);
  CHECK(text.find(": 'db migration window'\n") != std::string::npos);

  // Someone else may not end it without --force, and that changes nothing.
  CliResult other = cli(home, {"--owner", "bob@desk", "release"});
  CHECK(other.rc == 1);
  CHECK(other.err.find("locked for maintenance by alice@laptop for ") != std::string::npos);
  CHECK(other.err.find("not by bob@desk: only its holder unlocks it; `plugbox fleet unlock --force`") !=
        std::string::npos);
  CHECK(snapshot(home) == before);

  CliResult rel = cli(home, {"--owner", "alice@laptop", "release"});
  INFO(describe(rel));
  CHECK(rel.rc == 0);
  CHECK(rel.out == "released the maintenance lock of alice@laptop: 'db migration window'\n");
  CHECK_FALSE(fs::exists(home / "deploy/.plugbox/hold"));
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["hold"].is_null());
  CHECK(cli(home, {"upgrade-to", b}).rc == 0);

  // A second release finds nothing to do.
  CliResult again = cli(home, {"--owner", "alice@laptop", "release"});
  CHECK(again.rc == 0);
  CHECK(again.out == "not locked for maintenance: nothing to release\n");

  // Both changes are in the log, with who and why.
  auto log = read_changes(home / "deploy/.plugbox/log");
  std::vector<std::string> cmds;
  for (const auto& e : log) cmds.push_back(e["command"]);
  REQUIRE(cmds.size() >= 3);
  CHECK(cmds[cmds.size() - 3] == "hold");
  CHECK(cmds[cmds.size() - 2] == "release");
  CHECK(cmds.back() == "upgrade-to");
  CHECK(log[log.size() - 3]["owner"] == "alice@laptop");
  CHECK(log[log.size() - 3]["detail"]["message"] == "db migration window");
}

TEST_CASE("hold waits for no deploy: refused naming the deploy lock's holder, renewed by its own owner", "[hold][process]") {
  TempDir t;
  const auto home = init_home(t);
  {
    Child deployer(server_argv(home, {"lock", "--owner", "deploy-A"}));
    REQUIRE(deployer.read_line(20s));
    CliResult r = hold(home, "alice@laptop", "window");
    CHECK(r.rc == 1);
    CHECK(r.err.find("the deploy lock is held by owner 'deploy-A'") != std::string::npos);
    CHECK_FALSE(fs::exists(home / "deploy/.plugbox/hold"));
    deployer.close_stdin();
    CHECK(deployer.wait() == 0);
  }
  REQUIRE(hold(home, "alice@laptop", "first").rc == 0);
  const auto since = MaintenanceHold::from_json(slurp(home / "deploy/.plugbox/hold"))->since;
  CliResult renewed = hold(home, "alice@laptop", "second");
  CHECK(renewed.rc == 0);
  CHECK(renewed.out.rfind("still held by alice@laptop since " + since + ": 'second'", 0) == 0);
  CHECK(MaintenanceHold::from_json(slurp(home / "deploy/.plugbox/hold"))->message == "second");

  const Snapshot before = snapshot(home);
  CliResult bob = hold(home, "bob@desk", "mine now");
  CHECK(bob.rc == 1);
  CHECK(bob.err.find(kRefusedBy) != std::string::npos);
  CHECK(bob.err.find(": 'second'") != std::string::npos);
  CHECK(snapshot(home) == before);

  // --force ends someone else's.
  CliResult forced = cli(home, {"--owner", "bob@desk", "release", "--force"});
  CHECK(forced.rc == 0);
  CHECK(forced.out == "released the maintenance lock of alice@laptop: 'second'\n");
  CHECK_FALSE(fs::exists(home / "deploy/.plugbox/hold"));
}

TEST_CASE("an unreadable hold file keeps the home locked, status reports it, release --force removes it", "[hold]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1);
  make_ready(home, a);
  { std::ofstream(home / "deploy/.plugbox/hold") << "{\"owner\": \"alice@lap"; }
  const Snapshot before = snapshot(home);

  CliResult r = cli(home, {"upgrade-to", a});
  CHECK(r.rc == 1);
  CHECK(r.err.find("is not a hold record") != std::string::npos);
  CHECK(r.err.find("`plugbox fleet unlock --force` removes it") != std::string::npos);
  CHECK(lines_in(r.err) == 1);

  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  REQUIRE(j["hold"].is_object());
  CHECK(j["hold"]["owner"].is_null());
  CHECK(j["hold"]["problem"].get<std::string>().find("is not a hold record") != std::string::npos);
  REQUIRE(j["problems"].size() == 1);
  CHECK(j["problems"][0].get<std::string>().find("unlock --force") != std::string::npos);
  CHECK(cli(home, {"status"}).out.find("maintenance: locked (unreadable") != std::string::npos);

  CHECK(hold(home, "alice@laptop", "x").rc == 1);
  CliResult rel = cli(home, {"--owner", "alice@laptop", "release"});
  CHECK(rel.rc == 1);
  CHECK(rel.err.find("`plugbox fleet unlock --force` removes it") != std::string::npos);
  CHECK(snapshot(home) == before);

  CliResult forced = cli(home, {"--owner", "alice@laptop", "release", "--force"});
  CHECK(forced.rc == 0);
  CHECK(forced.out == "released the maintenance lock of (unreadable)\n");
  CHECK(cli(home, {"upgrade-to", a}).rc == 0);
}

TEST_CASE("hold and release: bad input is one line, exit 2, and changes nothing", "[hold]") {
  TempDir t;
  const auto home = init_home(t);
  const Snapshot before = snapshot(home);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--owner", "alice@laptop", "hold", "--message", ""}, "--message: the lock message is empty"},
           {{"--owner", "alice@laptop", "hold", "--message", "  "}, "--message: the lock message is empty"},
           {{"--owner", "alice@laptop", "hold", "--message", "two\nlines"}, "control character"},
           {{"--owner", "alice@laptop", "hold"}, "--message is required"},
           {{"hold", "--message", "m"}, "hold needs an owner id"},
           {{"release"}, "release needs the holder's owner id"},
       }) {
    CliResult r = cli(home, c.args);
    INFO(describe(r));
    CHECK(r.rc == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(lines_in(r.err) == 1);
  }
  CHECK(snapshot(home) == before);
}
