// Jump chains: hosts reachable only through a bastion (or two), each jump
// host connected once and shared.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <thread>

#include "base/unique_fd.h"
#include "tests/transport/ssh_fixture.h"

using namespace plugbox::transport;
using namespace plugbox::transport::test;
using namespace std::chrono_literals;

namespace {

struct Reached {
  std::vector<ExecResult> results;
  std::vector<Error> errors;
};

// Opens web1..webN of `fleet` all at once and runs `line` on each.
Reached reach_all(const plugbox::testing::SshdFleet& fleet, SshTransport& t, boost::asio::io_context& io, int n,
                  const std::string& line) {
  Reached r{std::vector<ExecResult>(size_t(n)), std::vector<Error>(size_t(n))};
  int done = 0;
  auto one = [&](int i) -> Awaitable<void> {
    auto opened = co_await t.open(target_for(fleet, "web" + std::to_string(i + 1)));
    if (opened.error) {
      r.errors[size_t(i)] = opened.error;
    } else {
      auto c = Command::shell(line);
      r.results[size_t(i)] = co_await opened.session->exec(c, capture_all());
    }
    ++done;
  };
  auto all = [&]() -> Awaitable<int> {
    for (int i = 0; i < n; ++i) asio::co_spawn(io, one(i), asio::detached);
    while (done < n) co_await pause(10ms);
    co_return 0;
  };
  run(io, all());
  return r;
}

}  // namespace

TEST_CASE("ssh: 50 hosts behind one bastion are carried by a single bastion session") {
  plugbox::testing::FleetOptions fo;
  fo.hosts.push_back({"bastion"});
  for (int i = 1; i <= 50; ++i) fo.hosts.push_back({"web" + std::to_string(i), "bastion"});
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  const auto [results, errors] = reach_all(*fleet, t, io, 50, "echo \"$HOME\"");
  for (int i = 0; i < 50; ++i) {
    INFO("web" << i + 1 << ": " << errors[i].message() << results[i].error.message());
    CHECK_FALSE(errors[i]);
    CHECK(results[i].ok());
    CHECK(results[i].out == fleet->host("web" + std::to_string(i + 1)).home + "\n");
  }
  // Counted on the bastion's side: one TCP connection carried all 50 tunnels.
  CHECK(fleet->accepted_connections("bastion") == 1);
  CHECK(t.connections_started() == 51);
}

TEST_CASE("ssh: a host two hops away is reached through both bastions") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"edge"}, {"inner", "edge"}, {"deep", "inner"}, {"deep2", "inner"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  REQUIRE(fleet->host("deep").jump_chain == std::vector<std::string>{"edge", "inner"});
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  for (const char* name : {"deep", "deep2"}) {
    auto opened = run(io, t.open(target_for(*fleet, name)));
    INFO(opened.error.message());
    REQUIRE_FALSE(opened.error);
    auto r = run(io, opened.session->exec(Command::shell("echo \"$HOME\"; head -c 3000000 /dev/zero | wc -c"),
                                          capture_all()));
    CHECK(r.ok());
    CHECK(r.out == fleet->host(name).home + "\n3000000\n");
  }
  CHECK(fleet->accepted_connections("edge") == 1);
  CHECK(fleet->accepted_connections("inner") == 1);
  // The bastions themselves are hosts too.
  auto inner = run(io, t.open(target_for(*fleet, "inner")));
  CHECK_FALSE(inner.error);
}

TEST_CASE("ssh: failures behind a bastion name the bastion and the step") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion"}, {"web02", "bastion"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());

  // The bastion cannot reach the host.
  fleet->stop_host("web01");
  auto r = run(io, t.open(target_for(*fleet, "web01")));
  CHECK(r.error.code == Errc::tunnel_failed);
  CHECK(r.error.step == "connect");
  CHECK(r.error.host == "web01");
  CHECK_THAT(r.error.message(), Catch::Contains("through bastion"));
  // ... which says nothing about the bastion's other hosts.
  CHECK_FALSE(run(io, t.open(target_for(*fleet, "web02"))).error);

  // The bastion itself is down: its hosts fail at the jump step.
  boost::asio::io_context io2;
  SshTransport t2(io2.get_executor(), quiet_options());
  fleet->stop_host("bastion");
  auto j = run(io2, t2.open(target_for(*fleet, "web02")));
  CHECK(j.error.code == std::errc::connection_refused);
  CHECK(j.error.step == "jump");
  CHECK(j.error.host == "web02");
  CHECK_THAT(j.error.message(), Catch::Contains("via bastion: connect: Connection refused"));
}

TEST_CASE("ssh: when the bastion dies the sessions behind it end and a later open reconnects") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  std::string out;
  auto body = [&]() -> Awaitable<ExecResult> {
    ExecOptions o;
    o.on_stdout = [&](std::string_view d) { out.append(d); };
    auto killer = [&]() -> Awaitable<void> {
      while (out.empty()) co_await pause(10ms);
      fleet->stop_host("bastion");
    };
    asio::co_spawn(io, killer(), asio::detached);
    auto c = Command::shell("echo started; sleep 100");
    co_return co_await opened.session->exec(c, o);
  };
  auto r = run(io, body());
  CHECK(r.error.code == Errc::connection_lost);
  CHECK(r.error.host == "web01");
  fleet->start_host("bastion");
  auto again = run(io, t.open(target_for(*fleet, "web01")));
  INFO(again.error.message());
  CHECK_FALSE(again.error);
  CHECK(fleet->accepted_connections("bastion") == 2);
}

