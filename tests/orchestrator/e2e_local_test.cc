// End-to-end tests of the real `plugbox` binary over the local transport
// (each host a directory, its commands run here): fast, and run everywhere.
// The same scenarios run over real sshd in e2e_ssh_test.cc.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "tests/orchestrator/e2e_scenarios.h"

using namespace plugbox::e2e;

TEST_CASE("local e2e: two deploys link the chain and hard-link unchanged files", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_two_deploys(*f);
}

TEST_CASE("local e2e: a health failure in a later batch puts every host back on its own previous", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_later_batch_health_failure(*f);
}

TEST_CASE("local e2e: a staging failure switches no host and removes V everywhere", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_staging_failure(*f);
}

TEST_CASE("local e2e: a deploy is refused while someone holds a host's lock", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_concurrent_deploy_refused(*f);
}

TEST_CASE("local e2e: a maintenance lock holds off deploy, rollback and gc until unlocked", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_maintenance_lock(*f);
}

TEST_CASE("local e2e: fleet gc", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_gc(*f);
}

TEST_CASE("local e2e: fleet status table and json", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_status(*f);
}

TEST_CASE("local e2e: dry runs change nothing", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_dry_run_changes_nothing(*f);
}

TEST_CASE("local e2e: kill -9 mid-switch, then fleet rollback puts the fleet back", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_kill9_mid_switch(*f);
}

TEST_CASE("local e2e: a rollback that cannot complete exits 3 naming the host", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_rollback_incomplete(*f);
}

TEST_CASE("local e2e: SIGINT mid-switch rolls back and exits 130", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_interrupted(*f);
}

TEST_CASE("local e2e: SIGINT while staging removes V everywhere and exits 130", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_interrupted_while_staging(*f);
}

TEST_CASE("local e2e: a hung health check is killed with the child it started", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_hung_health_check(*f);
}

TEST_CASE("local e2e: a failure within max_fail goes back alone and the deploy carries on", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_tolerated_failure(*f);
}

TEST_CASE("local e2e: refresh instead of stop/start, but never on the way back", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_refresh(*f);
}

TEST_CASE("local e2e: status, gc and rollback on hosts nothing was deployed to", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_fresh_hosts(*f);
}

namespace {

std::vector<std::string> lines_of_text(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A fleet with one deploy done, so "nothing touched" has something to keep.
std::unique_ptr<E2eFleet> deployed_fleet() {
  auto f = E2eFleet::local();
  deploy_release(*f, {"r1"});
  return f;
}

}  // namespace

TEST_CASE("local e2e: a bad plugbox.toml prints one file:line:col line per problem and touches nothing",
          "[e2e][local][bad-input]") {
  auto f = deployed_fleet();
  write_file(f->service_file(),
             "[service]\n"
             "name = \"Bad Name\"\n"
             "upload_version = \"dist\"\n"
             "helth = \"true\"\n"
             "[deploy]\n"
             "batches = [1, \"0%\"]\n"
             "max_fail = -1\n");
  Snapshot before = f->snapshot_all();
  const std::string file = f->service_file().string();
  for (std::vector<std::string> args : {std::vector<std::string>{"fleet", "deploy", "--group", "app"},
                                        {"deploy"},
                                        {"fleet", "rollback", "--group", "app"},
                                        {"fleet", "deploy", "--group", "app", "--dry-run"}}) {
    RunResult r = f->plugbox(args);
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.describe());
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(lines_of_text(r.err) ==
          std::vector<std::string>{
              file + ":2:8: service.name: 'Bad Name' is not a service name: use lowercase letters, digits, '-' and "
                     "'_', starting with a letter",
              file + ":4:9: service.helth: unknown key; did you mean 'health'? (known: name, prepare, upload_version, "
                     "upload, exact_mtimes, post_upload, stop, start, refresh, health)",
              file + ":6:15: deploy.batches[1]: '0%' is not a batch size: a batch has at least 1 host",
              file + ":7:12: deploy.max_fail: must be between 0 and 1000000"});
  }
  CHECK(snapshot_diff(before, f->snapshot_all()) == "");
}

