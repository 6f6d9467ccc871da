// End-to-end tests of the real `plugbox` binary over real OpenSSH servers
// (tests/harness): web1 and web2 behind a bastion, deep behind a second
// bastion behind the first (two hops), solo reached directly. Skipped, saying
// why, where the harness cannot run (not root).
#include <catch2/catch.hpp>

#include <map>

#include "tests/harness/sshd_fleet.h"
#include "tests/orchestrator/e2e_scenarios.h"

using namespace plugbox::e2e;

TEST_CASE("sshd e2e: two deploys link the chain and hard-link unchanged files", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_two_deploys(*f);
}

TEST_CASE("sshd e2e: a health failure in a later batch puts every host back on its own previous", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_later_batch_health_failure(*f);
}

TEST_CASE("sshd e2e: a hung health check is killed on the host with the child it started", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_hung_health_check(*f);
}

TEST_CASE("sshd e2e: a staging failure switches no host and removes V everywhere", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_staging_failure(*f);
}

TEST_CASE("sshd e2e: a deploy is refused while someone holds a host's lock", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_concurrent_deploy_refused(*f);
}

TEST_CASE("sshd e2e: a maintenance lock holds off deploy, rollback and gc until unlocked", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_maintenance_lock(*f);
}

TEST_CASE("sshd e2e: fleet gc", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_gc(*f);
}

TEST_CASE("sshd e2e: fleet status table and json", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_status(*f);
}

TEST_CASE("sshd e2e: dry runs change nothing", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_dry_run_changes_nothing(*f);
}

TEST_CASE("sshd e2e: kill -9 mid-switch, then fleet rollback puts the fleet back", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_kill9_mid_switch(*f);
}

TEST_CASE("sshd e2e: a rollback that cannot complete exits 3 naming the host", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_rollback_incomplete(*f);
}

TEST_CASE("sshd e2e: fleet commands through jump hosts exit once done", "[e2e][sshd]") {
  // The jump host connections outlive the sessions through them: a command
  // that kept them open would never leave its event loop.
  E2E_SSH_FLEET_OR_SKIP(f);
  RunOptions o = f->options();
  o.timeout = std::chrono::seconds(20);
  for (std::vector<std::string> args : {std::vector<std::string>{"fleet", "deploy", "--group", "app"},
                                        {"fleet", "status", "--group", "app"},
                                        {"fleet", "gc", "--group", "app", "--keep", "2"},
                                        {"fleet", "rollback", "--group", "app"}}) {
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = f->plugbox(args, o);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(args[1] << " took " << took << " s: " << r.describe());
    CHECK_FALSE(r.timed_out);
    CHECK(r.rc == (args[1] == "rollback" ? 3 : 0));  // rollback: a first deploy has no previous to go back to
  }
}

namespace {

// The journal's last word on `host`'s session: {"server": ...} or {"fallback": ...}.
nlohmann::json session_record(const fs::path& journal, const std::string& host) {
  nlohmann::json last = nlohmann::json::object();
  for (const auto& line : lines_of(journal)) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.value("host", "") == host && e.value("step", "") == "session" && !e.contains("command"))
      last = e;
  }
  return last;
}

}  // namespace

TEST_CASE("sshd e2e: a deploy costs each host one exec channel, and a server without sessions one per step",
          "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->hook_server();
  deploy_release(*f, {"r1"});
  // Deploys release `tag`; the exec requests each host's sshd served for it.
  auto deploy_counting = [&](const std::string& tag) {
    std::map<std::string, int> served;
    for (const auto& h : f->names()) served[h] = -commands_served(*f, h);
    f->write_release({tag});
    Deployed d = deploy(*f);
    for (const auto& h : f->names()) served[h] += commands_served(*f, h);
    return std::pair{d, served};
  };
  auto [d, served] = deploy_counting("r2");
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  for (const auto& h : f->names()) {
    INFO("host " << h << "\n" << f->sshd().log(h));
    CHECK(served[h] == 1);
    CHECK(f->home_of(h).live == d.version);
    // The journal says which server the session was; nobody fell back.
    auto rec = session_record(f->runs_dir() / d.version / "deploy.jsonl", h);
    CHECK_THAT(rec.value("server", ""), Catch::StartsWith("plugbox-server "));
    CHECK_FALSE(rec.contains("fallback"));
  }

  // web2's plugbox-server predates sessions: its steps go one exec each, and
  // the deploy is the same.
  f->mark("web2", "NO_SESSION");
  auto [d3, served3] = deploy_counting("r3");
  INFO(d3.run.describe());
  REQUIRE(d3.run.rc == 0);
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(f->home_of(h).live == d3.version);
    if (h == "web2") CHECK(served3[h] > 4);  // session, init, lock, status, receive, switch, health
    else CHECK(served3[h] == 1);
  }
  CHECK_THAT(session_record(f->runs_dir() / d3.version / "deploy.jsonl", "web2").value("fallback", ""),
             Catch::StartsWith("web2: session: ") &&
                 Catch::Contains("plugbox-server session exit 2: plugbox-server: unknown command 'session'"));
}

