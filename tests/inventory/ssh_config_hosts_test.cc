#include "inventory/ssh_config_hosts.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::all;
using plugbox::inventory::test::render;
using plugbox::inventory::test::ssh_g;
using plugbox::inventory::test::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::string cfg = (dir.path() / "ssh_config").string();
  void config(const std::string& text) { std::ofstream(cfg) << text; }
  // "@CFG@" in the inventory is the config's path.
  std::string inv(std::string text) const {
    for (size_t at; (at = text.find("@CFG@")) != std::string::npos;) text.replace(at, 5, cfg);
    return text;
  }
  std::string at(int line) const { return cfg + ":" + std::to_string(line); }
};

std::string where(const Host& h, const std::string& key) {
  auto it = h.origin.find(key);
  if (it == h.origin.end()) return "";
  return it->second.file + ":" + std::to_string(it->second.line) +
         (it->second.column ? ":" + std::to_string(it->second.column) : "");
}

}  // namespace

TEST_CASE("ssh_config fills what the inventory leaves unset, the inventory wins", "[ssh_config_hosts]") {
  Fixture f;
  f.config(R"(Host web01 web02
  HostName %h.internal
  User alice
  Port 2201
  IdentityFile ~/keys/%h_%r
  UserKnownHostsFile /kh/%h
Host db1
  Port 2300
)");
  const Inventory inv = test::parse(f.inv(R"([defaults]
ssh_config = "@CFG@"
[hosts.web01]
[hosts.web02]
address = "10.0.0.2"
user = "deploy"
[hosts.db1]
[groups.db]
hosts = ["db1"]
vars = { port = 22 }
)"));
  const Host& w1 = *inv.find("web01");
  CHECK(w1.address == "web01.internal");
  CHECK(w1.user == "alice");
  CHECK(w1.port == 2201);
  CHECK(w1.known_hosts == "/kh/web01.internal");
  CHECK(where(w1, "address") == f.at(2));
  CHECK(where(w1, "user") == f.at(3));
  CHECK(where(w1, "port") == f.at(4));
  CHECK(where(w1, "identity") == f.at(5));
  CHECK(where(w1, "known_hosts") == f.at(6));
  CHECK(where(w1, "ssh_config") == "inv.toml:2:14");
  const Host& w2 = *inv.find("web02");
  CHECK(w2.address == "10.0.0.2");
  CHECK(where(w2, "address") == "inv.toml:5:11");
  CHECK(w2.user == "deploy");
  CHECK(w2.port == 2201);
  CHECK(w2.identity.size() > std::string("/keys/web02.internal_deploy").size());
  CHECK(w2.identity.substr(w2.identity.size() - 27) == "/keys/web02.internal_deploy");  // %r is the inventory's user
  const Host& db = *inv.find("db1");
  CHECK(db.port == 22);  // the group's port beats the config's
  CHECK(where(db, "port") == "inv.toml:10:17");
  CHECK(db.address == "db1");
  CHECK(where(db, "address").empty());
}

TEST_CASE("ssh_config is off unless set, and only where set", "[ssh_config_hosts]") {
  Fixture f;
  f.config("Host *\n  Port 2999\n  User cfg\n");
  const Inventory inv = test::parse(f.inv(R"([hosts.a]
[hosts.b]
[hosts.c]
ssh_config = false
[groups.g]
hosts = ["b", "c"]
vars = { ssh_config = "@CFG@" }
)"));
  CHECK(inv.find("a")->port == 22);
  CHECK(inv.find("a")->user.empty());
  CHECK(inv.find("b")->port == 2999);
  CHECK(inv.find("b")->user == "cfg");
  CHECK(inv.find("c")->port == 22);
}

TEST_CASE("ProxyJump hosts join the session tree: one session per bastion", "[ssh_config_hosts]") {
  Fixture f;
  f.config(R"(Host gw1
  HostName 192.0.2.1
  User jumper
  ProxyJump none
Host gw2
  HostName 10.9.0.1
  Port 2022
Host app* 
  ProxyJump gw1,gw2
Host db1
  ProxyJump ops@gw1:2222
Host cache1
  ProxyJump edge
Host direct1
  ProxyJump gw1
)");
  const Inventory inv = test::parse(f.inv(R"([defaults]
ssh_config = "@CFG@"
identity = "/keys/fleet"
[hosts.edge]
address = "198.51.100.7"
[hosts.app1]
[hosts.app2]
[hosts.db1]
[hosts.cache1]
[hosts.direct1]
jump = "edge"
)"));
  CHECK(inv.find("app1")->jump_chain == std::vector<std::string>{"gw1", "gw2"});
  CHECK(where(*inv.find("app1"), "jump") == f.at(9));
  CHECK(inv.find("db1")->jump_chain == std::vector<std::string>{"ops@gw1:2222"});
  CHECK(inv.find("cache1")->jump_chain == std::vector<std::string>{"edge"});  // an inventory host, reused
  CHECK(inv.find("direct1")->jump_chain == std::vector<std::string>{"edge"});  // the inventory's jump wins
  CHECK(where(*inv.find("direct1"), "jump") == "inv.toml:11:8");

  const Host& gw1 = *inv.find("gw1");
  CHECK(gw1.jump_only);
  CHECK(gw1.address == "192.0.2.1");
  CHECK(gw1.user == "jumper");
  CHECK(gw1.identity == "/keys/fleet");  // [defaults] fill what the config does not set
  CHECK(gw1.jump_chain.empty());
  const Host& gw2 = *inv.find("gw2");
  CHECK(gw2.port == 2022);
  CHECK(gw2.jump_chain == std::vector<std::string>{"gw1"});
  const Host& ops = *inv.find("ops@gw1:2222");
  CHECK(ops.address == "192.0.2.1");
  CHECK(ops.user == "ops");
  CHECK(ops.port == 2222);
  CHECK(where(ops, "port") == f.at(11));

  CHECK(render(inv.session_tree(inv.select({{}, {"app1", "app2", "cache1", "db1"}}))) ==
        "gw1[gw2[app1* app2*]] ops@gw1:2222[db1*] edge[cache1*]");
  // Globs select inventory hosts only; a jump-only host can still be named.
  CHECK_THROWS_WITH(inv.select({{}, {"gw*"}}), Catch::Contains("--host 'gw*' matches no host"));
  std::vector<std::string> all;
  for (const Host* h : inv.select({{}, {"*"}})) all.push_back(h->name);
  CHECK(all == std::vector<std::string>{"edge", "app1", "app2", "db1", "cache1", "direct1"});
  CHECK(inv.select({{}, {"gw1"}}).front()->name == "gw1");
}

TEST_CASE("a ProxyJump chain of several hops extends the first hop's own chain", "[ssh_config_hosts]") {
  Fixture f;
  f.config(R"(Host inner
  ProxyJump outer
Host target
  ProxyJump inner,mid
)");
  const Inventory inv = test::parse(f.inv("[defaults]\nssh_config = \"@CFG@\"\n[hosts.target]\n"));
  CHECK(inv.find("target")->jump_chain == std::vector<std::string>{"outer", "inner", "mid"});
  CHECK(inv.find("mid")->jump_chain == std::vector<std::string>{"outer", "inner"});
}

TEST_CASE("bad ssh configs: one line naming the file and line and the fix", "[ssh_config_hosts]") {
  Fixture f;
  const std::string inv = f.inv("[defaults]\nssh_config = \"@CFG@\"\n[hosts.web01]\n");
  SECTION("missing file") {
    CHECK(test::problems(inv) ==
          std::vector<std::string>{"inv.toml:2:14: ssh_config: cannot read ssh config " + f.cfg +
                                   ": No such file or directory: fix the path or set ssh_config = false"});
  }
  SECTION("ProxyCommand") {
    f.config("Host web*\n  ProxyCommand nc %h %p\n");
    CHECK(test::problems(inv) ==
          std::vector<std::string>{f.at(2) + ": plugbox does not support ProxyCommand (for host 'web01'): use "
                                             "ProxyJump, or set the host's jump in the inventory (host 'web01', "
                                             "ssh_config at inv.toml:2:14)"});
  }
  SECTION("unknown Match criterion") {
    f.config("\nMatch hosts web01\n  User x\n");
    CHECK(test::problems(inv) ==
          std::vector<std::string>{f.at(2) + ": unknown Match criterion 'hosts': use host, originalhost, user, "
                                             "localuser or all (host 'web01', ssh_config at inv.toml:2:14)"});
  }
  SECTION("bad Port") {
    f.config("Host web01\n  Port 0\n");
    CHECK(test::problems(inv) == std::vector<std::string>{f.at(2) + ": bad Port '0': use a number from 1 to 65535 "
                                                                    "(host 'web01', ssh_config at inv.toml:2:14)"});
  }
  SECTION("a ProxyJump loop") {
    f.config("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost web01\n  ProxyJump a\n");
    const auto p = test::problems(inv);
    REQUIRE(p.size() == 1);
    CHECK(p[0].find("ProxyJump loop") != std::string::npos);
  }
  SECTION("two ways into one jump host") {
    f.config("Host web01\n  ProxyJump a,b\nHost web02\n  ProxyJump b\n");
    const auto p = test::problems(f.inv("[defaults]\nssh_config = \"@CFG@\"\n[hosts.web01]\n[hosts.web02]\n"));
    REQUIRE(p.size() == 1);
    CHECK(p[0] == f.at(4) + ": ProxyJump of 'web02' reaches 'b' directly, but elsewhere it is reached through 'a'; "
                            "plugbox reaches each jump host one way: make them agree");
  }
  SECTION("not a boolean or string") {
    CHECK(test::problems("[defaults]\nssh_config = 1\n[hosts.a]\n") ==
          std::vector<std::string>{"inv.toml:2:14: 'ssh_config' of [defaults] must be true, false or the path of an "
                                   "ssh config, not an integer"});
  }
}

TEST_CASE("hosts with nothing in the inventory get what ssh -G prints", "[ssh_config_hosts]") {
  Fixture f;
  const std::string inc = (f.dir.path() / "inc.conf").string();
  std::ofstream(inc) << "Host db?\n  HostName %h.DB.example\n  Port 2300\n  ProxyJump ops@gw1:2222\n";
  f.config("Include " + inc + R"(
Host alias
  HostName Real.Example
Match host real.example
  Port 2201
  UserKnownHostsFile /kh/%h_%p
Host web* !web9
  ProxyJump gw1,gw2
Host gw2
  ProxyJump gw1
Host gw*
  HostName %h.bastion
Host *
  User fleet
  IdentityFile /keys/fleet
)");
  const Inventory inv = test::parse(f.inv(
      "[defaults]\nssh_config = \"@CFG@\"\n[hosts.alias]\n[hosts.db1]\n[hosts.web1]\n[hosts.web9]\n[hosts.gw2]\n"));
  for (const char* name : {"alias", "db1", "web1", "web9", "gw2", "gw1"}) {
    INFO("host " << name);
    const auto g = ssh_g(f.cfg, name);
    const Host& h = *inv.find(name);
    CHECK(all(g, "hostname") == std::vector<std::string>{h.address});
    CHECK(all(g, "user") == std::vector<std::string>{h.user});
    CHECK(all(g, "port") == std::vector<std::string>{std::to_string(h.port)});
    CHECK(all(g, "identityfile") == std::vector<std::string>{h.identity});
    if (!h.known_hosts.empty()) CHECK(all(g, "userknownhostsfile") == std::vector<std::string>{h.known_hosts});
    // The last jump host is the one ssh -G's proxyjump names last.
    const auto pj = all(g, "proxyjump");
    if (pj.empty()) {
      CHECK(h.jump_chain.empty());
    } else {
      REQUIRE_FALSE(h.jump_chain.empty());
      const std::string& list = pj.front();
      CHECK(list.substr(list.rfind(',') == std::string::npos ? 0 : list.rfind(',') + 1) == h.jump_chain.back());
    }
  }
  CHECK(inv.find("alias")->known_hosts == "/kh/real.example_2201");
  CHECK(inv.find("web1")->jump_chain == std::vector<std::string>{"gw1", "gw2"});
  CHECK(inv.find("db1")->jump_chain == std::vector<std::string>{"ops@gw1:2222"});
  CHECK(inv.find("web9")->jump_chain.empty());
}