TEST_CASE("local e2e: an unknown group is one line saying where it was named, and touches nothing",
          "[e2e][local][bad-input]") {
  auto f = deployed_fleet();
  Snapshot before = f->snapshot_all();
  // On the command line: the inventory is where groups are.
  RunResult r = f->plugbox({"fleet", "deploy", "--group", "ap"});
  INFO(r.describe());
  CHECK(r.rc == 2);
  CHECK(lines_of_text(r.err) ==
        std::vector<std::string>{f->inventory().string() + ": unknown group 'ap'; did you mean 'app'?"});
  // In plugbox.toml's [deploy] group: point at it there.
  std::string text = slurp(f->service_file());
  text.replace(text.find("group = \"app\""), 13, "group = \"apps\"");
  write_file(f->service_file(), text);
  before = f->snapshot_all();
  const int line = 12;  // group's line in E2eFleet::write_service
  for (std::vector<std::string> args : {std::vector<std::string>{"deploy"}, {"rollback"}}) {
    RunResult own = f->plugbox(args);
    INFO(own.describe());
    CHECK(own.rc == 2);
    CHECK(lines_of_text(own.err) ==
          std::vector<std::string>{f->service_file().string() + ":" + std::to_string(line) +
                                   ":9: deploy.group: unknown group 'apps'; did you mean 'app'? (groups are defined in " +
                                   f->inventory().string() + ")"});
  }
  CHECK(snapshot_diff(before, f->snapshot_all()) == "");
}

TEST_CASE("local e2e: a PLUGBOX_SESSION that is neither on nor off is one line naming it, and touches nothing",
          "[e2e][local][bad-input]") {
  auto f = deployed_fleet();
  f->write_release({"r2"});
  Snapshot before = f->snapshot_all();
  RunOptions o = f->options();
  o.env["PLUGBOX_SESSION"] = "no";
  for (std::vector<std::string> args : {std::vector<std::string>{"fleet", "deploy", "--group", "app"},
                                        {"fleet", "rollback", "--group", "app"},
                                        {"fleet", "gc", "--group", "app", "--keep", "2"},
                                        {"fleet", "status", "--group", "app"}}) {
    RunResult r = f->plugbox(args, o);
    INFO(r.describe());
    CHECK(r.rc == 2);
    CHECK(lines_of_text(r.err) ==
          std::vector<std::string>{"plugbox: PLUGBOX_SESSION='no' is not a setting: use on or off (unset means on)"});
  }
  CHECK(snapshot_diff(before, f->snapshot_all()) == "");
  // Both settings work.
  for (const char* v : {"off", "on"}) {
    o.env["PLUGBOX_SESSION"] = v;
    RunResult r = f->plugbox({"fleet", "status", "--group", "app"}, o);
    INFO(v << ": " << r.describe());
    CHECK(r.rc == 0);
  }
}

TEST_CASE("local e2e: a bad inventory is reported with file:line:col and touches nothing", "[e2e][local][bad-input]") {
  auto f = deployed_fleet();
  std::string inv = slurp(f->inventory());
  write_file(f->inventory(), inv + "\n[hosts.h5]\ntransport = \"ssh\"\naddress = \"192.0.2.5\"\nuser = \"e2e\"\njump = \"bastion9\"\n");
  Snapshot before = f->snapshot_all();
  for (std::vector<std::string> args : {std::vector<std::string>{"fleet", "deploy", "--group", "app"},
                                        {"fleet", "status", "--group", "app"},
                                        {"fleet", "gc", "--group", "app", "--keep", "2"}}) {
    RunResult r = f->plugbox(args);
    INFO(r.describe());
    CHECK(r.rc == 2);
    auto lines = lines_of_text(r.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind(f->inventory().string() + ":", 0) == 0);
    CHECK(lines[0].find("bastion9") != std::string::npos);
  }
  CHECK(snapshot_diff(before, f->snapshot_all()) == "");
}

