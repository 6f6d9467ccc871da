#include "inventory/host_table.h"

#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using plugbox::inventory::test::Stages;

TEST_CASE("ranges expand in file order, {} numbers the address, the name is the default address", "[host_table]") {
  Stages s(R"([hosts.edge]
[hosts."web[08:10]"]
address = "10.0.0.{}"
[hosts.db]
address = "db.internal"
)");
  CHECK(s.messages().empty());
  REQUIRE(s.hosts.hosts.size() == 5);
  CHECK(s.hosts.hosts[0].name == "edge");
  CHECK(s.hosts.hosts[0].address == "edge");
  CHECK(s.hosts.hosts[1].name == "web08");
  CHECK(s.hosts.hosts[1].address == "10.0.0.08");  // the number as written
  CHECK(s.hosts.hosts[3].name == "web10");
  CHECK(s.hosts.hosts[3].decl == 1);
  CHECK(s.hosts.hosts[4].address == "db.internal");
  CHECK(s.hosts.find("web09") == std::optional<size_t>(2));
  CHECK_FALSE(s.hosts.find("web11"));
}

TEST_CASE("overlapping ranges are reported once per pair, the first declaration kept", "[host_table]") {
  Stages s(R"([hosts."web[01:10]"]
[hosts."web[05:12]"]
[hosts.web11]
)");
  CHECK(s.messages() == std::vector<std::string>{
                            "inv.toml:2:8: host 'web05' (and 5 more) of 'web[05:12]' is already declared by "
                            "'web[01:10]' at inv.toml:1:8; each host is declared once",
                            "inv.toml:3:8: host 'web11' is already declared by 'web[05:12]' at inv.toml:2:8; each "
                            "host is declared once",
                        });
  CHECK(s.hosts.hosts.size() == 12);
  CHECK(s.hosts.hosts[s.hosts.find("web07").value()].decl == 0);
}

TEST_CASE("one address for a whole range is a warning", "[host_table]") {
  Stages s("[hosts.\"h[1:3]\"]\naddress = \"10.0.0.1\"\n");
  CHECK(s.messages() == std::vector<std::string>{"inv.toml:2:11: warning: all 3 hosts of 'h[1:3]' get the same "
                                                 "address '10.0.0.1'; put {} where the number goes"});
}
