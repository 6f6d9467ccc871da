// How the SSH transport fails: every error says which host, which step and
// what to do, and nothing hangs.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/transport/ssh_fixture.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using namespace plugbox::transport::test;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("ssh: an unreachable host fails at once with the host and the step") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}, {"web02"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->stop_host("web01");
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto r = run(io, t.open(target_for(*fleet, "web01"), deadline_in(20s)));
  CHECK(r.error.code == std::errc::connection_refused);
  CHECK(r.error.step == "connect");
  CHECK(r.error.host == "web01");
  CHECK_THAT(r.error.message(), Catch::StartsWith("web01: connect: Connection refused"));
  // The other host is not affected.
  CHECK_FALSE(run(io, t.open(target_for(*fleet, "web02"))).error);
}

TEST_CASE("ssh: a host that accepts TCP but never speaks runs into the open deadline") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->freeze_host("web01");
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto r = run(io, t.open(target_for(*fleet, "web01"), deadline_in(700ms)));
  fleet->thaw_host("web01");
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(r.error.step == "handshake");
  CHECK(r.error.host == "web01");
}

TEST_CASE("ssh: a changed host key is refused under strict naming the host and the fix") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->replace_host_key("web01");
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto r = run(io, t.open(target_for(*fleet, "web01")));
  CHECK(r.error.code == Errc::host_key_changed);
  CHECK(r.error.step == "host-key");
  const auto& h = fleet->host("web01");
  std::string name = "[" + h.address + "]:" + std::to_string(h.port);
  CHECK_THAT(r.error.message(), Catch::StartsWith("web01: host-key: host key changed: " + name));
  CHECK_THAT(r.error.message(), Catch::Contains("ssh-keygen -R"));
  CHECK_THAT(r.error.message(), Catch::Contains(fleet->known_hosts_path()));
  // accept-new does not accept a changed key either.
  auto target = target_for(*fleet, "web01");
  target.endpoint.host_key_check = HostKeyCheck::accept_new;
  CHECK(run(io, t.open(target)).error.code == Errc::host_key_changed);
}

TEST_CASE("ssh: accept-new records an unknown key that strict then accepts, strict refuses unknown keys") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  TempDir dir("kh");
  const std::string known = dir.str() + "/sub/known_hosts";  // not there yet
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto target = target_for(*fleet, "web01");
  target.endpoint.known_hosts = known;

  auto strict = run(io, t.open(target));
  CHECK(strict.error.code == Errc::host_key_unknown);
  CHECK_THAT(strict.error.message(), Catch::Contains("accept-new"));
  CHECK_THAT(strict.error.message(), Catch::Contains("ssh-keyscan"));

  target.endpoint.host_key_check = HostKeyCheck::accept_new;
  auto first = run(io, t.open(target));
  INFO(first.error.message());
  REQUIRE_FALSE(first.error);
  const auto& h = fleet->host("web01");
  std::string recorded = slurp(known);
  CHECK_THAT(recorded, Catch::Contains("[" + h.address + "]:" + std::to_string(h.port)));
  CHECK_THAT(recorded, Catch::Contains(h.host_public_key.substr(0, h.host_public_key.find(' ', 12))));

  target.endpoint.host_key_check = HostKeyCheck::strict;
  auto again = run(io, t.open(target));
  INFO(again.error.message());
  CHECK_FALSE(again.error);
}

TEST_CASE("ssh: host_key_check off connects to anything with a loud warning") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->replace_host_key("web01");
  std::vector<std::string> warnings;
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options(&warnings));
  auto target = target_for(*fleet, "web01");
  target.endpoint.host_key_check = HostKeyCheck::off;
  CHECK_FALSE(run(io, t.open(target)).error);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("host key checking is OFF for web01"));
}

