#include "bench/upload/bench_args.h"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace plugbox::bench {

void BenchArgs::error(const std::string& why) const {
  std::cerr << name << ": " << why << "\n" << usage;
  std::exit(2);
}

int BenchArgs::number(const std::string& flag, const char* v, int lo, int hi) const {
  char* end = nullptr;
  long n = v ? std::strtol(v, &end, 10) : 0;
  if (!v || !*v || *end || n < lo || n > hi) error(fmt::format("{} wants a number in {}..{}", flag, lo, hi));
  return int(n);
}

}  // namespace plugbox::bench
