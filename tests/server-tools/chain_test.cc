// The chain's commands through the CLI (in-process), including the seed's
// scenarios: three deploys, rollback, remove with splicing, gc.
#include "server-tools/chain.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "chain_model.h"
#include "server-tools/oplog.h"
#include "server-tools/version_name.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

namespace {

// Every symlink under `root` with its text.
std::map<std::string, std::string> links(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_symlink()) out[it->path().lexically_relative(root).string()] = fs::read_symlink(it->path()).string();
  return out;
}

// Every regular file under `root` (but the log) with its content.
std::map<std::string, std::string> files(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && !it->is_symlink() && it->path().filename() != "log")
      out[it->path().lexically_relative(root).string()] = slurp(it->path());
  return out;
}

std::string live_marker(const fs::path& home) { return slurp(home / "live" / "marker"); }

void check_matches(const fs::path& home, const ChainModel& m) {
  DiskChain d = read_disk(home);
  INFO(join_problems(d.problems));
  CHECK(d.problems.empty());
  CHECK(d.live == m.live);
  CHECK(d.prev == m.prev);
  CHECK(d.next == m.next);
  std::map<std::string, std::string> states;
  for (auto& [v, r] : m.ready) states[v] = r ? "ready" : "staged";
  CHECK(d.state == states);
}

}  // namespace

TEST_CASE("seed scenario: three deploys, then rollbacks", "[chain][seed]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);

  deploy(home, a);  // the first deploy: nothing was live
  CHECK(link_of(home / "deploy/live") == a);
  CHECK(link_of(home / "deploy" / a / "previous").empty());
  CHECK(live_marker(home) == a);  // HOME/live -> deploy/live -> A

  deploy(home, b);
  deploy(home, c);
  CHECK(link_of(home / "deploy/live") == c);
  CHECK(link_of(home / "deploy" / c / "previous") == "../" + b);
  CHECK(link_of(home / "deploy" / b / "previous") == "../" + a);
  CHECK(link_of(home / "deploy" / a / "next") == "../" + b);
  CHECK(link_of(home / "deploy" / b / "next") == "../" + c);
  CHECK(link_of(home / "deploy" / c / "next").empty());
  CHECK(live_marker(home) == c);

  // Rollback moves only live; the links are history.
  const auto links_before = links(home);
  CliResult r = cli(home, {"rollback-to"});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "live: " + c + " -> " + b + "\n");
  auto links_after = links(home);
  CHECK(links_after["deploy/live"] == b);
  links_after["deploy/live"] = c;
  CHECK(links_after == links_before);
  CHECK(live_marker(home) == b);

  REQUIRE(cli(home, {"rollback-to"}).rc == 0);  // twice: two versions back
  CHECK(live_marker(home) == a);
  const Snapshot before = snapshot(home);
  r = cli(home, {"rollback-to"});
  CHECK(r.rc == 1);
  CHECK(r.err == "plugbox-server rollback-to: the live version " + a +
                     " has no previous version (it was the first one, or its previous was removed): "
                     "name one: rollback-to V\n");
  CHECK(snapshot(home) == before);

  // Forward again by name.
  REQUIRE(cli(home, {"rollback-to", c}).rc == 0);
  CHECK(live_marker(home) == c);

  // Every change is in the log, in order, with who and what.
  auto log = read_changes(home / "deploy/.plugbox/log");
  std::vector<std::string> cmds;
  for (auto& l : log) cmds.push_back(l["command"]);
  CHECK(cmds == std::vector<std::string>{"init", "next-version", "seal", "upgrade-to", "next-version", "seal",
                                         "upgrade-to", "next-version", "seal", "upgrade-to", "rollback-to",
                                         "rollback-to", "rollback-to"});
  CHECK(log[6]["detail"] == nlohmann::json{{"from", a}, {"to", b}});
  CHECK(log.back()["detail"] == nlohmann::json{{"from", a}, {"to", c}});
  for (auto& l : log) {
    CHECK(l["user"].is_string());
    CHECK(l["time"].get<std::string>().size() == 20);
  }
}