TEST_CASE("ssh: a key the host does not accept fails auth naming the user and the key") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  TempDir dir("key");
  const std::string key = dir.str() + "/stranger";
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + key).c_str()) == 0);
  boost::asio::io_context io;
  std::vector<std::string> warnings;
  SshTransport t(io.get_executor(), quiet_options(&warnings));
  auto target = target_for(*fleet, "web01");
  target.endpoint.identity = key;
  ::unsetenv("SSH_AUTH_SOCK");
  auto r = run(io, t.open(target));
  CHECK(r.error.code == Errc::auth_failed);
  CHECK(r.error.step == "auth");
  CHECK_THAT(r.error.message(), Catch::Contains(key));
  CHECK_THAT(r.error.message(), Catch::Contains("for user " + fleet->user()));

  target.endpoint.identity = dir.str() + "/missing";
  auto m = run(io, t.open(target));
  CHECK(m.error.code == Errc::auth_failed);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("does not exist"));
}

TEST_CASE("ssh: a connection killed mid-command ends the command with connection_lost") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  std::string out;
  auto body = [&]() -> Awaitable<ExecResult> {
    ExecOptions o;
    o.on_stdout = [&](std::string_view d) { out.append(d); };
    auto c = Command::shell("echo started; sleep 100");
    asio::steady_timer timer(io.get_executor(), 10s);
    auto killer = [&]() -> Awaitable<void> {
      while (out.empty()) co_await pause(10ms);
      fleet->stop_host("web01");
    };
    asio::co_spawn(io, killer(), asio::detached);
    co_return co_await opened.session->exec(c, o);
  };
  auto r = run(io, body());
  CHECK(out == "started\n");
  CHECK(r.error.code == Errc::connection_lost);
  CHECK(r.error.step == "exec");
  CHECK(r.error.host == "web01");
  CHECK(run(io, opened.session->exec(Command::argv({"true"}))).error.code == Errc::connection_lost);
}

TEST_CASE("ssh: keepalives find a host that stopped answering") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  auto o = quiet_options();
  // Dead after 4 silent intervals (2 s); a healthy idle server answers each
  // interval's request within a round trip, even on a loaded machine.
  o.keepalive_interval = 500ms;
  o.keepalive_count_max = 3;
  SshTransport t(io.get_executor(), o);
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  // Idle but answering: keepalives keep it alive past several intervals.
  auto idle = run(io, opened.session->exec(Command::shell("sleep 3; echo fine"), capture_all()));
  INFO(idle.error.message());
  CHECK(idle.ok());
  CHECK(idle.out == "fine\n");
  auto body = [&]() -> Awaitable<ExecResult> {
    asio::steady_timer timer(io.get_executor(), 300ms);
    timer.async_wait([&](const boost::system::error_code&) { fleet->freeze_host("web01"); });
    auto c = Command::argv({"sleep", "100"});
    co_return co_await opened.session->exec(c, ExecOptions());
  };
  auto r = run(io, body());
  fleet->thaw_host("web01");
  CHECK(r.error.code == Errc::keepalive_timeout);
  CHECK(r.error.host == "web01");
}

TEST_CASE("ssh: cancel ends pending opens and running commands and refuses new ones") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}, {"frozen"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  fleet->freeze_host("frozen");
  std::optional<OpenResult> pending;
  std::string out;
  auto body = [&]() -> Awaitable<ExecResult> {
    auto open_frozen = [&]() -> Awaitable<void> { pending = co_await t.open(target_for(*fleet, "frozen")); };
    asio::co_spawn(io, open_frozen(), asio::detached);
    // Cancel once the command runs (and the other open is stuck).
    auto canceller = [&]() -> Awaitable<void> {
      while (out.empty()) co_await pause(10ms);
      co_await pause(100ms);
      t.cancel();
    };
    asio::co_spawn(io, canceller(), asio::detached);
    ExecOptions o;
    o.on_stdout = [&](std::string_view d) { out.append(d); };
    auto c = Command::shell("echo started; sleep 100");
    auto r = co_await opened.session->exec(c, o);
    while (!pending) co_await pause(10ms);
    co_return r;
  };
  auto r = run(io, body());
  fleet->thaw_host("frozen");
  CHECK(r.error.code == std::errc::operation_canceled);
  CHECK(r.exit_signal == "TERM");
  REQUIRE(pending);
  CHECK(pending->error.code == std::errc::operation_canceled);
  CHECK(t.cancelled());
  CHECK(run(io, t.open(target_for(*fleet, "web01"))).error.code == std::errc::operation_canceled);
}

