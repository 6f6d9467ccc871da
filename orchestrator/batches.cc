#include "orchestrator/batches.h"

#include <charconv>

namespace plugbox::orchestrator {

std::string parse_batch_size(std::string_view text, BatchSize* out) {
  BatchSize b;
  std::string_view num = text;
  if (!num.empty() && num.back() == '%') {
    b.percent = true;
    num.remove_suffix(1);
  }
  int v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || p != num.data() + num.size())
    return "'" + std::string(text) + "' is not a batch size: write a number of hosts (5) or a percentage (10%)";
  if (v < 1) return "'" + std::string(text) + "' is not a batch size: a batch has at least 1 host";
  if (b.percent && v > 100) return "'" + std::string(text) + "' is not a batch size: a percentage is at most 100%";
  b.value = v;
  *out = b;
  return "";
}

std::string parse_batches(std::string_view text, std::vector<BatchSize>* out) {
  std::vector<BatchSize> r;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    BatchSize b;
    if (auto err = parse_batch_size(text.substr(start, end - start), &b); !err.empty()) return err;
    r.push_back(b);
    start = end + 1;
  }
  *out = std::move(r);
  return "";
}

std::vector<std::size_t> batch_sizes(std::size_t hosts, const std::vector<BatchSize>& spec) {
  std::vector<std::size_t> out;
  std::size_t left = hosts;
  for (std::size_t i = 0; left > 0; ++i) {
    const BatchSize& b = spec.empty() ? BatchSize{true, 100} : spec[std::min(i, spec.size() - 1)];
    std::size_t n = b.percent ? (hosts * std::size_t(b.value) + 99) / 100 : std::size_t(b.value);
    n = std::min(std::max<std::size_t>(n, 1), left);
    out.push_back(n);
    left -= n;
  }
  return out;
}

}  // namespace plugbox::orchestrator
