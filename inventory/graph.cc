#include "inventory/graph.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>
#include <deque>
#include <iterator>
#include <limits>

namespace plugbox::inventory {
namespace {

using BGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

BGraph to_boost(const Digraph& g) {
  BGraph b(g.vertices);
  for (auto [from, to] : g.edges)
    if (from != to) boost::add_edge(from, to, b);
  return b;
}

}  // namespace

std::vector<std::vector<size_t>> find_cycles(const Digraph& g) {
  std::vector<std::vector<size_t>> cycles;
  if (g.vertices == 0) return cycles;
  const BGraph b = to_boost(g);
  std::vector<size_t> component(g.vertices);
  const size_t count = boost::strong_components(b, boost::make_iterator_property_map(
                                                       component.begin(), boost::get(boost::vertex_index, b)));
  std::vector<size_t> size(count, 0), smallest(count, std::numeric_limits<size_t>::max());
  for (size_t v = 0; v < g.vertices; ++v) {
    ++size[component[v]];
    smallest[component[v]] = std::min(smallest[component[v]], v);
  }
  std::vector<size_t> starts;
  for (size_t c = 0; c < count; ++c)
    if (size[c] > 1) starts.push_back(smallest[c]);
  std::sort(starts.begin(), starts.end());

  // Breadth-first inside the component from its smallest vertex, until an edge
  // leads back to it: the shortest cycle through that vertex.
  constexpr size_t none = std::numeric_limits<size_t>::max();
  for (size_t start : starts) {
    const size_t comp = component[start];
    std::vector<size_t> parent(g.vertices, none);
    std::deque<size_t> queue{start};
    parent[start] = start;
    size_t last = none;
    while (!queue.empty() && last == none) {
      size_t u = queue.front();
      queue.pop_front();
      for (auto [e, end] = boost::out_edges(u, b); e != end; ++e) {
        size_t v = boost::target(*e, b);
        if (component[v] != comp) continue;
        if (v == start) {
          last = u;
          break;
        }
        if (parent[v] == none) {
          parent[v] = u;
          queue.push_back(v);
        }
      }
    }
    std::vector<size_t> path{start};
    for (size_t v = last; v != start; v = parent[v]) path.push_back(v);
    std::reverse(path.begin() + 1, path.end());
    path.push_back(start);
    cycles.push_back(std::move(path));
  }
  return cycles;
}

std::vector<size_t> topological_order(const Digraph& g) {
  const BGraph b = to_boost(g);
  std::vector<size_t> reversed;
  reversed.reserve(g.vertices);
  boost::topological_sort(b, std::back_inserter(reversed));  // emits targets before sources
  return {reversed.rbegin(), reversed.rend()};
}

}  // namespace plugbox::inventory
