#include "bench/upload/bench_common.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>

namespace plugbox::bench {

namespace {
const std::chrono::steady_clock::time_point g_start = std::chrono::steady_clock::now();
}  // namespace

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
