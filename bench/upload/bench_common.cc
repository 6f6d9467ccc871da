#include "bench/upload/bench_common.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace plugbox::bench {

namespace {
const std::chrono::steady_clock::time_point g_start = std::chrono::steady_clock::now();
}  // namespace

void usage_error(const std::string& program, const std::string& why, const char* usage) {
  std::cerr << program << ": " << why << "\n" << usage;
  std::exit(2);
}

int int_arg(const std::string& program, const char* usage, const std::string& flag, const char* value, int lo,
            int hi) {
  char* end = nullptr;
  const long n = value ? std::strtol(value, &end, 10) : 0;
  if (!value || !*value || *end || n < lo || n > hi)
    usage_error(program, fmt::format("{} wants a number in {}..{}", flag, lo, hi), usage);
  return int(n);
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void note(const std::string& what) { std::cerr << fmt::format("[{:6.1f} s] {}\n", since(g_start), what); }

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

}  // namespace plugbox::bench