TEST_CASE("sshd e2e: an unreachable host stops a deploy, shows in status, is named by rollback", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_unreachable_host(*f, "web2", "bastion");
}

TEST_CASE("sshd e2e: status, gc and rollback on hosts nothing was deployed to", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_fresh_hosts(*f);
}

TEST_CASE("sshd e2e: a host lost mid-switch cannot be rolled back: exit 3 naming it, fixed by rollback --from",
          "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  scenario_host_lost_mid_switch(*f);
}

TEST_CASE("sshd e2e: a deploy through bastions declared only in the ssh config", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  // The inventory names the hosts and their homes only: address, port, user,
  // key, known_hosts and both bastions (deep is two hops in) come from the
  // harness's ssh config, which declares them with HostName/ProxyJump.
  auto q = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::string inv = "[defaults]\nssh_config = " + q(f->sshd().ssh_config_path()) + "\nserver = " + q(f->server_bin()) +
                    "\nhost_key_check = \"strict\"\n";
  for (const auto& h : f->hosts()) inv += "\n[hosts." + h.name + "]\nhome = " + q(h.home.string()) + "\n";
  inv += "\n[groups.app]\nhosts = [\"web1\", \"web2\", \"deep\", \"solo\"]\n";
  write_file(f->inventory(), inv);

  RunResult list = f->plugbox({"inventory", "list", "--json"});
  REQUIRE(list.rc == 0);
  std::map<std::string, nlohmann::json> listed;
  for (const auto& h : nlohmann::json::parse(list.out)) listed[h.at("name").get<std::string>()] = h;
  CHECK(listed.at("deep").at("jump_chain") == nlohmann::json::array({"bastion", "b2"}));
  CHECK(listed.at("web1").at("jump_chain") == nlohmann::json::array({"bastion"}));
  CHECK(listed.at("solo").at("jump_chain").empty());
  CHECK(listed.at("web1").at("address") == f->sshd().host("web1").address);
  CHECK(listed.at("deep").at("port") == f->sshd().host("deep").port);
  CHECK(listed.at("bastion").at("address") == f->sshd().host("bastion").address);

  // A config plugbox cannot follow stops the deploy before anything happens:
  // one line naming the config's file and line, exit 2, nothing changed.
  const std::string cfg = (f->dir() / "bad_ssh_config").string();
  write_file(cfg, slurp(f->sshd().ssh_config_path()) + "Host solo\n  ProxyCommand nc %h %p\n");
  std::string bad_inv = inv;
  bad_inv.replace(bad_inv.find(f->sshd().ssh_config_path()), f->sshd().ssh_config_path().size(), cfg);
  write_file(f->inventory(), bad_inv);
  const Snapshot before = f->snapshot_all();
  const int accepted_before = f->sshd().accepted_connections("bastion");
  RunResult bad = f->plugbox({"fleet", "deploy", "--group", "app"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.rfind(cfg + ":", 0) == 0);
  CHECK(bad.err.find("ProxyCommand") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  CHECK(snapshot_diff(before, f->snapshot_all()) == "");
  CHECK(f->sshd().accepted_connections("bastion") == accepted_before);
  write_file(f->inventory(), inv);

  const int bastion_before = f->sshd().authenticated_connections("bastion");
  Deployed d = deploy(*f);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  for (const auto& n : f->names()) {
    INFO("host " << n);
    CHECK(f->home_of(n).live == d.version);
    CHECK(d.host(n).value("state", "") == "deployed");
    CHECK(f->service_log(n) == "start " + d.version + " " + d.version + "\n");
  }
  // One session to the bastion carries web1, web2 and b2 (and deep behind b2).
  CHECK(f->sshd().authenticated_connections("bastion") - bastion_before == 1);
}
