// Host and group names, and host ranges: "web[01:24]" is web01 .. web24 (the
// zero padding kept), "h[1:8]" is h1 .. h8. One range per name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::inventory {

// At most this many hosts from one range: a typo like h[1:1000000] must not
// allocate a million hosts before it is reported.
inline constexpr long kMaxRangeSize = 100000;

struct NameProblem {
  std::string message;
  size_t offset = 0;  // into the text, where the problem starts
};

struct RangeItem {
  std::string name;    // "web07"
  std::string number;  // "07": what {} in an address becomes
};

struct Expansion {
  bool is_range = false;
  std::vector<RangeItem> items;  // a plain name gives one item with an empty number
  std::optional<NameProblem> problem;
};

// Names are what hosts and groups are called everywhere (journals, JSON,
// $PLUGBOX_HOST): a letter or digit, then letters, digits, '.', '_', '-'.
// `what` is "host" or "group", for the message.
std::optional<NameProblem> name_problem(std::string_view name, std::string_view what);

// Expands a host name that may hold a range. On a problem, items is empty.
Expansion expand_name(std::string_view text);

// Replaces every "{}" in `text` by `number`.
std::string substitute_number(std::string_view text, std::string_view number);

}  // namespace plugbox::inventory
