#include "inventory/jump_chains.h"

#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::Stages;

namespace {
std::vector<std::string> chain_of(const Stages& s, const JumpLinks& l, const std::string& host) {
  std::vector<std::string> out;
  for (size_t j : l.chains.at(s.hosts.find(host).value())) out.push_back(s.hosts.hosts[j].name);
  return out;
}
}  // namespace

TEST_CASE("chains are resolved outermost first, through any number of hops", "[jump]") {
  // Declared out of order on purpose: the topological order resolves jump hosts first.
  Stages s(R"([hosts."web[1:2]"]
jump = "bastion-eu"
[hosts.bastion-eu]
jump = "edge"
[hosts.edge]
[hosts.api]
jump = "edge"
)");
  JumpLinks l = resolve_jumps(s.doc.hosts, s.hosts, s.diag);
  CHECK(s.messages().empty());
  REQUIRE(l.resolved);
  CHECK(chain_of(s, l, "web2") == std::vector<std::string>{"edge", "bastion-eu"});
  CHECK(chain_of(s, l, "bastion-eu") == std::vector<std::string>{"edge"});
  CHECK(chain_of(s, l, "api") == std::vector<std::string>{"edge"});
  CHECK(chain_of(s, l, "edge").empty());
}

TEST_CASE("a jump list gives its hops their way in, when nothing else does", "[jump]") {
  Stages s(R"([hosts.edge]
[hosts.mid]
[hosts.web]
jump = ["edge", "mid"]
[hosts.other]
jump = "mid"
)");
  JumpLinks l = resolve_jumps(s.doc.hosts, s.hosts, s.diag);
  CHECK(s.messages().empty());
  REQUIRE(l.resolved);
  CHECK(chain_of(s, l, "web") == std::vector<std::string>{"edge", "mid"});
  CHECK(chain_of(s, l, "mid") == std::vector<std::string>{"edge"});    // from web's list
  CHECK(chain_of(s, l, "other") == std::vector<std::string>{"edge", "mid"});
}

TEST_CASE("a list that disagrees with a hop's own jump is an error naming both", "[jump]") {
  Stages s(R"([hosts.corp]
[hosts.edge]
jump = "corp"
[hosts.mid]
[hosts.web]
jump = ["edge", "mid"]
)");
  JumpLinks l = resolve_jumps(s.doc.hosts, s.hosts, s.diag);
  CHECK_FALSE(l.resolved);
  CHECK(s.messages() == std::vector<std::string>{
                            "inv.toml:6:9: the jump list of host 'web' starts at 'edge', so it is reached directly, "
                            "but its own jump (at inv.toml:3:8) reaches it through 'corp'; a host has one way in: "
                            "make them agree",
                        });
}

TEST_CASE("two lists that disagree about a hop are an error", "[jump]") {
  Stages s(R"([hosts.a]
[hosts.b]
[hosts.mid]
[hosts.w1]
jump = ["a", "mid"]
[hosts.w2]
jump = ["b", "mid"]
)");
  resolve_jumps(s.doc.hosts, s.hosts, s.diag);
  CHECK(s.messages() == std::vector<std::string>{
                            "inv.toml:7:14: the jump list of host 'w2' reaches 'mid' through 'b', but the jump list "
                            "of host 'w1' (at inv.toml:5:14) reaches it through 'a'; a host has one way in: make them "
                            "agree",
                        });
}

TEST_CASE("unknown, self, repeated and cyclic jumps are each reported", "[jump]") {
  Stages s(R"([hosts.alpha]
jump = "beta"
[hosts.beta]
jump = "gamma"
[hosts.gamma]
jump = "alpha"
[hosts.behind]
jump = "alpha"
[hosts.self]
jump = "self"
[hosts.typo]
jump = "bata"
[hosts.twice]
jump = ["beta", "alpha", "beta"]
)");
  JumpLinks l = resolve_jumps(s.doc.hosts, s.hosts, s.diag);
  CHECK_FALSE(l.resolved);
  CHECK(l.chains.empty());
  CHECK(s.messages() ==
        std::vector<std::string>{
            "inv.toml:2:8: jump cycle: alpha -> beta -> gamma -> alpha (each jumps through the next)",
            "inv.toml:10:8: host 'self' jumps through itself; remove 'self' from its jump",
            "inv.toml:12:8: host 'typo' jumps through unknown host 'bata'; did you mean 'beta'?",
            "inv.toml:14:26: the jump list of host 'twice' names 'beta' twice",
        });
}
