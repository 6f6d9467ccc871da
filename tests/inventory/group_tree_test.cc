#include "inventory/group_tree.h"

#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::Stages;

TEST_CASE("groups gather their children's hosts and hosts know every group they are in", "[group_tree]") {
  Stages s(R"([hosts."web[1:3]"]
[hosts."api[1:2]"]
[hosts.lone]
[groups.prod]
children = ["web", "api"]
[groups.web]
hosts = ["web[1:3]"]
children = ["canary"]
[groups.api]
hosts = ["api[1:2]"]
[groups.canary]
hosts = ["web1", "api1"]
)");
  GroupTree t = build_group_tree(s.doc.groups, s.hosts, s.diag);
  CHECK(s.messages().empty());
  // groups in file order: prod 0, web 1, api 2, canary 3; hosts: web1..3 = 0..2, api1..2 = 3..4, lone = 5
  CHECK(t.members[0] == std::vector<size_t>{0, 1, 2, 3, 4});
  CHECK(t.members[1] == std::vector<size_t>{0, 1, 2, 3});  // api1 through canary
  CHECK(t.members[3] == std::vector<size_t>{0, 3});
  CHECK(t.host_groups[0] == std::vector<size_t>{0, 1, 3});
  CHECK(t.host_groups[4] == std::vector<size_t>{0, 2});
  CHECK(t.host_groups[5].empty());
  CHECK(t.is_descendant(0, 3));  // prod > web > canary
  CHECK(t.is_descendant(1, 3));
  CHECK_FALSE(t.is_descendant(3, 1));
  CHECK_FALSE(t.is_descendant(2, 3));
  CHECK_FALSE(t.is_descendant(0, 0));
}

TEST_CASE("group mistakes are all reported, with did-you-mean", "[group_tree]") {
  Stages s(R"([hosts."web[01:03]"]
[groups.web]
hosts = ["web01", "wbe02", "web[02:05]", "web[01:02]"]
children = ["web", "api", "apl", "api"]
[groups.api]
children = ["ops"]
[groups.ops]
children = ["api"]
[groups.empty]
)");
  build_group_tree(s.doc.groups, s.hosts, s.diag);
  CHECK(s.messages() ==
        std::vector<std::string>{
            "inv.toml:3:19: group 'web' lists unknown host 'wbe02'; did you mean 'web02'?",
            "inv.toml:3:28: group 'web' lists 'web[02:05]', but web04 (and 1 more) are not declared in [hosts]",
            "inv.toml:3:42: group 'web' lists host 'web01' (and 1 more) more than once (first at inv.toml:3:10)",
            "inv.toml:4:13: group 'web' lists itself as a child",
            "inv.toml:4:27: group 'web' has unknown child group 'apl'; did you mean 'api'?",
            "inv.toml:4:34: group 'web' lists child group 'api' more than once (first at inv.toml:4:20)",
            "inv.toml:6:13: group cycle: api -> ops -> api (each lists the next as a child); a group cannot contain "
            "itself",
            "inv.toml:9:9: warning: group 'empty' has no hosts and no children",
        });
}
