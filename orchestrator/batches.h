// Batch sizes of a rollout: N hosts or N% of the fleet; the last one repeats
// until every host is in a batch. Pure functions, shared by the service file,
// --batches and the planner.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::orchestrator {

struct BatchSize {
  bool percent = false;
  int value = 1;  // hosts, or percent of the selected hosts (1..100)
  bool operator==(const BatchSize&) const = default;
  std::string str() const { return std::to_string(value) + (percent ? "%" : ""); }
};

// "5" or "10%". Returns "" or the reason it is not a batch size.
std::string parse_batch_size(std::string_view text, BatchSize* out);
// "1,10%,100%" (the --batches option). Returns "" or the reason.
std::string parse_batches(std::string_view text, std::vector<BatchSize>* out);

// The size of each batch for `hosts` hosts: a percentage rounds up and is
// never less than one host; the last size repeats; the last batch takes what
// is left. Sum == hosts.
std::vector<std::size_t> batch_sizes(std::size_t hosts, const std::vector<BatchSize>& spec);

}  // namespace plugbox::orchestrator
