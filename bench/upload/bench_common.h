// What every benchmark's main needs besides its figures: integer flags with a
// usage message, progress notes on stderr, the machine's load.
#pragma once

#include <chrono>
#include <string>

namespace plugbox::bench {

// "<program>: <why>" and the usage on stderr, then exit status 2.
[[noreturn]] void usage_error(const std::string& program, const std::string& why, const char* usage);

// A flag's value as a number in lo..hi; anything else (none, not a number,
// out of range) is a usage_error.
int int_arg(const std::string& program, const char* usage, const std::string& flag, const char* value, int lo,
            int hi);

double since(std::chrono::steady_clock::time_point t0);  // seconds

// "[  12.3 s] what" on stderr, timed from the start of the process: the
// untimed checks take a while, and a stuck step should show which it is.
void note(const std::string& what);

// The 1-minute load average ("?" if unknown): other work on the machine shows
// in wall times, so every table says how busy it was.
std::string load_average();

}  // namespace plugbox::bench
