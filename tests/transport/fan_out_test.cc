#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_util.h"
#include "transport/dry_run_transport.h"
#include "transport/fan_out.h"
#include "transport/local_transport.h"

using namespace plugbox::transport;
using plugbox::transport::test::run;
using plugbox::transport::test::TempDir;
using namespace std::chrono_literals;

TEST_CASE("fan_out runs the command on every host and reports each one") {
  boost::asio::io_context io;
  TempDir dir("fan");
  std::vector<Target> targets;
  for (const char* name : {"web01", "web02", "web03"}) {
    std::filesystem::create_directory(dir.path() / name);
    targets.push_back(local_target(name, (dir.path() / name).string()));
  }
  targets.push_back(local_target("gone", (dir.path() / "gone").string()));  // no directory: open fails
  std::filesystem::create_directory(dir.path() / "web02" / "fail");
  LocalTransport t(io.get_executor());
  std::map<size_t, std::string> out;
  std::vector<size_t> done_order;
  FanOutOptions o;
  o.on_output = [&](size_t host, bool is_err, std::string_view d) { out[host] += (is_err ? "E:" : "") + std::string(d); };
  o.on_done = [&](size_t host, const HostOutcome&) { done_order.push_back(host); };
  auto outcomes = run(io, fan_out(t, targets, Command::shell("basename \"$PWD\"; test ! -d fail"), o));
  REQUIRE(outcomes.size() == 4);
  CHECK(outcomes[0].ok());
  CHECK(outcomes[0].describe() == "exit 0");
  CHECK_FALSE(outcomes[1].ok());
  CHECK(outcomes[1].describe() == "exit 1");
  CHECK(outcomes[2].ok());
  CHECK(outcomes[3].error.code == Errc::no_such_host_dir);
  CHECK_THAT(outcomes[3].describe(), Catch::StartsWith("open: host directory missing"));
  CHECK(out[0] == "web01\n");
  CHECK(out[1] == "web02\n");
  CHECK(out[2] == "web03\n");
  CHECK(done_order.size() == 4);
}

TEST_CASE("fan_out keeps to its parallelism and stops starting hosts once cancelled") {
  boost::asio::io_context io;
  TempDir dir("fanp");
  std::vector<Target> targets;
  for (int i = 0; i < 6; ++i) targets.push_back(local_target("h" + std::to_string(i), dir.str()));
  LocalTransport t(io.get_executor());
  // Each host appends its start and end: with parallel 2, never more than two
  // are between their start and end.
  FanOutOptions o;
  o.parallel = 2;
  auto outcomes =
      run(io, fan_out(t, targets, Command::shell("echo + >> log; sleep 0.05; echo - >> log"), o));
  for (auto& out : outcomes) CHECK(out.ok());
  std::ifstream log(dir.path() / "log");
  int open = 0, most = 0;
  std::string line;
  while (std::getline(log, line)) {
    open += line == "+" ? 1 : -1;
    most = std::max(most, open);
  }
  CHECK(most == 2);

  FanOutOptions c;
  c.parallel = 1;
  c.on_done = [&](size_t, const HostOutcome&) { t.cancel(); };
  auto cancelled = run(io, fan_out(t, targets, Command::argv({"true"}), c));
  CHECK(cancelled[0].ok());
  for (size_t i = 1; i < cancelled.size(); ++i) {
    CHECK_FALSE(cancelled[i].started);
    CHECK(cancelled[i].describe() == "not started");
  }
}

TEST_CASE("fan_out starts no further host once stop_starting says so, and lets the running ones finish") {
  boost::asio::io_context io;
  TempDir dir("fans");
  std::vector<Target> targets;
  for (int i = 0; i < 5; ++i) targets.push_back(local_target("h" + std::to_string(i), dir.str()));
  LocalTransport t(io.get_executor());
  bool stop = false;
  FanOutOptions o;
  o.parallel = 2;
  o.stop_starting = [&] { return stop; };
  o.on_done = [&](size_t, const HostOutcome&) { stop = true; };  // after the first host is done
  auto outcomes = run(io, fan_out(t, targets, Command::shell("sleep 0.05"), o));
  // The two begun before the stop ran to their end; the rest never started.
  CHECK(outcomes[0].ok());
  CHECK(outcomes[1].ok());
  for (size_t i = 2; i < outcomes.size(); ++i) CHECK(outcomes[i].describe() == "not started");
}
