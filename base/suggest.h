// "did you mean ...?": the closest known name to a mistyped one. One rule for
// both executables, so that `plugbox` and `plugbox-server` (and every
// inventory and plugbox.toml message) suggest alike; see suggest.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::base {

// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of two neighbours, one edit each.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `word` is most plausibly a typo of, or "" when none is
// (the rule is written down in suggest.cc). `word` itself is never suggested.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "": ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace plugbox::base
