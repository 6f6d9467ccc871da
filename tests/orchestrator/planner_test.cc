#include <catch2/catch.hpp>

#include <map>

#include "orchestrator/planner.h"
#include "orchestrator/server_install.h"

using namespace plugbox::orchestrator;

namespace {
const char* kInventory = R"(
[defaults]
user = "shop"
[hosts.edge]
address = "203.0.113.10"
[hosts.bastion]
address = "10.0.0.5"
jump = "edge"
[hosts."web[1:5]"]
address = "web{}.internal"
jump = "bastion"
[hosts.lab]
transport = "local"
home = "/tmp/lab"
[groups.web]
hosts = ["web[1:5]"]
)";

ServiceConfig service() {
  return ServiceConfig::parse(R"(
[service]
name = "shop"
upload_version = "dist"
post_upload = ["./bin/migrate --check"]
stop = ["svc stop"]
start = ["svc start"]
health = "curl -fsS localhost:8080/health"
[deploy]
batches = [1, "50%"]
)",
                              "plugbox.toml");
}
}  // namespace

TEST_CASE("the plan: one version for all, batches, chains resolved to endpoints") {
  auto inv = plugbox::inventory::Inventory::parse(kInventory, "inventory.toml");
  auto hosts = inv.select({{"web"}, {}});
  DeployOptions o{"2026-11-25T21:40:00", "owner-1", std::nullopt, std::nullopt, 50, "me@here", "abc123"};
  auto plan = plan_deploy(service(), inv, hosts, o);
  REQUIRE(plan.hosts.size() == 5);
  CHECK(plan.batches == std::vector<std::vector<std::size_t>>{{0}, {1, 2, 3}, {4}});
  const auto& web1 = plan.hosts[0];
  CHECK(web1.target.endpoint.address == "web1.internal");
  CHECK(web1.target.endpoint.user == "shop");
  REQUIRE(web1.target.jump_chain.size() == 2);
  CHECK(web1.target.jump_chain[0].name == "edge");
  CHECK(web1.target.jump_chain[1].address == "10.0.0.5");
  CHECK(web1.ctx.home == "/home/shop");
  // --batches and --max-fail override the service file.
  o.batches = std::vector<BatchSize>{{false, 2}};
  o.max_fail = 1;
  auto p2 = plan_deploy(service(), inv, hosts, o);
  CHECK(p2.batches.size() == 3);
  CHECK(p2.max_fail == 1);
}

TEST_CASE("remote commands are values with every word quoted") {
  HostContext h{"web1", "/srv/my shop", "plugbox-server", "owner-1"};
  CHECK(server_command(h, {"upgrade-to", "2026-11-25T21:40:00"}).render() ==
        "plugbox-server --home '/srv/my shop' --owner owner-1 upgrade-to 2026-11-25T21:40:00");
  HostContext custom{"web1", "/srv/shop", "/opt/pb/bin/plugbox-server --wait 5", "o"};
  CHECK(server_command(custom, {"status", "--json"}).render() ==
        "/opt/pb/bin/plugbox-server --wait 5 --home /srv/shop --owner o status --json");
  auto c = service_command(h, ServiceEnv{"shop", "V2", "V1"}, "./bin/migrate --check", version_dir(h, "V2"));
  std::string line = c.render();
  CHECK_THAT(line, Catch::Contains("'/srv/my shop/deploy/V2'"));
  CHECK_THAT(line, Catch::Contains("PLUGBOX_PREVIOUS=V1"));
  CHECK_THAT(line, Catch::Contains("PLUGBOX_HOST=web1"));
  CHECK_THAT(line, Catch::Contains("./bin/migrate --check"));
}

TEST_CASE("the dry-run text names every host's commands and every batch") {
  auto inv = plugbox::inventory::Inventory::parse(kInventory, "inventory.toml");
  auto hosts = inv.select({{}, {"web1", "lab"}});
  DeployOptions o{"2026-11-25T21:40:00", "owner-1", std::nullopt, std::nullopt, 50, "", ""};
  auto text = plan_deploy(service(), inv, hosts, o).render();
  CHECK_THAT(text, Catch::Contains("deploy shop version 2026-11-25T21:40:00 to 2 hosts"));
  CHECK_THAT(text, Catch::Contains("web1 via edge -> bastion -> web1"));
  CHECK_THAT(text, Catch::Contains("lab (local)"));
  // post_upload runs between the upload and the seal: receive does not seal.
  CHECK_THAT(text, Catch::Contains("plugbox-server --home /tmp/lab --owner owner-1 receive 2026-11-25T21:40:00 --create   (creates"));
  CHECK_THAT(text, Catch::Contains("plugbox-server --home /tmp/lab --owner owner-1 seal 2026-11-25T21:40:00"));
  CHECK_THAT(text, !Catch::Contains("--seal"));
  CHECK_THAT(text, Catch::Contains("batch 1: web1"));
  CHECK_THAT(text, Catch::Contains("batch 2: lab"));
  CHECK_THAT(text, Catch::Contains("rollback-to '<its previous>'"));
}

