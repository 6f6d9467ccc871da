// What every benchmark's main needs besides its figures and its command line
// (bench_args.h): root, progress notes on stderr, the machine's load.
#pragma once

#include <chrono>
#include <string>

namespace plugbox::bench {

// Exits 1 saying "<program>: needs root (<what>)" unless this process is
// root: what for (sshd hosts, a tmpfs, a cgroup) tells what to run it with.
void need_root(const std::string& program, const std::string& what);

double since(std::chrono::steady_clock::time_point t0);  // seconds

// "[  12.3 s] what" on stderr, timed from the start of the process: the
// untimed checks take a while, and a stuck step should show which it is.
void note(const std::string& what);

// The 1-minute load average ("?" if unknown): other work on the machine shows
// in wall times, so every table says how busy it was.
std::string load_average();

}  // namespace plugbox::bench
