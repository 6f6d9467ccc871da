// transport/session_mux.h over the local transport and the real
// `plugbox-server session`: the same semantics as a session of its own
// (transport.h), with every command on one channel.
#include "transport/session_mux.h"

#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <functional>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_data.h"
#include "tests/transport/test_util.h"
#include "transport/local_transport.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using plugbox::transport::test::captured;
using plugbox::transport::test::run;
using plugbox::transport::test::TempDir;
using plugbox::transport::test::random_bytes;
using namespace std::chrono_literals;

#ifdef PLUGBOX_SERVER_BIN
namespace {

Command session_command(const TempDir& dir) {
  return Command::argv({PLUGBOX_SERVER_BIN, "--home", dir.str(), "session"});
}

struct Fixture {
  boost::asio::io_context io;
  TempDir dir{"mux"};
  LocalTransport transport{io.get_executor(), LocalOptions{std::chrono::milliseconds(500)}};
  std::shared_ptr<Session> base;

  SessionMux::Started start(Command cmd) {
    auto r = run(io, transport.open(local_target("web01", dir.str())));
    REQUIRE_FALSE(r.error);
    base = r.session;
    return run(io, SessionMux::start(base, std::move(cmd), deadline_in(10s), transport, 300ms));
  }
  std::shared_ptr<Session> open() {
    auto s = start(session_command(dir));
    INFO(s.error.message());
    REQUIRE(s.session);
    return s.session;
  }
  ExecResult exec(const std::shared_ptr<Session>& s, Command c, ExecOptions o = {}) {
    return run(io, s->exec(std::move(c), std::move(o)));
  }
  // Runs `c` on `s`, doing `meanwhile` (a cancel, a close) 200 ms after it started.
  ExecResult exec_while(const std::shared_ptr<Session>& s, Command c, std::function<void()> meanwhile) {
    auto go = [&]() -> Awaitable<ExecResult> {
      asio::steady_timer t(co_await asio::this_coro::executor, 200ms);
      t.async_wait([&](boost::system::error_code) { meanwhile(); });
      co_return co_await s->exec(std::move(c));
    };
    return run(io, go());
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "session mux: exit statuses, output and signals come back as over a channel of their own") {
  auto s = open();
  CHECK_THAT(std::static_pointer_cast<SessionMux>(s)->server(), Catch::StartsWith("plugbox-server "));
  CHECK(s->name() == "web01");
  auto r = exec(s, Command::shell("echo out; echo err >&2; exit 3"), captured());
  CHECK_FALSE(r.error);
  CHECK(r.exit_status == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  auto k = exec(s, Command::shell("kill -USR1 $$"));
  CHECK(k.exit_signal == "USR1");
  CHECK(k.exit_status == -1);
  // The rendered line runs as it would under sshd: env and cwd included.
  std::filesystem::create_directories(dir.path() / "sub");
  auto c = exec(s, Command::argv({"sh", "-c", "echo $X $(basename $PWD)"}).env("X", "x y").cwd("sub"), captured());
  CHECK(c.out == "x y sub\n");
  // Output arrives as it is written, through the callbacks.
  std::string seen;
  ExecOptions o;
  o.on_stdout = [&](std::string_view d) { seen += d; };
  CHECK(exec(s, Command::shell("printf a; printf b"), std::move(o)).ok());
  CHECK(seen == "ab");
}

TEST_CASE_METHOD(Fixture, "session mux: commands run at once on the one session") {
  // The first waits for a file only the second makes: run one after the
  // other, the first would wait until its deadline.
  auto s = open();
  const std::string go = (dir.path() / "go").string();
  ExecResult a;
  bool a_done = false;
  auto first = [&]() -> Awaitable<void> {
    ExecOptions o = captured();
    o.deadline = deadline_in(10s);
    a = co_await s->exec(Command::shell("while [ ! -e " + go + " ]; do sleep 0.01; done; echo a"), std::move(o));
    a_done = true;
  };
  asio::co_spawn(io, first(), asio::detached);
  auto b = exec(s, Command::shell("touch " + go + "; echo b"), captured());
  CHECK(b.out == "b\n");
  while (!a_done) io.run_one();
  CHECK_FALSE(a.error);
  CHECK(a.out == "a\n");
}

TEST_CASE_METHOD(Fixture, "session mux: stdin as data and as a stream of 6 MiB arrives intact") {
  auto s = open();
  ExecOptions o = captured();
  o.stdin_data = "hello\n";
  CHECK(exec(s, Command::shell("cat"), std::move(o)).out == "hello\n");

  const std::string big = random_bytes(6u << 20, 7);
  auto pipe = StdinPipe::create(io.get_executor(), 256u << 10);
  auto feed = [&]() -> Awaitable<void> {
    for (std::size_t off = 0; off < big.size(); off += 100000) co_await pipe->write(big.substr(off, 100000));
    pipe->close();
  };
  asio::co_spawn(io, feed(), asio::detached);
  ExecOptions streamed;
  streamed.stdin_source = pipe->source();
  std::string out;
  streamed.on_stdout = [&](std::string_view d) { out += d; };
  auto r = exec(s, Command::shell("cat"), std::move(streamed));
  CHECK(r.ok());
  CHECK(out.size() == big.size());
  CHECK(out == big);
}

TEST_CASE_METHOD(Fixture, "session mux: a deadline kills the command's group and says timed_out") {
  auto s = open();
  const auto pidfile = dir.path() / "bg.pid";
  ExecOptions o;
  o.deadline = deadline_in(300ms);
  auto r = exec(s, Command::shell("sleep 60 & echo $! > " + pidfile.string() + "; trap '' TERM; wait"), std::move(o));
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(r.error.detail.find("SIGTERM") != std::string::npos);
  // The shell ignored TERM; the KILL after the grace took its group.
  std::ifstream pid(pidfile);
  long bg = 0;
  REQUIRE(pid >> bg);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i, std::this_thread::sleep_for(20ms)) gone = ::kill(pid_t(bg), 0) != 0;
  CHECK(gone);
  // The session goes on serving.
  CHECK(exec(s, Command::shell("true")).ok());
}

TEST_CASE_METHOD(Fixture, "session mux: a cancelled transport ends running commands with operation_canceled") {
  // The command ignores SIGTERM: the mux's own SIGKILL after the grace ends it.
  auto s = open();
  auto r = exec_while(s, Command::shell("trap '' TERM; while :; do sleep 0.1; done"), [&] { transport.cancel(); });
  CHECK(r.error.code == std::errc::operation_canceled);
  // Nothing new starts once cancelled.
  CHECK(exec(s, Command::shell("true")).error);
}

TEST_CASE_METHOD(Fixture, "session mux: a deadline kills a command that stopped reading its stdin with more queued") {
  // 16 MiB for a command that reads nothing: its window fills, the rest
  // waits here, and the deadline's signal still gets through.
  auto s = open();
  const std::string chunk(1u << 20, 'x');
  auto left = std::make_shared<int>(16);
  ExecOptions o;
  o.deadline = deadline_in(500ms);
  o.stdin_source = [&chunk, left]() -> Awaitable<std::optional<std::string>> {
    if ((*left)-- <= 0) co_return std::nullopt;
    co_return chunk;
  };
  auto r = exec(s, Command::shell("sleep 60"), std::move(o));
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(*left > 0);  // it was never all sent
  CHECK(exec(s, Command::shell("true")).ok());
}

TEST_CASE_METHOD(Fixture, "session mux: an output callback that throws makes the result an io_error, not a lost session") {
  auto s = open();
  ExecOptions o;
  o.on_stdout = [](std::string_view) { throw std::runtime_error("full"); };
  auto r = exec(s, Command::shell("echo a"), std::move(o));
  CHECK(r.error.code == std::errc::io_error);
  CHECK(r.error.detail.find("full") != std::string::npos);
  CHECK(exec(s, Command::shell("true")).ok());
}

TEST_CASE_METHOD(Fixture, "session mux: closing it ends running commands and refuses new ones") {
  auto s = open();
  auto r = exec_while(s, Command::shell("sleep 60"), [&] { s->close(); });
  CHECK(r.error);
  auto later = exec(s, Command::shell("true"));
  CHECK(later.error.code == make_error_code(Errc::session_closed));
}

TEST_CASE_METHOD(Fixture, "session mux: a server that does not serve sessions fails the start with its words") {
  SECTION("an older plugbox-server") {
    auto s = start(Command::shell("echo \"plugbox-server: unknown command 'session'\" >&2; exit 2"));
    CHECK_FALSE(s.session);
    CHECK(s.error.message().find("exit 2: plugbox-server: unknown command 'session'") != std::string::npos);
    // The base session is the caller's, and still works.
    CHECK(exec(base, Command::shell("true")).ok());
  }
  SECTION("another protocol version") {
    // A hello frame: 'H', id 0, length 15, {"protocol":99}.
    auto s = start(Command::shell("printf 'H\\000\\000\\000\\000\\000\\000\\000\\017{\"protocol\":99}'; cat >/dev/null"));
    CHECK_FALSE(s.session);
    CHECK(s.error.message().find("speaks session protocol 99, this plugbox 1") != std::string::npos);
  }
  SECTION("a server that never says hello") {
    auto r = run(io, transport.open(local_target("web01", dir.str())));
    REQUIRE_FALSE(r.error);
    base = r.session;
    auto s = run(io, SessionMux::start(base, Command::shell("sleep 60"), deadline_in(300ms), transport));
    CHECK_FALSE(s.session);
    CHECK(s.error.code == std::errc::timed_out);
  }
}
#endif
