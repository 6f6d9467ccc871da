// Good inventories: what each loads to. (The bad ones are in errors_test.cc.)
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// One line per host with everything that differs from the defaults, so each
// case below states the whole outcome.
std::vector<std::string> summary(const Inventory& inv) {
  std::vector<std::string> out;
  for (const Host& h : inv.hosts()) {
    std::string s = h.name + " " + h.address + ":" + std::to_string(h.port);
    if (!h.user.empty()) s += " user=" + h.user;
    if (!h.jump_chain.empty()) s += " via=" + join(h.jump_chain, ">");
    if (!h.groups.empty()) s += " groups=" + join(h.groups, ",");
    if (!h.home.empty()) s += " home=" + h.home;
    if (!h.server.empty()) s += " server=" + h.server;
    if (!h.identity.empty()) s += " identity=" + h.identity;
    if (!h.known_hosts.empty()) s += " known_hosts=" + h.known_hosts;
    if (h.host_key_check != HostKeyCheck::strict) s += " hkc=" + std::string(to_string(h.host_key_check));
    if (h.transport != TransportKind::ssh) s += " transport=" + std::string(to_string(h.transport));
    for (const auto& [k, v] : h.vars) s += " " + k + "=" + v;
    out.push_back(s);
  }
  return out;
}

struct Good {
  const char* name;
  const char* toml;
  std::vector<std::string> hosts;
};

}  // namespace

TEST_CASE("good inventories load to exactly the hosts they describe", "[inventory]") {
  const Good cases[] = {
      {"a bare host: its name is its address", "[hosts.a]\n", {"a a:22"}},
      {"an empty inventory has no hosts", "", {}},
      {"defaults apply to every host",
       R"([defaults]
user = "shop"
port = 2200
identity = "/keys/id"
known_hosts = "keys/known"
server = "/opt/pb/plugbox-server"
host_key_check = "accept-new"
[hosts.a]
address = "10.0.0.1"
[hosts.b]
port = 22
)",
       {"a 10.0.0.1:2200 user=shop server=/opt/pb/plugbox-server identity=/keys/id known_hosts=/etc/fleet/keys/known "
        "hkc=accept-new",
        "b b:22 user=shop server=/opt/pb/plugbox-server identity=/keys/id known_hosts=/etc/fleet/keys/known "
        "hkc=accept-new"}},
      {"ranges keep zero padding and number the address; unpadded ranges have none",
       R"([hosts."web[08:10]"]
address = "web{}.eu.internal"
[hosts."h[9:10]"]
address = "10.0.0.{}"
)",
       {"web08 web08.eu.internal:22", "web09 web09.eu.internal:22", "web10 web10.eu.internal:22", "h9 10.0.0.9:22",
        "h10 10.0.0.10:22"}},
      {"precedence: host, then the most specific group, then defaults",
       R"([defaults]
home = "/home/d"
server = "srv-d"
user = "d"
[hosts.w1]
user = "own"
[hosts.w2]
[groups.prod]
children = ["web"]
vars = { home = "/srv/prod", server = "srv-prod", user = "prod" }
[groups.web]
hosts = ["w1", "w2"]
children = ["canary"]
vars = { server = "srv-web" }
[groups.canary]
hosts = ["w2"]
vars = { server = "srv-canary" }
)",
       {"w1 w1:22 user=own groups=prod,web home=/srv/prod server=srv-web",
        "w2 w2:22 user=prod groups=canary,prod,web home=/srv/prod server=srv-canary"}},
      {"unrelated groups that agree on a value are no conflict",
       R"([hosts.a]
[groups.eu]
hosts = ["a"]
vars = { home = "/srv/x" }
[groups.canary]
hosts = ["a"]
vars = { home = "/srv/x" }
)",
       {"a a:22 groups=canary,eu home=/srv/x"}},
      {"a host's own value settles two unrelated groups",
       R"([hosts.a]
home = "/own"
[groups.eu]
hosts = ["a"]
vars = { home = "/srv/eu" }
[groups.canary]
hosts = ["a"]
vars = { home = "/srv/canary" }
)",
       {"a a:22 groups=canary,eu home=/own"}},
      {"jump chains: a name or a whole list, outermost first, hosts in any order",
       R"([hosts."web[1:2]"]
jump = ["edge", "bastion"]
[hosts.api]
jump = "bastion"
[hosts.bastion]
[hosts.edge]
)",
       {"web1 web1:22 via=edge>bastion", "web2 web2:22 via=edge>bastion", "api api:22 via=edge>bastion",
        "bastion bastion:22 via=edge", "edge edge:22"}},
      {"free-form vars come from defaults, groups and the host, by precedence",
       R"([defaults]
region = "none"
weight = 1
[hosts.a]
weight = 2.5
canary = true
[groups.g]
hosts = ["a"]
vars = { region = "eu", tier = "web" }
)",
       {"a a:22 groups=g canary=true region=eu tier=web weight=2.5"}},
      {"a local host is a directory: relative homes are relative to the inventory; ranges number them",
       R"([defaults]
transport = "local"
[hosts."box[1:2]"]
home = "hosts/box{}"
[hosts.abs]
home = "/var/tmp/abs/"
)",
       {"box1 box1:22 home=/etc/fleet/hosts/box1 transport=local",
        "box2 box2:22 home=/etc/fleet/hosts/box2 transport=local", "abs abs:22 home=/var/tmp/abs transport=local"}},
      {"names may be quoted keys with dots; groups may hold only children",
       R"([hosts."web1.eu"]
[hosts.lone]
[groups.leaf]
hosts = ["web1.eu"]
[groups.top]
children = ["leaf"]
)",
       {"web1.eu web1.eu:22 groups=leaf,top", "lone lone:22"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    try {
      const Inventory inv = Inventory::parse(c.toml, "/etc/fleet/inv.toml");
      CHECK(summary(inv) == c.hosts);
      CHECK(inv.warnings().empty());
    } catch (const InventoryError& e) {
      FAIL(e.what());
    }
  }
}

