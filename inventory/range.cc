#include "inventory/range.h"

#include <fmt/format.h>

#include <cctype>

namespace plugbox::inventory {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

std::string printable(char c) {
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  return std::string(1, c);
}

// Checks the characters of the fixed parts of a name; `offset` is where `part` starts in the full text.
std::optional<NameProblem> chars_problem(std::string_view part, size_t offset, std::string_view full,
                                         std::string_view what) {
  for (size_t i = 0; i < part.size(); ++i)
    if (!name_char(part[i]))
      return NameProblem{fmt::format("{} name '{}' contains '{}'; names use letters, digits, '.', '_' and '-'", what,
                                     full, printable(part[i])),
                         offset + i};
  return std::nullopt;
}

}  // namespace

std::optional<NameProblem> name_problem(std::string_view name, std::string_view what) {
  if (name.empty()) return NameProblem{fmt::format("empty {} name", what), 0};
  if (auto p = chars_problem(name, 0, name, what)) return p;
  if (name[0] == '.' || name[0] == '_' || name[0] == '-')
    return NameProblem{fmt::format("{} name '{}' must start with a letter or a digit", what, name), 0};
  return std::nullopt;
}

Expansion expand_name(std::string_view text) {
  Expansion out;
  const size_t open = text.find('[');
  const size_t stray_close = text.find(']');
  if (open == std::string_view::npos) {
    if (stray_close != std::string_view::npos) {
      out.problem = NameProblem{fmt::format("']' without '[' in host name '{}'", text), stray_close};
      return out;
    }
    out.problem = name_problem(text, "host");
    if (!out.problem) out.items.push_back(RangeItem{std::string(text), ""});
    return out;
  }
  out.is_range = true;
  const std::string hint = fmt::format("write {}[START:END], e.g. {}[01:24]", text.substr(0, open), text.substr(0, open));
  const size_t close = text.find(']', open);
  if (close == std::string_view::npos) {
    out.problem = NameProblem{fmt::format("unclosed '[' in host name '{}'; {}", text, hint), open};
    return out;
  }
  if (stray_close < open) {
    out.problem = NameProblem{fmt::format("']' without '[' in host name '{}'", text), stray_close};
    return out;
  }
  const std::string_view prefix = text.substr(0, open), suffix = text.substr(close + 1);
  if (size_t again = suffix.find_first_of("[]"); again != std::string_view::npos) {
    out.problem = NameProblem{fmt::format("host name '{}' has more than one range; only one is allowed", text),
                              close + 1 + again};
    return out;
  }
  const std::string_view inside = text.substr(open + 1, close - open - 1);
  const size_t colon = inside.find(':');
  if (inside.empty() || inside == ":") {
    out.problem = NameProblem{fmt::format("empty range in host name '{}'; {}", text, hint), open};
    return out;
  }
  if (colon == std::string_view::npos) {
    out.problem = NameProblem{fmt::format("range '{}' has no ':'; {}", text, hint), open};
    return out;
  }
  if (inside.find(':', colon + 1) != std::string_view::npos) {
    out.problem = NameProblem{fmt::format("range '{}' has more than one ':' (steps are not supported); {}", text, hint),
                              open + 1 + inside.find(':', colon + 1)};
    return out;
  }
  const std::string_view first = inside.substr(0, colon), last = inside.substr(colon + 1);
  const size_t first_at = open + 1, last_at = open + 2 + colon;
  if (first.empty()) {
    out.problem = NameProblem{fmt::format("range '{}' has no start; {}", text, hint), first_at};
    return out;
  }
  if (last.empty()) {
    out.problem = NameProblem{fmt::format("range '{}' has no end; {}", text, hint), last_at};
    return out;
  }
  for (auto [bound, at] : {std::pair{first, first_at}, std::pair{last, last_at}}) {
    if (!all_digits(bound)) {
      out.problem = NameProblem{fmt::format("range bound '{}' in '{}' is not a number; {}", bound, text, hint), at};
      return out;
    }
    if (bound.size() > 9) {
      out.problem = NameProblem{fmt::format("range bound '{}' in '{}' is too large", bound, text), at};
      return out;
    }
  }
  // A leading zero on either bound means "pad to this width": both must say the same width.
  const bool padded = (first.size() > 1 && first[0] == '0') || (last.size() > 1 && last[0] == '0');
  if (padded && first.size() != last.size()) {
    const size_t width = std::max(first.size(), last.size());
    out.problem = NameProblem{
        fmt::format("zero-padded range '{}' needs bounds of the same width; write {}[{:0{}}:{:0{}}]{}", text, prefix,
                    std::stol(std::string(first)), width, std::stol(std::string(last)), width, suffix),
        open};
    return out;
  }
  const long lo = std::stol(std::string(first)), hi = std::stol(std::string(last));
  if (lo > hi) {
    out.problem = NameProblem{
        fmt::format("reversed range '{}': the start is after the end; write {}[{}:{}]{}", text, prefix, last, first, suffix),
        open};
    return out;
  }
  if (hi - lo + 1 > kMaxRangeSize) {
    out.problem = NameProblem{
        fmt::format("range '{}' has {} hosts; at most {} are allowed in one range", text, hi - lo + 1, kMaxRangeSize),
        open};
    return out;
  }
  if (auto p = chars_problem(prefix, 0, text, "host")) {
    out.problem = p;
    return out;
  }
  if (auto p = chars_problem(suffix, close + 1, text, "host")) {
    out.problem = p;
    return out;
  }
  if (!prefix.empty() && !std::isalnum(static_cast<unsigned char>(prefix[0]))) {
    out.problem = NameProblem{fmt::format("host name '{}' must start with a letter or a digit", text), 0};
    return out;
  }
  const size_t width = padded ? first.size() : 0;
  out.items.reserve(static_cast<size_t>(hi - lo + 1));
  for (long n = lo; n <= hi; ++n) {
    std::string number = width ? fmt::format("{:0{}}", n, width) : std::to_string(n);
    std::string name;
    name.reserve(prefix.size() + number.size() + suffix.size());
    name.append(prefix).append(number).append(suffix);
    out.items.push_back(RangeItem{std::move(name), std::move(number)});
  }
  return out;
}

std::string substitute_number(std::string_view text, std::string_view number) {
  std::string out;
  out.reserve(text.size() + number.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '}') {
      out.append(number);
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace plugbox::inventory
