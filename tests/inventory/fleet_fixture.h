// A small fleet used by the selection, session tree, DOT and JSON tests:
//   edge -> bastion-eu -> web01..web04 ; bastion-us -> api1, api2 ; db1 direct
#pragma once

namespace plugbox::inventory::test {

inline constexpr const char* kFleet = R"([defaults]
user = "shop"
[hosts.edge]
address = "203.0.113.10"
[hosts.bastion-eu]
address = "10.0.0.5"
jump = "edge"
[hosts.bastion-us]
address = "198.51.100.7"
port = 2222
[hosts."web[01:04]"]
address = "web{}.eu"
jump = "bastion-eu"
[hosts."api[1:2]"]
address = "api{}.us"
jump = "bastion-us"
[hosts.db1]
address = "db1.internal"
region = "eu"
[groups.web]
hosts = ["web[01:04]"]
[groups.api]
hosts = ["api[1:2]"]
[groups.prod]
children = ["web", "api"]
hosts = ["db1"]
vars = { home = "/srv/shop" }
[groups.empty]
)";

}  // namespace plugbox::inventory::test