TEST_CASE("upgrade-to re-points previous at what is live now", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  deploy(home, a);
  deploy(home, b);
  stage(home, c);
  CHECK(link_of(home / "deploy" / c / "previous") == "../" + b);  // live at next-version
  must(cli(home, {"rollback-to", a}));
  must(cli(home, {"seal", c}));
  must(cli(home, {"upgrade-to", c}));
  CHECK(link_of(home / "deploy" / c / "previous") == "../" + a);  // live at upgrade-to
  CHECK(link_of(home / "deploy" / a / "next") == "../" + c);
  CHECK(link_of(home / "deploy" / b / "previous") == "../" + a);  // untouched history
  CHECK(link_of(home / "deploy" / b / "next").empty());
  must(cli(home, {"rollback-to"}));
  CHECK(link_of(home / "deploy/live") == a);  // "previous" meant what was live before
}

TEST_CASE("upgrade-to: already live, staged, unknown", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  stage(home, b);
  const Snapshot before = snapshot(home);

  CliResult r = cli(home, {"upgrade-to", a});
  CHECK(r.rc == 0);
  CHECK(r.out == "version " + a + " is already live\n");
  CHECK(snapshot(home) == before);  // not even a log line

  r = cli(home, {"upgrade-to", b});
  CHECK(r.rc == 1);
  CHECK(r.err.find("version " + b + " is staged, not ready: seal it") != std::string::npos);
  CHECK(snapshot(home) == before);

  r = cli(home, {"upgrade-to", vname(9)});
  CHECK(r.rc == 1);
  CHECK(r.err.find("no version " + vname(9) + " in ") != std::string::npos);
  CHECK(snapshot(home) == before);

  r = cli(home, {"rollback-to", b});
  CHECK(r.rc == 1);
  CHECK(r.err.find("is staged, not ready") != std::string::npos);
  CHECK(snapshot(home) == before);
}

TEST_CASE("seed scenario: remove splices, touching only links that point at the version", "[chain][seed]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3), d = vname(4);
  deploy(home, a);
  deploy(home, b);
  deploy(home, c);
  deploy(home, d);
  const auto links_before = links(home);
  const auto files_before = files(home);

  CliResult r = cli(home, {"remove", b});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "removed " + b + " (" + a + "/next -> ../" + c + ", " + c + "/previous -> ../" + a + ")\n");

  auto expected_links = links_before;
  expected_links.erase("deploy/" + b + "/previous");
  expected_links.erase("deploy/" + b + "/next");
  expected_links["deploy/" + a + "/next"] = "../" + c;      // its previous's next := its next
  expected_links["deploy/" + c + "/previous"] = "../" + a;  // its next's previous := its previous
  CHECK(links(home) == expected_links);
  auto expected_files = files_before;
  expected_files.erase("deploy/" + b + "/marker");
  expected_files.erase("deploy/.plugbox/versions/" + b + ".json");
  CHECK(files(home) == expected_files);
  CHECK_FALSE(fs::exists(home / "deploy" / b));
  CHECK(fs::is_empty(home / "deploy/.plugbox/trash"));
  CHECK(fs::is_empty(home / "deploy/.plugbox/tmp"));
  auto log = read_changes(home / "deploy/.plugbox/log");
  CHECK(log.back()["command"] == "remove");
  CHECK(log.back()["versions"] == nlohmann::json{b});

  // The oldest version has no previous: its next loses its previous link.
  REQUIRE(cli(home, {"remove", "-v", a}).rc == 0);
  CHECK(link_of(home / "deploy" / c / "previous").empty());
  CHECK(link_of(home / "deploy" / c / "next") == "../" + d);

  // The live version is refused, and nothing changes.
  const Snapshot before = snapshot(home);
  r = cli(home, {"remove", d});
  CHECK(r.rc == 1);
  CHECK(r.err == "plugbox-server remove: version " + d +
                     " is live and cannot be removed: switch live to another version first (rollback-to or "
                     "upgrade-to)\n");
  CHECK(snapshot(home) == before);

  // Removing live's previous leaves live without one: rollback then needs a name.
  REQUIRE(cli(home, {"remove", c}).rc == 0);
  CHECK(link_of(home / "deploy" / d / "previous").empty());
  CHECK(cli(home, {"rollback-to"}).rc == 1);
}

