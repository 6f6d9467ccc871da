// The benches' command lines: a bad argument is one line naming the bench,
// then its usage, and exit status 2. Each bench declares its flags and one
// loop reads them, so that every bench treats --help, a missing value and an
// unknown argument alike.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace plugbox::bench {

// The flags of every bench that deploys bench/upload's app: its size and the
// share of its files a redeploy changes, alike in every bench so that their
// figures compare.
struct AppFlags {
  int files = 2000;
  int mib = 50;
  int changed_percent = 5;
};

class BenchArgs {
 public:
  // `name`: "bench_scale"; `usage`: printed after the line, and by --help.
  BenchArgs(std::string name, std::string usage) : name_(std::move(name)), usage_(std::move(usage)) {}

  [[noreturn]] void error(const std::string& why) const;
  // `v` as a number in lo..hi, else error() saying so for `flag`.
  int number(const std::string& flag, const char* v, int lo, int hi) const;

  // `flag N`: *to = number(flag, N, lo, hi).
  BenchArgs& number_flag(std::string flag, int* to, int lo, int hi);
  // `flag`: *to = true.
  BenchArgs& switch_flag(std::string flag, bool* to);
  // `flag VALUE`: take(VALUE); error(`missing`) when there is no VALUE.
  BenchArgs& value_flag(std::string flag, std::string missing, std::function<void(const char*)> take);

  // --files (min_files..100000), --mib and --changed-percent.
  BenchArgs& app_flags(AppFlags* to, int min_files);

  // Reads argv in order; --help or -h prints the usage and exits 0.
  void parse(int argc, char** argv) const;

 private:
  struct Flag {
    std::string name;
    int* number = nullptr;  // a number flag's, with its range
    int lo = 0, hi = 0;
    bool* on = nullptr;     // a switch's
    std::string missing;    // a value flag's, with take
    std::function<void(const char*)> take;
  };
  std::string name_, usage_;
  std::vector<Flag> flags_;
};

}  // namespace plugbox::bench
