// Cycles and ordering in a directed graph of names (jump links, group
// children). Boost.Graph is used in graph.cc only: it is slow to compile.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace plugbox::inventory {

struct Digraph {
  size_t vertices = 0;
  std::vector<std::pair<size_t, size_t>> edges;  // from -> to
};

// One cycle per strongly connected component of more than one vertex: the
// shortest path from the component's smallest vertex back to itself, both ends
// included ({a, b, a}). Components come in the order of their smallest vertex.
// Self-loops are not cycles here: callers report them as what they are.
std::vector<std::vector<size_t>> find_cycles(const Digraph& g);

// Every vertex, each edge's source before its target. Precondition: no cycles
// (self-loops included) — check with find_cycles first.
std::vector<size_t> topological_order(const Digraph& g);

}  // namespace plugbox::inventory