TEST_CASE("remove: staged leftovers, --missing-ok, stale records, read-only trees", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  stage(home, b);
  fs::create_directories(home / "deploy" / b / "ro/deeper");
  fs::permissions(home / "deploy" / b / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(home / "deploy" / b, fs::perms::owner_read | fs::perms::owner_exec);
  REQUIRE(cli(home, {"remove", b}).rc == 0);
  CHECK_FALSE(fs::exists(home / "deploy" / b));

  const Snapshot before = snapshot(home);
  CliResult r = cli(home, {"remove", b});
  CHECK(r.rc == 1);
  CHECK(r.err.find("no version " + b) != std::string::npos);
  r = cli(home, {"remove", "--missing-ok", b});
  CHECK(r.rc == 0);
  CHECK(r.out == "no version " + b + ": nothing to remove\n");
  CHECK(snapshot(home) == before);

  std::ofstream(home / "deploy/.plugbox/versions" / (b + ".json")) << "{}";
  r = cli(home, {"remove", b});
  CHECK(r.rc == 0);
  CHECK(r.out.find("removed the stale record of " + b) != std::string::npos);
  CHECK_FALSE(fs::exists(home / "deploy/.plugbox/versions" / (b + ".json")));
}

TEST_CASE("seed scenario: gc keeps the N newest, live and live's previous", "[chain][seed]") {
  TempDir t;
  const auto home = init_home(t);
  ChainModel m;
  for (int i = 1; i <= 6; ++i) {
    deploy(home, vname(i));
    m.next_version(vname(i));
    m.seal(vname(i));
    m.upgrade_to(vname(i));
  }
  must(cli(home, {"rollback-to", vname(2)}));  // live is old now
  m.rollback_to(vname(2));
  stage(home, vname(7));  // a staged leftover of a failed deploy
  m.next_version(vname(7));
  check_matches(home, m);

  const Snapshot before = snapshot(home);
  CliResult r = cli(home, {"gc", "--keep", "2", "--dry-run"});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "gc --keep 2 (dry run): keeps " + vname(6) + " " + vname(5) + " " + vname(2) + " " + vname(1) +
                     "\nwould remove " + vname(3) + "\nwould remove " + vname(4) + "\nwould remove " + vname(7) +
                     "\n");
  CHECK(snapshot(home) == before);

  r = cli(home, {"gc", "--keep", "2"});
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("removed " + vname(3)) != std::string::npos);
  auto gone = m.gc(2);
  CHECK(*gone == std::vector<std::string>{vname(3), vname(4), vname(7)});
  check_matches(home, m);
  CHECK(link_of(home / "deploy" / vname(5) / "previous") == "../" + vname(2));  // spliced twice
  CHECK(link_of(home / "deploy" / vname(2) / "next") == "../" + vname(5));
  CHECK(live_marker(home) == vname(2));

  const Snapshot after = snapshot(home);
  r = cli(home, {"gc", "--keep", "2"});
  CHECK(r.rc == 0);
  CHECK(r.out == "gc --keep 2: nothing to remove\n");
  CHECK(snapshot(home) == after);
  auto log = read_changes(home / "deploy/.plugbox/log");
  CHECK(std::count_if(log.begin(), log.end(), [](auto& l) { return l["command"] == "gc"; }) == 3);
}