TEST_CASE("local e2e: a prepared tree with a top-level previous is refused before anything is sent",
          "[e2e][local][bad-input]") {
  auto f = deployed_fleet();
  Release r{"r2"};
  r.extra_file = "previous";
  f->write_release(r);
  Snapshot homes_before;
  for (const auto& h : f->hosts())
    for (auto& [k, v] : snapshot(h.home)) homes_before[h.name + " " + k] = v;
  RunResult d = f->plugbox({"fleet", "deploy", "--group", "app"});
  INFO(d.describe());
  CHECK(d.rc == 2);
  auto lines = lines_of_text(d.err);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().find("top-level 'previous'") != std::string::npos);
  CHECK(lines.back().find("nothing was sent") != std::string::npos);
  Snapshot homes_after;
  for (const auto& h : f->hosts())
    for (auto& [k, v] : snapshot(h.home)) homes_after[h.name + " " + k] = v;
  CHECK(snapshot_diff(homes_before, homes_after) == "");
}

TEST_CASE("local e2e: deploys in a row within one second each get their own version", "[e2e][local]") {
  auto f = E2eFleet::local();
  // Version names are seconds: start just after a second begins so that the
  // next deploy (one host, a fraction of a second each) starts within it.
  // (Without the fix, next-version refused the reused name; on a loaded
  // machine every deploy may take a second of its own and this proves less.)
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::this_thread::sleep_for(std::chrono::seconds(1) - (now % std::chrono::seconds(1)) + std::chrono::milliseconds(5));
  std::vector<std::string> versions;
  for (const char* tag : {"r1", "r2", "r3", "r4"}) {
    f->write_release({tag});
    RunResult r = f->plugbox({"fleet", "deploy", "--host", "h1"});
    INFO(tag << ": " << r.describe());
    REQUIRE(r.rc == 0);
    versions.push_back(f->home_of("h1").live);
  }
  for (std::size_t i = 1; i < versions.size(); ++i) CHECK(versions[i - 1] < versions[i]);
  CHECK(f->home_of("h1").names() == versions);
  // Rollbacks in a row likewise: each writes a journal of its own.
  std::size_t rollbacks = 0;
  for (int i = 0; i < 2; ++i) {
    RunResult r = f->plugbox({"fleet", "rollback", "--host", "h1"});
    INFO(r.describe());
    REQUIRE(r.rc == 0);
  }
  for (const auto& e : fs::directory_iterator(f->runs_dir()))
    if (fs::exists(e.path() / "rollback.jsonl")) {
      ++rollbacks;
      std::size_t ends = 0;  // one end: one run wrote it
      for (const auto& line : lines_of(e.path() / "rollback.jsonl"))
        if (nlohmann::json::parse(line).value("event", "") == "end") ++ends;
      CHECK(ends == 1);
    }
  CHECK(rollbacks == 2);
}

TEST_CASE("local e2e: on a terminal, a live progress line counts the fleet's hosts done and failed", "[e2e][local]") {
  auto f = deployed_fleet();
  const std::string v1 = f->home_of("h1").live;
  f->mark("h4", "FAIL_HEALTH");
  f->write_release({"r2"});
  wait_past(v1);
  RunResult r = run_in_pty({E2eFleet::plugbox_bin(), "-i", f->inventory().string(), "-f", f->service_file().string(), "fleet",
                            "deploy", "--group", "app"},
                           f->options());
  INFO(r.describe());
  CHECK(r.rc == 1);
  // One status line, redrawn in place, for the whole fleet.
  CHECK(r.out.find("\r\033[K") != std::string::npos);
  CHECK(r.out.find("stage: 4/4 done, 0 failed") != std::string::npos);
  CHECK(r.out.find("switch: 2/4 done, 0 failed") != std::string::npos);  // batches h1, h2, then h3 h4
  CHECK(r.out.find("switch: 4/4 done, 1 failed") != std::string::npos);
  // Hosts that went well are in that line; failures scroll above it.
  CHECK(r.out.find("[stage] h1: staged") == std::string::npos);
  CHECK(r.out.find("[switch] h4: health check failed") != std::string::npos);
  for (const auto& n : f->names()) CHECK(f->home_of(n).live == v1);
}

