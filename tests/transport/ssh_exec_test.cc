// The SSH transport running commands on real OpenSSH servers (tests/harness).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/transport/ssh_fixture.h"
#include "tests/transport/test_data.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using namespace plugbox::transport::test;
using namespace std::chrono_literals;

namespace {

// One host, reachable directly or behind a bastion: the same behaviour is
// checked on both paths (the second goes through a tunnel).
struct Path {
  const char* name;
  std::vector<plugbox::testing::HostSpec> hosts;
};

const Path kDirect{"direct", {{"web01"}}};
const Path kTunnelled{"behind a bastion", {{"bastion"}, {"web01", "bastion"}}};

}  // namespace

TEST_CASE("ssh: exit statuses and signals and both output streams come back as they are") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  const int fds_before = open_fd_count();
  {
    boost::asio::io_context io;
    SshTransport t(io.get_executor(), quiet_options());
    auto opened = run(io, t.open(target_for(*fleet, "web01")));
    INFO(opened.error.message());
    REQUIRE_FALSE(opened.error);
    auto& s = *opened.session;
    CHECK(s.name() == "web01");

    auto r = run(io, s.exec(Command::shell("echo out; echo err >&2; exit 3"), capture_all()));
    CHECK_FALSE(r.error);
    CHECK(r.exit_status == 3);
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
    CHECK(run(io, s.exec(Command::argv({"true"}))).ok());
    CHECK(run(io, s.exec(Command::argv({"plugbox-no-such-command"}), capture_all())).exit_status == 127);
    auto k = run(io, s.exec(Command::shell("kill -USR1 $$")));
    CHECK(k.exit_signal == "USR1");
    CHECK(k.exit_status == -1);
    CHECK_FALSE(k.error);

    // Words survive the trip, environment and working directory included.
    auto c = Command::argv({"printf", "%s|", "a b", "it's", "$HOME", "*"});
    c.env("PLUGBOX_X", "v 1").cwd("/tmp");
    auto w = run(io, s.exec(c, capture_all()));
    CHECK(w.out == "a b|it's|$HOME|*|");
    auto e = Command::shell("echo \"$PLUGBOX_X\" \"$PWD\"");
    e.env("PLUGBOX_X", "v 1").cwd("/tmp");
    CHECK(run(io, s.exec(e, capture_all())).out == "v 1 /tmp\n");
    s.close();
    CHECK(run(io, s.exec(Command::argv({"true"}))).error.code == Errc::session_closed);
  }
  // Every descriptor (sockets, dups, pipes) went with the transport.
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("ssh: several MiB of output stream through the callbacks directly and through a tunnel") {
  for (const Path& path : {kDirect, kTunnelled}) {
    SECTION(path.name) {
      plugbox::testing::FleetOptions fo;
      fo.hosts = path.hosts;
      PLUGBOX_FLEET_OR_SKIP(fleet, fo);
      boost::asio::io_context io;
      SshTransport t(io.get_executor(), quiet_options());
      auto opened = run(io, t.open(target_for(*fleet, "web01")));
      INFO(opened.error.message());
      REQUIRE_FALSE(opened.error);
      size_t out_bytes = 0, err_bytes = 0, calls = 0;
      bool only_x = true;
      ExecOptions o;
      o.on_stdout = [&](std::string_view d) {
        out_bytes += d.size();
        ++calls;
        only_x = only_x && d.find_first_not_of('x') == std::string_view::npos;
      };
      o.on_stderr = [&](std::string_view d) { err_bytes += d.size(); };
      auto r = run(io, opened.session->exec(
                           Command::shell("head -c 8388608 /dev/zero | tr '\\0' x; head -c 1048576 /dev/zero >&2"), o));
      INFO(r.error.message());
      CHECK(r.ok());
      CHECK(out_bytes == 8u << 20);
      CHECK(err_bytes == 1u << 20);
      CHECK(only_x);
      CHECK(calls > 1);
    }
  }
}

