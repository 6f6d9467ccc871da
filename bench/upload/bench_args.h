// The benches' command lines: a bad argument is one line naming the bench,
// then its usage, and exit status 2.
#pragma once

#include <string>

namespace plugbox::bench {

struct BenchArgs {
  std::string name;   // "bench_scale"
  std::string usage;  // printed after the line, and by --help
  [[noreturn]] void error(const std::string& why) const;
  // `v` as a number in lo..hi, else error() saying so for `flag`.
  int number(const std::string& flag, const char* v, int lo, int hi) const;
};

}  // namespace plugbox::bench
