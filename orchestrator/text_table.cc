#include "orchestrator/text_table.h"

#include <algorithm>

namespace plugbox::orchestrator {

std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return {};
  const std::size_t last = rows.front().size() - 1;
  std::vector<std::size_t> width(last, 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < last; ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < last; ++c) out += r[c] + std::string(width[c] - r[c].size() + 2, ' ');
    out += r[last] + '\n';
  }
  return out;
}

}  // namespace plugbox::orchestrator
