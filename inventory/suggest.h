// "did you mean ...?": the closest known name to a mistyped one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plugbox::inventory {

// Insertions, deletions, substitutions and swaps of neighbours, one each.
size_t edit_distance(std::string_view a, std::string_view b);

// The first candidate nearest to `word`, if it is near enough to be a typo of
// it (one edit for short words, up to three for long ones); "" otherwise.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "" — ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace plugbox::inventory