TEST_CASE("ssh: ssh-agent authenticates when no identity file is usable") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  TempDir dir("agent");
  const std::string sock = dir.str() + "/agent.sock";
  // The agent holds the fleet's key; the target names no identity file and
  // HOME points where there are no default keys.
  std::string start = "ssh-agent -a " + sock + " > " + dir.str() + "/agent.env && SSH_AUTH_SOCK=" + sock +
                      " ssh-add -q " + fleet->client_key_path();
  REQUIRE(std::system(start.c_str()) == 0);
  struct AgentGuard {
    std::string env_file;
    ~AgentGuard() { std::system((". " + env_file + " >/dev/null && ssh-agent -k >/dev/null").c_str()); }
  } agent{dir.str() + "/agent.env"};
  const char* old_home = std::getenv("HOME");
  std::string saved_home = old_home ? old_home : "";
  ::setenv("HOME", dir.str().c_str(), 1);
  ::setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto target = target_for(*fleet, "web01");
  target.endpoint.identity.clear();
  auto opened = run(io, t.open(target));
  ::unsetenv("SSH_AUTH_SOCK");
  ::setenv("HOME", saved_home.c_str(), 1);
  INFO(opened.error.message());
  REQUIRE_FALSE(opened.error);
  CHECK(run(io, opened.session->exec(Command::argv({"true"}))).ok());
}

TEST_CASE("ssh: the cap on concurrent handshakes holds and every host still gets through") {
  plugbox::testing::FleetOptions fo;
  for (int i = 1; i <= 8; ++i) fo.hosts.push_back({"web" + std::to_string(i)});
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  auto o = quiet_options();
  o.max_concurrent_handshakes = 2;
  SshTransport t(io.get_executor(), o);
  int ok = 0, done = 0;
  auto one = [&](int i) -> Awaitable<void> {
    auto opened = co_await t.open(target_for(*fleet, "web" + std::to_string(i)));
    ok += !opened.error;
    ++done;
  };
  auto all = [&]() -> Awaitable<int> {
    for (int i = 1; i <= 8; ++i) asio::co_spawn(io, one(i), asio::detached);
    while (done < 8) co_await pause(10ms);
    co_return 0;
  };
  run(io, all());
  CHECK(ok == 8);
  CHECK(t.handshakes_peak() == 2);
}

TEST_CASE("ssh: abandoning the event loop mid-command frees everything") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  const int fds_before = open_fd_count();
  {
    auto io = std::make_unique<boost::asio::io_context>();
    auto t = std::make_unique<SshTransport>(io->get_executor(), quiet_options());
    std::string out;
    auto body = [&]() -> Awaitable<void> {
      auto opened = co_await t->open(target_for(*fleet, "web01"));
      if (opened.error) co_return;
      ExecOptions o;
      o.on_stdout = [&](std::string_view d) { out.append(d); };
      auto stdin_pipe = StdinPipe::create(io->get_executor());
      o.stdin_source = stdin_pipe->source();  // never closed
      auto c = Command::shell("echo started; cat");
      co_await opened.session->exec(c, o);
    };
    asio::co_spawn(*io, body(), asio::detached);
    while (out.empty() && io->run_one() > 0) {
    }
    CHECK(out == "started\n");
    // The transport goes first, then the io_context destroys the suspended
    // coroutines, which own the session and its channel.
    t.reset();
    io.reset();
  }
  CHECK(open_fd_count() == fds_before);
}
