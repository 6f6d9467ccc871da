#include "bench/upload/bench_args.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace plugbox::bench {

void BenchArgs::error(const std::string& why) const {
  std::cerr << name_ << ": " << why << "\n" << usage_;
  std::exit(2);
}

int BenchArgs::number(const std::string& flag, const char* v, int lo, int hi) const {
  char* end = nullptr;
  long n = v ? std::strtol(v, &end, 10) : 0;
  if (!v || !*v || *end || n < lo || n > hi) error(fmt::format("{} wants a number in {}..{}", flag, lo, hi));
  return int(n);
}

BenchArgs& BenchArgs::number_flag(std::string flag, int* to, int lo, int hi) {
  Flag f;
  f.name = std::move(flag);
  f.number = to;
  f.lo = lo;
  f.hi = hi;
  flags_.push_back(std::move(f));
  return *this;
}

BenchArgs& BenchArgs::switch_flag(std::string flag, bool* to) {
  Flag f;
  f.name = std::move(flag);
  f.on = to;
  flags_.push_back(std::move(f));
  return *this;
}

BenchArgs& BenchArgs::value_flag(std::string flag, std::string missing, std::function<void(const char*)> take) {
  Flag f;
  f.name = std::move(flag);
  f.missing = std::move(missing);
  f.take = std::move(take);
  flags_.push_back(std::move(f));
  return *this;
}

BenchArgs& BenchArgs::app_flags(AppFlags* to, int min_files) {
  return number_flag("--files", &to->files, min_files, 100000)
      .number_flag("--mib", &to->mib, 1, 1024)
      .number_flag("--changed-percent", &to->changed_percent, 0, 100);
}

void BenchArgs::parse(int argc, char** argv) const {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    const auto f = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& g) { return g.name == a; });
    if (f == flags_.end()) {
      if (a != "--help" && a != "-h") error("unknown argument " + a);
      std::cout << usage_;
      std::exit(0);
    }
    if (f->on) {
      *f->on = true;
      continue;
    }
    // A number's missing value is number()'s error, as a bad one is.
    if (f->number) *f->number = number(a, v, f->lo, f->hi);
    else if (!v) error(f->missing);
    else f->take(v);
    ++i;
  }
}

}  // namespace plugbox::bench