TEST_CASE("groups keep their direct hosts, children, every member and their vars", "[inventory]") {
  const Inventory inv = test::parse(R"([hosts."w[1:3]"]
[groups.prod]
children = ["web"]
vars = { home = "/srv" }
[groups.web]
hosts = ["w3", "w[1:2]"]
)");
  const Group& web = inv.groups().at("web");
  CHECK(web.hosts == std::vector<std::string>{"w3", "w1", "w2"});  // as listed
  CHECK(web.all_hosts == std::vector<std::string>{"w1", "w2", "w3"});  // inventory order
  const Group& prod = inv.groups().at("prod");
  CHECK(prod.children == std::vector<std::string>{"web"});
  CHECK(prod.hosts.empty());
  CHECK(prod.all_hosts == std::vector<std::string>{"w1", "w2", "w3"});
  CHECK(prod.vars == std::map<std::string, std::string>{{"home", "/srv"}});
  CHECK((prod.pos.file == "inv.toml" && prod.pos.line == 2 && prod.pos.column == 9));
  CHECK(inv.find("w2")->pos.line == 1);
  CHECK(inv.find("w4") == nullptr);
}

TEST_CASE("~ in identity and known_hosts is $HOME", "[inventory]") {
  const char* home = std::getenv("HOME");
  REQUIRE(home);
  const Inventory inv = test::parse("[hosts.a]\nidentity = \"~/.ssh/id\"\nknown_hosts = \"~/kh\"\n");
  CHECK(inv.find("a")->identity == std::filesystem::path(std::string(home) + "/.ssh/id").lexically_normal().string());
  CHECK(inv.find("a")->known_hosts == std::filesystem::path(std::string(home) + "/kh").lexically_normal().string());
}

TEST_CASE("host_key_check = off loads, with a warning", "[inventory]") {
  const Inventory inv = test::parse("[defaults]\nhost_key_check = \"off\"\n[hosts.a]\n");
  CHECK(inv.find("a")->host_key_check == HostKeyCheck::off);
  REQUIRE(inv.warnings().size() == 1);
  CHECK(inv.warnings()[0].str() ==
        "inv.toml:2:18: warning: host_key_check = \"off\" in [defaults]: host keys are not checked at all (for tests "
        "only)");
}

TEST_CASE("load reads a file, and an unreadable one is one clear error", "[inventory]") {
  test::TempDir dir;
  const auto file = dir.path() / "fleet.toml";
  std::ofstream(file) << "[hosts.a]\naddress = \"10.0.0.1\"\n";
  const Inventory inv = Inventory::load(file);
  CHECK(inv.file() == file.string());
  CHECK(inv.hosts().size() == 1);
  CHECK(inv.find("a")->pos.file == file.string());
  try {
    Inventory::load(dir.path() / "missing.toml");
    FAIL("loaded a missing file");
  } catch (const InventoryError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].str() ==
          (dir.path() / "missing.toml").string() + ": cannot read the inventory: No such file or directory");
  }
}

TEST_CASE("the example inventories load", "[inventory][examples]") {
  const std::filesystem::path dir = std::filesystem::path(PLUGBOX_SOURCE_DIR) / "examples" / "inventories";
  SECTION("small.toml: direct hosts, a range, groups") {
    const Inventory inv = Inventory::load(dir / "small.toml");
    CHECK(inv.warnings().empty());
    CHECK(inv.hosts().size() == 4);
    CHECK(inv.bastions().empty());
    CHECK(inv.find("app2")->address == "10.1.0.2");
    CHECK(inv.find("db1")->port == 2222);
    CHECK(inv.find("db1")->home == "/srv/shop-db");
    CHECK(inv.find("db1")->vars.at("role") == "primary");
    CHECK(inv.groups().at("all").all_hosts.size() == 4);
  }
  SECTION("fleet.toml: two bastions and a two-hop chain") {
    const Inventory inv = Inventory::load(dir / "fleet.toml");
    CHECK(inv.warnings().empty());
    CHECK(inv.hosts().size() == 3 + 24 + 4);
    CHECK(inv.find("web24")->jump_chain == std::vector<std::string>{"edge", "bastion-eu"});
    CHECK(inv.find("web24")->address == "web24.eu.internal");
    CHECK(inv.find("api3")->jump_chain == std::vector<std::string>{"bastion-us"});
    CHECK(inv.find("bastion-eu")->jump_chain == std::vector<std::string>{"edge"});
    CHECK(inv.find("web01")->server == "/opt/plugbox-next/bin/plugbox-server");  // canary is inside web
    CHECK(inv.find("web02")->server == "/opt/plugbox/bin/plugbox-server");
    CHECK(inv.find("web02")->home == "/srv/shop");
    CHECK(inv.find("edge")->home == "/home/jump");
    CHECK(inv.find("edge")->user == "jump");
    const auto tree = inv.session_tree(inv.select({{"prod"}, {}}));
    REQUIRE(tree.size() == 2);  // edge, bastion-us: every other session is tunnelled
    CHECK(tree[0].host == "edge");
    REQUIRE(tree[0].children.size() == 1);
    CHECK(tree[0].children[0].host == "bastion-eu");
    CHECK(tree[0].children[0].children.size() == 24);
    CHECK(tree[1].host == "bastion-us");
    CHECK(tree[1].children.size() == 4);
  }
}
