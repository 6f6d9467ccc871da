#include "base/suggest.h"

#include <algorithm>

// The rule (one for plugbox, plugbox-server, the inventory and plugbox.toml;
// before there were three, and the same typo got different answers):
//
//  1. The nearest candidate by edit_distance, counting a swap of neighbours
//     as one edit: "wbe" for "web" is the commonest typo there is.
//  2. Only within a limit that grows with the word: one edit up to 4
//     characters, two up to 8, three beyond. Short names are one or two
//     edits from many unrelated ones ("web1" and "db2"), so a fixed limit of
//     two suggested noise for short words and too little for long ones.
//  3. Ties go to the first candidate: callers list names in an order that
//     means something (declaration order, the command list).
//  4. Failing that, the one candidate that starts with the word (at least two
//     characters): a truncated name ("rollback" for "rollback-to", "stat"
//     for "status") is as plain a slip as a typo but many edits away. When
//     several start with it ("re": remove, receive) nothing is guessed.
//  5. The word itself is never suggested.

namespace plugbox::base {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows: a swap looks two rows back.
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string best;
  std::size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    // Cheap lower bound first: a 10,000-host inventory has many candidates.
    std::size_t len_gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (len_gap >= best_d || c == word) continue;
    std::size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  if (!best.empty() || word.size() < 2) return best;
  const std::string* only = nullptr;
  for (const auto& c : candidates) {
    if (c == word || !c.starts_with(word)) continue;
    if (only && *only != c) return "";
    only = &c;
  }
  return only ? *only : "";
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string m = closest_match(word, candidates);
  return m.empty() ? "" : "; did you mean '" + m + "'?";
}

}  // namespace plugbox::base