TEST_CASE("the dry-run text says a refresh service's first deploy to a host starts it") {
  auto inv = plugbox::inventory::Inventory::parse(kInventory, "inventory.toml");
  auto svc = ServiceConfig::parse(R"(
[service]
name = "shop"
upload_version = "dist"
start = ["start-shop"]
refresh = ["reload-shop"]
)",
                                  "plugbox.toml");
  DeployOptions o{"2026-11-25T21:40:00", "owner-1", std::nullopt, std::nullopt, 50, "", ""};
  auto text = plan_deploy(svc, inv, inv.select({{}, {"lab"}}), o).render();
  CHECK_THAT(text, Catch::Contains("reload-shop"));
  // lab's server is plugbox's own, in its home.
  CHECK_THAT(text, Catch::Contains("(a host with nothing live yet is started instead:\n"
                                    "    /tmp/lab/.plugbox/servers/" + server_tag() +
                                    "/plugbox-server --home /tmp/lab --owner owner-1 upgrade-to 2026-11-25T21:40:00\n"));
  CHECK_THAT(text, Catch::Contains("(plugbox's own plugbox-server " + server_tag() +
                                    ", checked by the session's hello; installed first if missing or of another version)"));
  CHECK_THAT(text, Catch::Contains("start-shop\n  )"));
  // No post_upload: one command creates, receives and seals.
  CHECK_THAT(text, Catch::Contains("receive 2026-11-25T21:40:00 --create --seal"));
  CHECK_THAT(text, !Catch::Contains(" seal 2026"));
  // Hosts link unchanged contents whatever their mtimes, unless the service
  // asks for exact mtimes: then the receive says so.
  CHECK_THAT(text, !Catch::Contains("--exact-mtimes"));
  svc.exact_mtimes = true;
  CHECK_THAT(plan_deploy(svc, inv, inv.select({{}, {"lab"}}), o).render(),
             Catch::Contains("receive 2026-11-25T21:40:00 --create --seal --exact-mtimes"));
}

TEST_CASE("version_now is a valid version name") {
  auto v = version_now();
  REQUIRE(v.size() == 19);
  CHECK(v[4] == '-');
  CHECK(v[10] == 'T');
  CHECK(v[13] == ':');
}

TEST_CASE("version names are recognised by their shape") {
  CHECK(is_version_name("2026-11-25T21:40:00"));
  CHECK(is_version_name(version_now()));
  CHECK_FALSE(is_version_name("../etc"));
  CHECK_FALSE(is_version_name("2026-11-25 21:40:00"));
  CHECK_FALSE(is_version_name("2026-11-25T21:40:0x"));
  CHECK_FALSE(is_version_name(""));
}

TEST_CASE("a host's fan-out site: its site var, else its outermost jump host, else none") {
  auto inv = plugbox::inventory::Inventory::parse(std::string(kInventory) + R"(
[hosts.far]
address = "far.internal"
jump = "bastion"
site = "fra1"
[hosts.near]
address = "10.0.9.9"
site = "fra1"
[groups.all]
hosts = ["web1", "far", "near", "lab"]
)",
                                                  "inventory.toml");
  auto hosts = inv.select({{"all"}, {}});
  DeployOptions o{"2026-11-25T21:40:00", "owner-1", std::nullopt, std::nullopt, 50, "me@here", "abc123"};
  auto plan = plan_deploy(service(), inv, hosts, o);
  std::map<std::string, std::string> site;
  for (const auto& h : plan.hosts) site[h.name] = h.site;
  CHECK(site == std::map<std::string, std::string>{{"web1", "edge"}, {"far", "fra1"}, {"near", "fra1"}, {"lab", ""}});
}
