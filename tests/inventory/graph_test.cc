#include "inventory/graph.h"

#include <catch2/catch.hpp>

using namespace plugbox::inventory;

TEST_CASE("find_cycles names one cycle per strongly connected component", "[graph]") {
  // 0 -> 1 -> 0 ; 2 -> 3 -> 4 -> 2 ; 5 -> 5 (self-loop, not reported) ; 6 -> 0 (feeds a cycle, not in it)
  Digraph g{7, {{0, 1}, {1, 0}, {3, 4}, {2, 3}, {4, 2}, {5, 5}, {6, 0}}};
  auto cycles = find_cycles(g);
  REQUIRE(cycles.size() == 2);
  CHECK(cycles[0] == std::vector<size_t>{0, 1, 0});
  CHECK(cycles[1] == std::vector<size_t>{2, 3, 4, 2});
}

TEST_CASE("find_cycles takes the shortest way back to the start", "[graph]") {
  // 0 -> 1 -> 2 -> 0 and 0 -> 3 -> 0: both in one component; the short one is named.
  Digraph g{4, {{0, 1}, {1, 2}, {2, 0}, {0, 3}, {3, 0}}};
  auto cycles = find_cycles(g);
  REQUIRE(cycles.size() == 1);
  CHECK(cycles[0] == std::vector<size_t>{0, 3, 0});
}

TEST_CASE("an acyclic graph has no cycles and a topological order", "[graph]") {
  Digraph g{5, {{3, 1}, {1, 0}, {4, 1}, {2, 0}}};
  CHECK(find_cycles(g).empty());
  auto order = topological_order(g);
  REQUIRE(order.size() == 5);
  auto pos = [&](size_t v) { return std::find(order.begin(), order.end(), v) - order.begin(); };
  for (auto [from, to] : g.edges) CHECK(pos(from) < pos(to));
  CHECK(find_cycles(Digraph{0, {}}).empty());
}