TEST_CASE("ssh: stdin streams several MiB with backpressure and a checksum on the far side") {
  for (const Path& path : {kDirect, kTunnelled}) {
    SECTION(path.name) {
      plugbox::testing::FleetOptions fo;
      fo.hosts = path.hosts;
      PLUGBOX_FLEET_OR_SKIP(fleet, fo);
      boost::asio::io_context io;
      SshTransport t(io.get_executor(), quiet_options());
      auto opened = run(io, t.open(target_for(*fleet, "web01")));
      INFO(opened.error.message());
      REQUIRE_FALSE(opened.error);
      const std::string data = random_bytes(6 << 20, 7);
      size_t offset = 0, pulls = 0;
      ExecOptions o = capture_all();
      o.stdin_source = [&]() -> Awaitable<std::optional<std::string>> {
        ++pulls;
        if (offset >= data.size()) co_return std::nullopt;
        size_t n = std::min<size_t>(200000, data.size() - offset);
        std::string chunk = data.substr(offset, n);
        offset += n;
        co_return chunk;
      };
      auto r = run(io, opened.session->exec(Command::argv({"sha256sum"}), std::move(o)));
      INFO(r.error.message() << r.err);
      CHECK(r.ok());
      CHECK(r.out.substr(0, 64) == sha256_hex(data));
      CHECK(pulls == 1 + (data.size() + 199999) / 200000);

      ExecOptions whole = capture_all();
      whole.stdin_data = "one\ntwo\n";
      CHECK(run(io, opened.session->exec(Command::argv({"wc", "-l"}), whole)).out == "2\n");
      CHECK(run(io, opened.session->exec(Command::argv({"cat"}), capture_all())).out.empty());
      // A command that stops reading: the rest of stdin is dropped, no error.
      ExecOptions unread = capture_all();
      unread.stdin_data = std::string(4 << 20, 'y');
      auto h = run(io, opened.session->exec(Command::argv({"head", "-c", "3"}), unread));
      CHECK(h.ok());
      CHECK(h.out == "yyy");
    }
  }
}

TEST_CASE("ssh: commands of one session run at once with one holding stdin open like the lock") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  auto s = opened.session;
  auto pipe = StdinPipe::create(io.get_executor());
  std::string holder_out;
  std::optional<ExecResult> holder;
  std::vector<ExecResult> others(3);
  int others_done = 0;
  // The holder echoes a line per line of stdin and ends at EOF.
  auto hold = [&](std::shared_ptr<Session> session) -> Awaitable<void> {
    ExecOptions o;
    o.stdin_source = pipe->source();
    o.on_stdout = [&](std::string_view d) { holder_out.append(d); };
    auto c = Command::shell("while read line; do echo \"got $line\"; done; echo bye");
    holder = co_await session->exec(c, o);
  };
  // Three commands that each wait for the file of the next: only run
  // concurrently can they finish.
  auto other = [&](std::shared_ptr<Session> session, int i) -> Awaitable<void> {
    std::string mine = "$HOME/f" + std::to_string(i), next = "$HOME/f" + std::to_string((i + 1) % 3);
    ExecOptions o;
    o.deadline = deadline_in(30s);
    auto c = Command::shell("touch " + mine + "; while [ ! -e " + next + " ]; do sleep 0.01; done; rm -f " + next);
    others[i] = co_await session->exec(c, o);
    ++others_done;
  };
  auto body = [&]() -> Awaitable<bool> {
    asio::co_spawn(io, hold(s), asio::detached);
    co_await pipe->write("a\n");
    while (holder_out != "got a\n") co_await pause(10ms);
    for (int i = 0; i < 3; ++i) asio::co_spawn(io, other(s, i), asio::detached);
    while (others_done < 3) co_await pause(10ms);
    bool still_holding = !holder.has_value();
    co_await pipe->write("b\n");
    pipe->close();
    while (!holder) co_await pause(10ms);
    co_return still_holding;
  };
  CHECK(run(io, body()));
  for (auto& r : others) {
    INFO(r.error.message());
    CHECK(r.ok());
  }
  REQUIRE(holder);
  CHECK(holder->ok());
  CHECK(holder_out == "got a\ngot b\nbye\n");
}

TEST_CASE("ssh: a deadline cuts sleep 100 and nothing of it survives on the host") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  ExecOptions o;
  o.deadline = deadline_in(500ms);
  auto r = run(io, opened.session->exec(Command::shell("echo $$ > \"$HOME/pid\"; sleep 100; echo not reached"), o));
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(r.error.step == "exec");
  CHECK(r.error.host == "web01");
  CHECK(r.exit_signal == "TERM");
  // The host is this machine: its shell led a process group (sshd setsid()s
  // each session) that the signal request killed, sleep included.
  pid_t pid = 0;
  std::ifstream(fleet->host("web01").home + "/pid") >> pid;
  REQUIRE(pid > 0);
  CHECK(live_processes_in_group_after(pid) == 0);
  // The session is still good for more.
  CHECK(run(io, opened.session->exec(Command::argv({"true"}))).ok());
}

TEST_CASE("ssh: closing a session ends its running commands") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  boost::asio::io_context io;
  SshTransport t(io.get_executor(), quiet_options());
  auto opened = run(io, t.open(target_for(*fleet, "web01")));
  REQUIRE_FALSE(opened.error);
  auto s = opened.session;
  auto body = [&]() -> Awaitable<ExecResult> {
    asio::steady_timer timer(io.get_executor(), 300ms);
    timer.async_wait([&](const boost::system::error_code&) { s->close(); });
    auto c = Command::argv({"sleep", "100"});
    co_return co_await s->exec(c, ExecOptions());
  };
  auto r = run(io, body());
  CHECK(r.error.code == Errc::session_closed);
}