TEST_CASE("ssh: 20 hosts behind one bastion stream MiBs both ways at once without mixing bytes") {
  plugbox::testing::FleetOptions fo;
  fo.hosts.push_back({"bastion"});
  for (int i = 1; i <= 20; ++i) fo.hosts.push_back({"web" + std::to_string(i), "bastion"});
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  // Down: `seq` output (1.9 MB, known content). Up: 1 MiB of a host-specific
  // pattern, checked by the host, which prints its size and line count.
  std::string expected_seq;
  for (int i = 1; i <= 250000; ++i) expected_seq += std::to_string(i) + "\n";
  std::vector<std::string> out(20);
  std::vector<ExecResult> results(20);
  std::vector<Error> errors(20);
  int done = 0;
  auto one = [&](int i) -> Awaitable<void> {
    auto opened = co_await t.open(target_for(*fleet, "web" + std::to_string(i + 1)));
    if (opened.error) {
      errors[i] = opened.error;
      ++done;
      co_return;
    }
    ExecOptions o;
    o.on_stdout = [&out, i](std::string_view d) { out[i].append(d); };
    std::string line(63, static_cast<char>('a' + i));
    line += '\n';
    std::string data;
    while (data.size() < (1u << 20)) data += line;
    o.stdin_data = data;
    o.capture_stderr = true;
    auto c = Command::shell("seq 1 250000; wc -c -l >&2");
    results[i] = co_await opened.session->exec(c, o);
    ++done;
  };
  auto all = [&]() -> Awaitable<int> {
    for (int i = 0; i < 20; ++i) asio::co_spawn(io, one(i), asio::detached);
    while (done < 20) co_await pause(10ms);
    co_return 0;
  };
  run(io, all());
  for (int i = 0; i < 20; ++i) {
    INFO("web" << i + 1 << ": " << errors[i].message() << results[i].error.message());
    CHECK_FALSE(errors[i]);
    CHECK(results[i].ok());
    CHECK(out[i] == expected_seq);
    // 16384 lines of 64 bytes: exactly 1 MiB arrived.
    CHECK(results[i].err == "  16384 1048576\n");
  }
  CHECK(fleet->accepted_connections("bastion") == 1);
}

TEST_CASE("ssh: an opener giving up on a stuck bastion does not strand the others waiting for it") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion"}, {"web02", "bastion"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->freeze_host("bastion");
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  std::optional<OpenResult> a, b;
  auto open_a = [&]() -> Awaitable<void> { a = co_await t.open(target_for(*fleet, "web01"), deadline_in(300ms)); };
  auto open_b = [&]() -> Awaitable<void> { b = co_await t.open(target_for(*fleet, "web02"), deadline_in(1200ms)); };
  auto both = [&]() -> Awaitable<int> {
    asio::co_spawn(io, open_a(), asio::detached);
    asio::co_spawn(io, open_b(), asio::detached);
    while (!a || !b) co_await pause(10ms);
    co_return 0;
  };
  run(io, both());
  // b waited on a's connection attempt, then tried again on its own.
  CHECK(a->error.code == std::errc::timed_out);
  CHECK(b->error.code == std::errc::timed_out);
  CHECK(a->error.step == "jump");
  fleet->thaw_host("bastion");
  auto c = run(io, t.open(target_for(*fleet, "web01")));
  INFO(c.error.message());
  CHECK_FALSE(c.error);
}

// Why plugbox needs no pacing of its own against sshd's MaxStartups (which
// drops new connections while too many are unauthenticated, per sshd): it
// never has more than one connection to an sshd at a time, hosts behind a
// bastion come in as channels of the bastion's one connection, and each
// host's own sshd sees one connection from the bastion. So the tightest
// settings (one unauthenticated connection, one session) drop nothing.
TEST_CASE("ssh: 20 hosts behind a bastion are reached when every sshd allows one startup and one session") {
  plugbox::testing::FleetOptions fo;
  fo.sshd_config_extra = {"MaxStartups 1:100:1", "MaxSessions 1"};
  fo.hosts.push_back({"bastion"});
  for (int i = 1; i <= 20; ++i) fo.hosts.push_back({"web" + std::to_string(i), "bastion"});
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  const auto [results, errors] = reach_all(*fleet, t, io, 20, "echo ok");
  for (int i = 0; i < 20; ++i) {
    INFO("web" << i + 1 << ": " << errors[i].message() << results[i].error.message());
    CHECK_FALSE(errors[i]);
    CHECK(results[i].out == "ok\n");
  }
  CHECK(fleet->accepted_connections("bastion") == 1);
  for (const auto& h : fleet->hosts()) {
    INFO(h.name);
    CHECK(fleet->log(h.name).find("MaxStartups") == std::string::npos);
  }

  SECTION("the setting bites: a second unauthenticated connection to the bastion is dropped") {
    const auto& b = fleet->host("bastion");
    auto connect = [&] {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(uint16_t(b.port));
      ::inet_pton(AF_INET, b.address.c_str(), &a.sin_addr);
      REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
      return plugbox::base::UniqueFd(fd);
    };
    auto first = connect();
    char banner[64];
    REQUIRE(::recv(first.get(), banner, sizeof banner, 0) > 0);  // sshd took it: one startup
    auto second = connect();
    for (int i = 0; i < 100 && fleet->log("bastion").find("MaxStartups") == std::string::npos; ++i)
      std::this_thread::sleep_for(20ms);
    CHECK(fleet->log("bastion").find("past MaxStartups") != std::string::npos);
  }
}
