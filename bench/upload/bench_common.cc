#include "bench/upload/bench_common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace plugbox::bench {

namespace {
const std::chrono::steady_clock::time_point g_start = std::chrono::steady_clock::now();
}  // namespace

void need_root(const std::string& program, const std::string& what) {
  if (::geteuid() == 0) return;
  std::cerr << program << ": needs root (" << what << ")\n";
  std::exit(1);
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
