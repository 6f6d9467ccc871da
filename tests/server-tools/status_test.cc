#include "server-tools/status.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("status --json follows the documented schema", "[status]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  deploy(home, a);
  must(cli(home, {"next-version", "--name", b, "--by", "alice", "--source-rev", "abc"}));
  std::ofstream(home / "deploy" / b / "f") << "1234";
  must(cli(home, {"seal", b}));
  must(cli(home, {"upgrade-to", b}));
  stage(home, c);
  std::ofstream(home / "deploy" / c / "extra") << "12";

  const Snapshot before = snapshot(home);
  CliResult r = cli(home, {"status", "--json"});
  REQUIRE(r.rc == 0);
  CHECK(snapshot(home) == before);  // status changes nothing
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == 1);
  CHECK(j["home"] == home.string());
  CHECK(j["live"] == b);
  CHECK(j["previous"] == a);
  CHECK(j["chain"] == nlohmann::json{b, a});
  CHECK(j["lock"].is_null());
  CHECK(j["problems"] == nlohmann::json::array());
  REQUIRE(j["versions"].size() == 3);
  const auto& vc = j["versions"][0];  // newest first
  const auto& vb = j["versions"][1];
  const auto& va = j["versions"][2];
  std::set<std::string> keys;
  for (auto it = vb.begin(); it != vb.end(); ++it) keys.insert(it.key());
  CHECK(keys == std::set<std::string>{"name", "state", "created", "by", "source_rev", "size_bytes",
                                      "manifest_digest", "previous", "next", "is_live", "problems"});
  CHECK(vc["name"] == c);
  CHECK(vc["state"] == "staged");
  CHECK(vc["size_bytes"] == 21);  // measured now: marker (19) + extra (2)
  CHECK(vc["is_live"] == false);
  CHECK(vc["previous"] == b);
  CHECK(vb["state"] == "ready");
  CHECK(vb["by"] == "alice");
  CHECK(vb["source_rev"] == "abc");
  CHECK(vb["size_bytes"] == 4);  // recorded at seal (no marker: made by hand above)
  CHECK(vb["is_live"] == true);
  CHECK(vb["previous"] == a);
  CHECK(vb["next"].is_null());
  CHECK(vb["manifest_digest"].is_null());
  CHECK(vb["created"].get<std::string>().size() == 20);
  CHECK(va["next"] == b);
  CHECK(va["previous"].is_null());
  CHECK(va["by"].is_null());
}

TEST_CASE("status text: live, lock, each version, problems", "[status]") {
  TempDir t;
  const auto home = init_home(t);
  CliResult r = cli(home, {"status"});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "home:  " + home.string() + "\nlive:  (none)\nlock:  free\nversions: none\n");

  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);
  fs::create_directory(home / "deploy" / vname(5));  // no record
  std::ofstream(home / "deploy" / "notes.txt") << "x";
  r = cli(home, {"status"});
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("live:  " + b + "  (previous " + a + ")\n") != std::string::npos);
  CHECK(r.out.find("  * " + b + " ready ") != std::string::npos);
  CHECK(r.out.find("    " + a + " ready ") != std::string::npos);
  CHECK(r.out.find("    " + vname(5) + " staged") != std::string::npos);
  CHECK(r.out.find("problem: version " + vname(5) + " has no record") != std::string::npos);
  CHECK(r.out.find("other entries in deploy/ (left alone): notes.txt") != std::string::npos);

  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  CHECK(j["problems"].size() == 1);
  CHECK(j["versions"][0]["problems"].size() == 1);
}

TEST_CASE("status reports a broken live link", "[status]") {
  TempDir t;
  const auto home = init_home(t);
  fs::create_symlink("2030-01-01T00:00:00", home / "deploy/live");
  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  CHECK(j["live"].is_null());
  REQUIRE(j["problems"].size() == 1);
  CHECK(j["problems"][0].get<std::string>().find("no such version") != std::string::npos);
  CHECK(cli(home, {"status"}).out.find("live:  (broken)") != std::string::npos);
}

TEST_CASE("status on a home never deployed to: initialised false, exit 0, nothing created", "[status]") {
  TempDir t;
  const fs::path home = t.path() / "fresh";
  fs::create_directories(home / "deploy");  // an empty deploy/ is still nothing deployed
  for (const fs::path& h : {t.path() / "bare", home}) {
    INFO(h);
    fs::create_directories(h);
    const Snapshot before = snapshot(t.path());
    CliResult r = cli(h, {"status", "--json"});
    INFO(describe(r));
    REQUIRE(r.rc == 0);
    CHECK(r.err.empty());
    CHECK(snapshot(t.path()) == before);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j == nlohmann::json{{"schema", 1},
                              {"home", h.string()},
                              {"live", nullptr},
                              {"previous", nullptr},
                              {"chain", nlohmann::json::array()},
                              {"versions", nlohmann::json::array()},
                              {"lock", nullptr},
                              {"hold", nullptr},
                              {"problems", nlohmann::json::array()},
                              {"initialised", false},
                              {"run", nullptr},
                              {"transaction", nullptr},
                              {"service_stopped", false}});
    r = cli(h, {"status"});
    CHECK(r.rc == 0);
    CHECK(r.out == h.string() + ": nothing was deployed here yet (no deploy/.plugbox/)\n");
    CHECK(snapshot(t.path()) == before);
  }
}

TEST_CASE("status --json says initialised once the home has a layout", "[status]") {
  TempDir t;
  const auto home = init_home(t);
  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  CHECK(j["initialised"] == true);
  CHECK(j["versions"] == nlohmann::json::array());
  deploy(home, vname(1));
  j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  CHECK(j["initialised"] == true);
  CHECK(j["live"] == vname(1));
}

TEST_CASE("status still refuses a home that is not a fresh one", "[status]") {
  TempDir t;
  // deploy/.plugbox/ without versions/: a layout half made or half removed.
  fs::create_directories(t.path() / "half/deploy/.plugbox");
  CliResult r = cli(t.path() / "half", {"status", "--json"});
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("is not a plugbox layout (no deploy/.plugbox/versions/)") != std::string::npos);
  // A deploy/ that is not ours (init would refuse it too).
  fs::create_directories(t.path() / "other/deploy");
  std::ofstream(t.path() / "other/deploy/release.tar") << "x";
  r = cli(t.path() / "other", {"status", "--json"});
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  // A home that does not exist: a wrong --home, not a first deploy.
  r = cli(t.path() / "missing", {"status", "--json"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("is not a directory, so not a plugbox layout") != std::string::npos);
}
