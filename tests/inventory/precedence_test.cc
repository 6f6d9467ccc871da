#include "inventory/precedence.h"

#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::Stages;

namespace {
std::map<std::string, std::string> text_of(const Effective& e) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : e) out.emplace(k, v->text);
  return out;
}
}  // namespace

TEST_CASE("host, then the most specific group, then defaults", "[precedence]") {
  Stages s(R"([defaults]
home = "/home/d"
server = "srv-d"
user = "u-d"
port = 22
[hosts.web1]
port = 2201
[hosts.web2]
[groups.prod]
children = ["web"]
vars = { home = "/srv/prod", server = "srv-prod", tier = "prod" }
[groups.web]
hosts = ["web1", "web2"]
vars = { server = "srv-web" }
)");
  GroupTree t = build_group_tree(s.doc.groups, s.hosts, s.diag);
  Precedence p(s.doc.defaults, s.doc.groups, t);
  auto web1 = text_of(p.resolve(0, "web1", s.doc.hosts[0].layer));
  p.report(s.diag);
  CHECK(s.messages().empty());
  CHECK(web1 == std::map<std::string, std::string>{{"home", "/srv/prod"},  // prod: only group setting it
                                                   {"port", "2201"},       // the host's own
                                                   {"server", "srv-web"},  // web is inside prod: more specific
                                                   {"tier", "prod"},       // a group var
                                                   {"user", "u-d"}});      // defaults
}

TEST_CASE("two unrelated groups setting one key: an error naming both, once, with the host count", "[precedence]") {
  Stages s(R"([hosts."w[1:3]"]
[hosts.w4]
home = "/own"
[groups.eu]
hosts = ["w[1:3]", "w4"]
vars = { home = "/srv/eu", tier = "a" }
[groups.canary]
hosts = ["w[1:3]", "w4"]
vars = { home = "/srv/canary", tier = "a" }
)");
  GroupTree t = build_group_tree(s.doc.groups, s.hosts, s.diag);
  Precedence p(s.doc.defaults, s.doc.groups, t);
  for (size_t h = 0; h < 4; ++h) p.resolve(h, s.hosts.hosts[h].name, s.doc.hosts[s.hosts.hosts[h].decl].layer);
  p.report(s.diag);
  // tier agrees: no conflict. w4 sets home itself: not counted.
  CHECK(s.messages() == std::vector<std::string>{
                            "inv.toml:9:17: groups 'eu' and 'canary' both set 'home' for host 'w1' (and 2 more): "
                            "\"/srv/eu\" (at inv.toml:6:17) and \"/srv/canary\"; neither group is inside the other, "
                            "so neither wins: make one a child of the other, or set 'home' on the host",
                        });
}
