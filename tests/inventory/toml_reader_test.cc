#include "inventory/toml_reader.h"

#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::Stages;

TEST_CASE("the reader keeps declarations in file order, with positions", "[toml_reader]") {
  Stages s(R"([hosts.zulu]
address = "10.0.0.9"
[hosts."web[01:03]"]
address = "web{}.internal"
jump = ["zulu", "alpha"]
port = 2222
region = "eu"
[hosts.alpha]
[groups.web]
hosts = ["web[01:03]"]
children = ["canary"]
vars = { home = "/srv/x", tier = 2 }
[groups.canary]
)");
  CHECK(s.messages().empty());
  REQUIRE(s.doc.parsed);
  REQUIRE(s.doc.hosts.size() == 3);
  const HostDecl& zulu = s.doc.hosts[0];
  CHECK(zulu.name.text == "zulu");
  CHECK((zulu.name.loc.line == 1 && zulu.name.loc.column == 8));
  REQUIRE(zulu.address);
  CHECK((zulu.address->loc.line == 2 && zulu.address->loc.column == 11));

  const HostDecl& web = s.doc.hosts[1];
  CHECK(web.name.text == "web[01:03]");
  CHECK((web.name.loc.column == 8 && web.name.text_loc.column == 9));  // inside the quotes
  REQUIRE(web.jump.size() == 2);
  CHECK(web.jump_is_list);
  CHECK(web.jump[1].text == "alpha");
  CHECK((web.jump[1].loc.line == 5 && web.jump[1].loc.column == 17));
  CHECK(web.layer.at("port").text == "2222");
  CHECK(web.layer.at("region").text == "eu");

  REQUIRE(s.doc.groups.size() == 2);
  CHECK(s.doc.groups[0].name.text == "web");
  CHECK(s.doc.groups[0].hosts[0].text == "web[01:03]");
  CHECK(s.doc.groups[0].hosts[0].text_loc.column == 11);
  CHECK(s.doc.groups[0].vars.at("tier").text == "2");
  CHECK(s.doc.groups[1].name.text == "canary");
}

TEST_CASE("values are normalized to text, and identity and known_hosts are expanded", "[toml_reader]") {
  Stages s(R"([defaults]
identity = "~/.ssh/id_ed25519"
known_hosts = "keys/known_hosts"
flag = true
ratio = 0.5
server = "sudo -u shop plugbox-server"
)");
  CHECK(s.messages().empty());
  CHECK(s.doc.defaults.at("identity").text == "/home/op/.ssh/id_ed25519");
  CHECK(s.doc.defaults.at("known_hosts").text == "/etc/fleet/keys/known_hosts");  // relative to the inventory
  CHECK(s.doc.defaults.at("flag").text == "true");
  CHECK(s.doc.defaults.at("ratio").text == "0.5");
  CHECK(s.doc.defaults.at("server").text == "sudo -u shop plugbox-server");
}

TEST_CASE("a TOML syntax error is reported with its position and stops the reading", "[toml_reader]") {
  Stages s("[hosts.a]\naddress = \"x\"\nport = \n");
  CHECK_FALSE(s.doc.parsed);
  CHECK(s.messages() ==
        std::vector<std::string>{"inv.toml:3:8: TOML syntax error: Error while parsing key-value pair: expected "
                                 "value, saw '\\n'"});
}

TEST_CASE("the reader reports every bad key and value, not only the first", "[toml_reader]") {
  Stages s(R"(inventory = 1
[defaults]
port = 0
[hosts.a]
port = 1.5
user = "a b"
[groups.g]
hosts = "a"
)");
  CHECK(s.messages() == std::vector<std::string>{
                            "inv.toml:1:1: unknown key 'inventory' (an inventory has [defaults], [hosts.NAME] and "
                            "[groups.NAME])",
                            "inv.toml:3:8: 'port' of [defaults] is 0; it must be from 1 to 65535",
                            "inv.toml:5:8: 'port' of host 'a' must be an integer from 1 to 65535, not a float",
                            "inv.toml:6:8: 'user' of host 'a' contains a space: 'a b'",
                            "inv.toml:8:9: 'hosts' of group 'g' must be a list of host names, not a string",
                        });
}