TEST_CASE("local e2e: a mistyped command gets a did-you-mean and exit 2", "[e2e][local][bad-input]") {
  auto f = E2eFleet::local();
  // Options with values before the command word must not hide it.
  RunResult r = f->plugbox({"fleet", "deplo", "--group", "app"});
  INFO(r.describe());
  CHECK(r.rc == 2);
  CHECK(r.err == "plugbox: 'deplo' is not a plugbox fleet command; did you mean 'deploy'?\n");
  RunResult top = f->plugbox({"rolback"});
  INFO(top.describe());
  CHECK(top.rc == 2);
  CHECK(top.err == "plugbox: 'rolback' is not a plugbox command; did you mean 'rollback'?\n");
  CHECK_FALSE(fs::exists(f->host("h1").home));
}

TEST_CASE("local e2e: plugbox deploy, rollback and prepare work from the source tree with the default files",
          "[e2e][local]") {
  auto f = E2eFleet::local();
  RunOptions o = f->options();
  o.cwd = f->service_dir();  // ./plugbox.toml
  o.env["PLUGBOX_INVENTORY"] = f->inventory().string();
  auto own = [&](std::vector<std::string> args) {
    args.insert(args.begin(), E2eFleet::plugbox_bin());
    return run(args, o);
  };
  RunResult prep = own({"prepare"});
  INFO(prep.describe());
  CHECK(prep.rc == 0);
  CHECK(fs::exists(f->service_dir() / "dist" / "VERSION"));

  RunResult d1 = own({"deploy"});
  INFO(d1.describe());
  REQUIRE(d1.rc == 0);
  const std::string v1 = f->home_of("h1").live;
  REQUIRE(!v1.empty());
  CHECK(d1.out.find("deployed " + v1 + " to 4 of 4 host(s)") != std::string::npos);
  CHECK(d1.out.find("journal: " + (f->runs_dir() / v1).string()) != std::string::npos);
  wait_past(v1);
  f->write_release({"r2"});
  RunResult d2 = own({"deploy"});
  INFO(d2.describe());
  REQUIRE(d2.rc == 0);
  const std::string v2 = f->home_of("h1").live;
  CHECK(v2 > v1);
  RunResult rb = own({"rollback"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  for (const auto& n : f->names()) {
    INFO("host " << n);
    CHECK(f->home_of(n).live == v1);
    CHECK(f->service_log(n) == "start " + v1 + " " + v1 + "\nstop " + v1 + " " + v2 + "\nstart " + v2 + " " + v2 +
                                   "\nstop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  }
}

TEST_CASE("local e2e: without post_upload, one receive --create --seal stages each host", "[e2e][local]") {
  auto f = E2eFleet::local();
  // The same service minus post_upload: receive seals V itself.
  std::string text = slurp(f->service_file());
  auto at = text.find("post_upload = ");
  REQUIRE(at != std::string::npos);
  text.erase(at, text.find('\n', at) + 1 - at);
  write_file(f->service_file(), text);
  const std::string v1 = deploy_release(*f, {"r1"});
  f->write_release({"r2"});
  Deployed d = deploy(*f);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  const std::string v2 = d.version;
  for (const auto& h : f->names()) {
    INFO("host " << h);
    HomeOnDisk home = f->home_of(h);
    CHECK(home.live == v2);
    CHECK(home.versions[v1].state == "ready");
    CHECK(home.versions[v2].state == "ready");
    CHECK(home.versions[v2].previous == v1);
    CHECK(home.problems.empty());
    CHECK(inode_of(f->host(h).home / "deploy" / v1 / "same.txt") == inode_of(f->host(h).home / "deploy" / v2 / "same.txt"));
  }
  // The journal shows the upload on every host and no separate seal step.
  std::string journal = slurp(f->runs_dir() / v2 / "deploy.jsonl");
  CHECK(journal.find("\"step\":\"upload\"") != std::string::npos);
  CHECK(journal.find("receive " + v2 + " --create --by ") != std::string::npos);
  CHECK(journal.find(" --seal\",") != std::string::npos);
  CHECK(journal.find("\"step\":\"seal\"") == std::string::npos);
}

TEST_CASE("local e2e: a version another deployer made on a host is not ours to remove", "[e2e][local]") {
  auto f = deployed_fleet();
  const std::string v1 = f->home_of("h1").live;
  // Someone else's V on h3, made during prepare (which knows the name this
  // run picked): h3's receive --create refuses it, staging fails.
  write_file(f->service_dir() / "build.sh",
             slurp(f->service_dir() / "build.sh") + "'" + f->server_bin() + "' --home '" + f->host("h3").home.string() +
                 "' next-version --name \"$PLUGBOX_VERSION\" --by someone-else >/dev/null\n");
  f->write_release({"r2"});
  Deployed d = deploy(*f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  const std::string v2 = d.version;
  REQUIRE(!v2.empty());
  // The result names why h3 failed (the upload's reason, not only its state).
  CHECK(d.host("h3").value("error", "").find("exists") != std::string::npos);
  CHECK(d.host("h3").value("state", "") == "failed (live unchanged)");
  for (const auto& h : f->names()) {
    INFO("host " << h);
    HomeOnDisk home = f->home_of(h);
    CHECK(home.live == v1);
    if (h == "h3") {
      // Left alone: staged, with its maker's record.
      CHECK(home.versions.count(v2) == 1);
      CHECK(home.versions[v2].state == "staged");
      CHECK(slurp(f->host(h).home / "deploy/.plugbox/versions" / (v2 + ".json")).find("someone-else") !=
            std::string::npos);
    } else {
      CHECK(home.names() == std::vector<std::string>{v1});  // ours: removed
    }
  }
}

TEST_CASE("local e2e: a build that rewrites every file's mtime still gets its unchanged files hard-linked",
          "[e2e][local]") {
  auto f = E2eFleet::local(2);
  // As a new user writes it: every build is a fresh copy, new mtimes on all.
  auto copying_build = [&] {
    write_file(f->service_dir() / "build.sh",
               "set -e\nrm -rf dist && mkdir dist && cp -r release/. dist/\necho \"$PLUGBOX_VERSION\" > dist/VERSION\n");
  };
  copying_build();
  const std::string v1 = deploy_release(*f, {"r1"});
  const std::string v2 = deploy_release(*f, {"r2"});
  auto mtime_of = [](const fs::path& p) {
    struct stat st;
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return std::pair(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  };
  const std::vector<std::string> unchanged{"bin/start", "bin/stop", "bin/health", "bin/refresh", "bin/post_upload",
                                           "same.txt", "dropped.txt"};
  for (const auto& h : f->names()) {
    const fs::path deploy = f->host(h).home / "deploy";
    for (const auto& file : unchanged) {
      INFO("host " << h << ", " << file);
      CHECK(inode_of(deploy / v1 / file) == inode_of(deploy / v2 / file));
      CHECK(mtime_of(deploy / v1 / file) == mtime_of(deploy / v2 / file));  // its first arrival's
    }
    CHECK(inode_of(deploy / v1 / "changing.txt") != inode_of(deploy / v2 / "changing.txt"));
    HomeOnDisk home = f->home_of(h);
    CHECK(home.live == v2);
    CHECK(home.problems.empty());
  }
  const std::string journal = slurp(f->runs_dir() / v2 / "deploy.jsonl");
  CHECK(journal.find("--exact-mtimes") == std::string::npos);

  // Opted out: each version's files have exactly the build's mtimes, so the
  // rewritten files are copies (still never sent: their contents are there).
  f->write_service("", "exact_mtimes = true");
  copying_build();
  const std::string v3 = deploy_release(*f, {"r3"});
  for (const auto& h : f->names()) {
    const fs::path deploy = f->host(h).home / "deploy";
    for (const auto& file : unchanged) {
      INFO("host " << h << ", " << file);
      CHECK(inode_of(deploy / v2 / file) != inode_of(deploy / v3 / file));
      CHECK(slurp(deploy / v2 / file) == slurp(deploy / v3 / file));
    }
    CHECK(f->home_of(h).problems.empty());
  }
  CHECK(slurp(f->runs_dir() / v3 / "deploy.jsonl").find("--exact-mtimes") != std::string::npos);
}

namespace {

// Every upload record of a deploy's journal, by host.
std::map<std::string, nlohmann::json> upload_records(const E2eFleet& f, const std::string& version) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& line : lines_of(f.runs_dir() / version / "deploy.jsonl")) {
    auto j = nlohmann::json::parse(line);
    if (j.value("step", "") == "upload" && j.contains("ok")) out[j.value("host", "")] = j;
  }
  return out;
}

std::string noise(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (auto& c : s) c = char(rng());
  return s;
}

}  // namespace

TEST_CASE("local e2e: a changed file crosses as a patch against the content this machine deployed before",
          "[e2e][local]") {
  auto f = E2eFleet::local(2);
  const std::string old_big = noise(1 << 20, 7);
  f->write_release({"r1"});
  write_file(f->service_dir() / "release/big.bin", old_big);
  Deployed d1 = deploy(*f);
  INFO(d1.run.describe());
  REQUIRE(d1.run.rc == 0);

  std::string new_big = old_big;
  new_big.replace(500000, 64, std::string(64, 'z'));
  f->write_release({"r2"});
  write_file(f->service_dir() / "release/big.bin", new_big);
  // h2's old big.bin was changed in place since: its patch is detected by the
  // digest and the content resent whole, and the deploy goes through.
  {
    std::string tampered = old_big;
    tampered[10] ^= 1;
    std::ofstream(f->host("h2").home / "deploy" / d1.version / "big.bin", std::ios::binary | std::ios::in) << tampered;
  }
  Deployed d2 = deploy(*f);
  INFO(d2.run.describe());
  REQUIRE(d2.run.rc == 0);
  for (const auto& h : f->names())
    CHECK(slurp(f->host(h).home / "deploy" / d2.version / "big.bin") == new_big);
  auto ups = upload_records(*f, d2.version);
  REQUIRE(ups.size() == 2);
  CHECK(ups["h1"]["files_patched"] == 1);
  CHECK(ups["h1"]["patches_failed"] == 0);
  CHECK(ups["h1"]["wire_bytes"].get<std::uint64_t>() < 64 * 1024);  // 1 MiB of noise: only the change crossed
  CHECK(ups["h2"]["files_patched"] == 0);
  CHECK(ups["h2"]["patches_failed"] == 1);
  CHECK(ups["h2"]["wire_bytes"].get<std::uint64_t>() > (1u << 20));  // resent whole
  for (const auto& h : f->names()) CHECK(f->home_of(h).problems.empty());
  // Each host's own log says how its content came: h1 patched, h2 asked whole.
  CHECK_THAT(slurp(f->host("h1").home / "deploy/.plugbox/log"),
             Catch::Contains("\"files_patched\":1,") && Catch::Contains("\"patches_failed\":0"));
  CHECK_THAT(slurp(f->host("h2").home / "deploy/.plugbox/log"),
             Catch::Contains("\"files_patched\":0,") && Catch::Contains("\"patches_failed\":1"));

  // PLUGBOX_CACHE_MB=0: no cache, every changed content whole; a bad value
  // is one line and touches nothing.
  f->write_release({"r3"});
  write_file(f->service_dir() / "release/big.bin", old_big);
  auto o = f->options();
  o.env["PLUGBOX_CACHE_MB"] = "lots";
  const Snapshot before = f->snapshot_all();
  RunResult bad = f->plugbox({"fleet", "deploy", "--group", "app"}, o);
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Catch::Contains("PLUGBOX_CACHE_MB='lots' is not a size"));
  CHECK(f->snapshot_all() == before);
}
