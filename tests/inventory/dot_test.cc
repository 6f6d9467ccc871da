#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;

TEST_CASE("to_dot draws hosts, groups, jump edges, children and members", "[dot]") {
  const Inventory inv = test::parse(R"([hosts.edge]
address = "203.0.113.10"
[hosts.web1]
jump = "edge"
port = 2201
[hosts.box]
transport = "local"
home = "/tmp/box"
[groups.web]
hosts = ["web1"]
[groups.all]
children = ["web"]
hosts = ["edge"]
)");
  CHECK(inv.to_dot() == R"(digraph inventory {
  rankdir=LR;
  node [shape=box];
  "h:edge" [label="edge\n203.0.113.10"];
  "h:web1" [label="web1\nweb1:2201"];
  "h:box" [label="box\nlocal:/tmp/box"];
  "g:all" [label="all", shape=folder];
  "g:web" [label="web", shape=folder];
  "h:edge" -> "h:web1" [label="jump"];
  "g:all" -> "g:web" [style=dashed];
  "g:all" -> "h:edge" [style=dotted, arrowhead=none];
  "g:web" -> "h:web1" [style=dotted, arrowhead=none];
}
)");
}
