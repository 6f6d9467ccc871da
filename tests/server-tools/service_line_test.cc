// server-tools/service_line.h through `plugbox-server run` (cli_run.cc): the
// way a client's health check runs on a host.
#include "server-tools/service_line.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("run exits with the line's status and prints what it wrote", "[run]") {
  TempDir t;
  CliResult r = cli(t.path(), {"run", "--timeout", "10", "--", "echo out; echo err >&2; exit 3"});
  INFO(describe(r));
  CHECK(r.rc == 3);
  CHECK(r.out == "out\nerr\n");
  CHECK(r.err.empty());
  CHECK(cli(t.path(), {"run", "--timeout", "10", "--", "true"}).rc == 0);
}

TEST_CASE("run kills a line past its timeout with every child it left behind: exit 124", "[run]") {
  TempDir t;
  const auto pidfile = t.path() / "bg.pid";
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = cli(t.path(), {"run", "--timeout", "0.3", "--",
                               "sleep 60 & echo $! > " + pidfile.string() + "; sleep 60"});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(describe(r));
  CHECK(r.rc == 124);
  CHECK_THAT(r.err, Catch::StartsWith("plugbox-server run: timed out after 0.3 s") &&
                        Catch::Contains("its process group was killed"));
  CHECK(took < 30);  // bounded by the timeout, not by the sleeps
  const int bg = std::stoi(slurp(pidfile));
  CHECK(ends_within_2s(bg));
}

TEST_CASE("run: a line that ends in time keeps what it started, a signal is 128+N", "[run]") {
  TempDir t;
  const auto pidfile = t.path() / "bg.pid";
  CliResult r = cli(t.path(), {"run", "--timeout", "10", "--", "sleep 60 & echo $! > " + pidfile.string()});
  INFO(describe(r));
  CHECK(r.rc == 0);
  const int bg = std::stoi(slurp(pidfile));
  CHECK_FALSE(plugbox::testing::process_ended(bg));
  ::kill(bg, SIGKILL);
  CliResult k = cli(t.path(), {"run", "--timeout", "10", "--", "kill -9 $$"});
  CHECK(k.rc == 137);
  CHECK(k.err == "plugbox-server run: killed by signal 9\n");
}

TEST_CASE("run refuses a timeout that is not a number of seconds, and an empty line", "[run]") {
  TempDir t;
  for (const char* bad : {"nan", "0", "-1", "90000", "inf"}) {
    CliResult r = cli(t.path(), {"run", "--timeout", bad, "--", "true"});
    INFO(bad << ": " << describe(r));
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
  }
  CHECK(cli(t.path(), {"run", "--timeout", "1", "--", ""}).rc == 2);
  CHECK(cli(t.path(), {"run", "--timeout", "1"}).rc == 2);
}

#ifdef PLUGBOX_SERVER_BIN
TEST_CASE("run passes a SIGTERM on to the line's group: a client's Ctrl-C leaves nothing running", "[run]") {
  TempDir t;
  const auto pidfile = t.path() / "bg.pid";
  // The line writes its child's pid, then hangs; run's own timeout is far.
  Child c(server_argv(t.path(), {"run", "--timeout", "300", "--",
                                 "sleep 60 & echo $! > " + pidfile.string() + "; echo started; wait"}));
  c.close_stdin();
  bool started = false;
  for (int i = 0; i < 250 && !started; ++i) {
    started = fs::exists(pidfile) && !slurp(pidfile).empty();
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(started);
  ::kill(c.pid(), SIGTERM);
  const int rc = c.wait();
  CHECK(rc == 124);
  CHECK_THAT(c.drain_stderr(), Catch::Contains("stopped by signal 15 (its process group was killed)"));
  const int bg = std::stoi(slurp(pidfile));
  CHECK(ends_within_2s(bg));
}
#endif