TEST_CASE("next-version: default name, provenance, existing names", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const auto before_t = version_name_at(std::chrono::system_clock::now());
  CliResult r = cli(home, {"next-version", "--by", "alice@laptop", "--source-rev", "9f2c1e0"});
  const auto after_t = version_name_at(std::chrono::system_clock::now());
  REQUIRE(r.rc == 0);
  const std::string v = r.out.substr(0, r.out.size() - 1);
  CHECK(r.out.back() == '\n');
  CHECK(is_version_name(v));
  CHECK(before_t <= v);
  CHECK(v <= after_t);
  auto rec = nlohmann::json::parse(slurp(home / "deploy/.plugbox/versions" / (v + ".json")));
  CHECK(rec["state"] == "staged");
  CHECK(rec["by"] == "alice@laptop");
  CHECK(rec["source_rev"] == "9f2c1e0");
  CHECK(rec["created"].get<std::string>().size() == 20);
  CHECK(link_of(home / "deploy" / v / "previous").empty());  // nothing live

  const Snapshot before = snapshot(home);
  r = cli(home, {"next-version", "--name", v});
  CHECK(r.rc == 1);
  CHECK(r.err.find("version " + v + " exists (staged)") != std::string::npos);
  CHECK(r.err.find("remove " + v) != std::string::npos);
  CHECK(snapshot(home) == before);
}

TEST_CASE("seal records the size and refuses trees carrying chain names", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  stage(home, a);
  std::ofstream(home / "deploy" / a / "more") << "0123456789";
  CliResult r = cli(home, {"seal", a});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "sealed " + a + ": ready (29 bytes)\n");  // marker (19) + more (10)
  auto rec = nlohmann::json::parse(slurp(home / "deploy/.plugbox/versions" / (a + ".json")));
  CHECK(rec["state"] == "ready");
  CHECK(rec["size_bytes"] == 29);
  CHECK(rec["sealed"].is_string());

  Snapshot before = snapshot(home);
  r = cli(home, {"seal", a});
  CHECK(r.rc == 0);
  CHECK(r.out == "version " + a + " is already ready\n");
  CHECK(snapshot(home) == before);

  stage(home, b);
  std::ofstream(home / "deploy" / b / "next") << "an uploaded file named next";
  before = snapshot(home);
  r = cli(home, {"seal", b});
  CHECK(r.rc == 1);
  CHECK(r.err.find("has a top-level `next`") != std::string::npos);
  CHECK(snapshot(home) == before);

  stage(home, c);
  std::ofstream(home / "deploy" / c / "previous") << "an uploaded file named previous";
  before = snapshot(home);
  r = cli(home, {"seal", c});
  CHECK(r.rc == 1);
  CHECK(r.err.find("previous is not a symlink") != std::string::npos);
  CHECK(snapshot(home) == before);
}

TEST_CASE("killed commands' leftovers are swept by the next change, not by a refusal", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  make_ready(home, b);
  const auto tmp = home / "deploy/.plugbox/tmp", trash = home / "deploy/.plugbox/trash";
  fs::create_symlink("x", tmp / "live.99999.0");
  fs::create_directories(trash / (a + ".99999.0") / "half-deleted");

  const Snapshot before = snapshot(home);
  CHECK(cli(home, {"remove", a}).rc == 1);  // a is live: refused, nothing swept
  CHECK(snapshot(home) == before);

  REQUIRE(cli(home, {"upgrade-to", b}).rc == 0);
  CHECK(fs::is_empty(tmp));
  CHECK(fs::is_empty(trash));
}

TEST_CASE("a version directory without a record is staged and can never go live", "[chain]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1);
  fs::create_directory(home / "deploy" / a);  // as a kill between mkdir and the record leaves it
  CliResult r = cli(home, {"upgrade-to", a});
  CHECK(r.rc == 1);
  CHECK(r.err.find("has no record") != std::string::npos);
  r = cli(home, {"seal", a});
  CHECK(r.rc == 1);
  CHECK(r.err.find("has no record") != std::string::npos);
  REQUIRE(cli(home, {"gc", "--keep", "2"}).rc == 0);
  CHECK_FALSE(fs::exists(home / "deploy" / a));
}
