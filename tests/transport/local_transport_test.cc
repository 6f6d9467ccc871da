#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_data.h"
#include "tests/transport/test_util.h"
#include "transport/local_transport.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using plugbox::transport::test::captured;
using plugbox::transport::test::run;
using plugbox::transport::test::TempDir;
using plugbox::transport::test::live_processes_in_group_after;
using plugbox::transport::test::random_bytes;
using plugbox::transport::test::sha256_hex;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  boost::asio::io_context io;
  TempDir dir{"local"};
  LocalTransport transport{io.get_executor(), LocalOptions{std::chrono::milliseconds(500)}};

  std::shared_ptr<Session> open() {
    auto r = run(io, transport.open(local_target("web01", dir.str())));
    REQUIRE_FALSE(r.error);
    return r.session;
  }
  ExecResult exec(const std::shared_ptr<Session>& s, Command c, ExecOptions o = {}) {
    return run(io, s->exec(std::move(c), std::move(o)));
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "local: exit statuses come back as they are") {
  auto s = open();
  CHECK(exec(s, Command::argv({"true"})).ok());
  auto r = exec(s, Command::shell("exit 3"));
  CHECK_FALSE(r.error);
  CHECK(r.exit_status == 3);
  CHECK(r.describe() == "exit 3");
  CHECK(exec(s, Command::argv({"plugbox-no-such-command"}), captured()).exit_status == 127);
  auto k = exec(s, Command::shell("kill -USR1 $$"));
  CHECK(k.exit_signal == "USR1");
  CHECK(k.exit_status == -1);
}

TEST_CASE_METHOD(Fixture, "local: commands run in the host directory with HOME pointing at it") {
  auto s = open();
  auto r = exec(s, Command::shell("pwd; echo \"$HOME\"; echo err >&2"), captured());
  auto real = std::filesystem::canonical(dir.path()).string();
  CHECK(r.out == real + "\n" + dir.str() + "\n");
  CHECK(r.err == "err\n");
  std::filesystem::create_directory(dir.path() / "sub dir");
  auto c = Command::argv({"pwd"});
  c.cwd("sub dir");
  CHECK(exec(s, c, captured()).out == real + "/sub dir\n");
}

TEST_CASE_METHOD(Fixture, "local: several MiB of output stream through the callbacks") {
  auto s = open();
  size_t out_bytes = 0, err_bytes = 0, calls = 0;
  bool only_x = true;
  ExecOptions o;
  o.on_stdout = [&](std::string_view d) {
    out_bytes += d.size();
    ++calls;
    only_x = only_x && d.find_first_not_of('x') == std::string_view::npos;
  };
  o.on_stderr = [&](std::string_view d) { err_bytes += d.size(); };
  auto r = exec(s, Command::shell("head -c 8388608 /dev/zero | tr '\\0' x; head -c 1048576 /dev/zero >&2"), o);
  CHECK(r.ok());
  CHECK(out_bytes == 8u << 20);
  CHECK(err_bytes == 1u << 20);
  CHECK(only_x);
  CHECK(calls > 1);  // delivered as it came, not in one piece at the end
}

TEST_CASE_METHOD(Fixture, "local: stdin streams several MiB with backpressure and a checksum on the far side") {
  auto s = open();
  const std::string data = random_bytes(6 << 20, 42);
  size_t offset = 0, pulls = 0;
  ExecOptions o = captured();
  o.stdin_source = [&]() -> Awaitable<std::optional<std::string>> {
    ++pulls;
    if (offset >= data.size()) co_return std::nullopt;
    size_t n = std::min<size_t>(100000, data.size() - offset);
    std::string chunk = data.substr(offset, n);
    offset += n;
    co_return chunk;
  };
  auto r = exec(s, Command::argv({"sha256sum"}), std::move(o));
  CHECK(r.ok());
  CHECK(r.out.substr(0, 64) == sha256_hex(data));
  CHECK(pulls > 60);

  ExecOptions whole = captured();
  whole.stdin_data = "hello\nworld\n";
  CHECK(exec(s, Command::argv({"wc", "-l"}), whole).out == "2\n");
  // No stdin at all: the command reads EOF at once.
  CHECK(exec(s, Command::argv({"cat"}), captured()).out.empty());
}

TEST_CASE_METHOD(Fixture, "local: a StdinPipe keeps stdin open until its owner closes it") {
  auto s = open();
  auto pipe = StdinPipe::create(io.get_executor());
  std::string seen;
  ExecOptions o;
  o.stdin_source = pipe->source();
  o.on_stdout = [&](std::string_view d) { seen.append(d); };
  auto driver = [&]() -> Awaitable<ExecResult> {
    auto ex = co_await asio::this_coro::executor;
    std::optional<ExecResult> result;
    auto opts = o;
    auto cat = Command::argv({"cat"});  // a braced list inside co_await does not compile on g++ 12
    auto job = [&]() -> Awaitable<void> { result = co_await s->exec(cat, opts); };
    asio::co_spawn(ex, job(), asio::detached);
    asio::steady_timer t(ex);
    co_await pipe->write("first ");
    // Wait until cat echoed it: stdin is open, the command is still running.
    while (seen != "first ") {
      t.expires_after(10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    CHECK_FALSE(result.has_value());
    co_await pipe->write("second");
    pipe->close();
    while (!result) {
      t.expires_after(10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return *result;
  };
  auto r = run(io, driver());
  CHECK(r.ok());
  CHECK(seen == "first second");
}

TEST_CASE_METHOD(Fixture, "local: a deadline kills the command's whole process group") {
  auto s = open();
  ExecOptions o;
  o.deadline = deadline_in(300ms);
  auto r = exec(s, Command::shell("echo $$ > pid; sleep 100; echo not reached"), o);
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(r.error.step == "exec");
  CHECK(r.exit_signal == "TERM");
  pid_t pid = 0;
  std::ifstream(dir.path() / "pid") >> pid;
  REQUIRE(pid > 0);
  // The shell and its sleep were one group: nothing of it is left running.
  CHECK(live_processes_in_group_after(pid) == 0);
}

TEST_CASE_METHOD(Fixture, "local: a command ignoring SIGTERM gets SIGKILL after the grace") {
  auto s = open();
  ExecOptions o;
  o.deadline = deadline_in(200ms);
  auto r = exec(s, Command::shell("trap '' TERM; sleep 100 & wait; sleep 100"), o);
  CHECK(r.error.code == std::errc::timed_out);
  CHECK(r.exit_signal == "KILL");
}

TEST_CASE_METHOD(Fixture, "local: cancel() ends running commands and refuses new ones") {
  auto s = open();
  auto driver = [&]() -> Awaitable<ExecResult> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, 200ms);
    t.async_wait([&](const boost::system::error_code&) { transport.cancel(); });
    auto sleep = Command::argv({"sleep", "100"});
    co_return co_await s->exec(sleep, ExecOptions());
  };
  auto r = run(io, driver());
  CHECK(r.error.code == std::errc::operation_canceled);
  CHECK(transport.cancelled());
  CHECK(exec(s, Command::argv({"true"})).error.code == std::errc::operation_canceled);
  CHECK(run(io, transport.open(local_target("x", dir.str()))).error.code == std::errc::operation_canceled);
}

TEST_CASE_METHOD(Fixture, "local: closing the session ends its running commands") {
  auto s = open();
  auto driver = [&]() -> Awaitable<ExecResult> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, 200ms);
    t.async_wait([&](const boost::system::error_code&) { s->close(); });
    auto sleep = Command::argv({"sleep", "100"});
    co_return co_await s->exec(sleep, ExecOptions());
  };
  auto r = run(io, driver());
  CHECK(r.error.code == Errc::session_closed);
  CHECK(exec(s, Command::argv({"true"})).error.code == Errc::session_closed);
}

TEST_CASE_METHOD(Fixture, "local: commands of one session run at the same time") {
  auto s = open();
  // Each waits for the file the next one creates: only concurrent runs finish.
  auto driver = [&]() -> Awaitable<std::vector<ExecResult>> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<ExecResult> results(3);
    int done = 0;
    // Coroutine lambdas take what they need as parameters (copied into the
    // frame) and outlive the jobs they start.
    auto job = [&](int i, std::string line) -> Awaitable<void> {
      ExecOptions o;
      o.deadline = deadline_in(30s);
      results[i] = co_await s->exec(Command::shell(line), o);
      ++done;
    };
    for (int i = 0; i < 3; ++i) {
      std::string line = "touch f" + std::to_string(i) + "; while [ ! -e f" + std::to_string((i + 1) % 3) +
                         " ]; do sleep 0.01; done";
      asio::co_spawn(ex, job(i, line), asio::detached);
    }
    asio::steady_timer t(ex);
    while (done < 3) {
      t.expires_after(10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return results;
  };
  for (auto& r : run(io, driver())) CHECK(r.ok());
}

TEST_CASE_METHOD(Fixture, "local: a missing host directory fails open with the fix") {
  auto r = run(io, transport.open(local_target("web09", dir.str() + "/missing")));
  CHECK(r.error.code == Errc::no_such_host_dir);
  CHECK(r.error.host == "web09");
  CHECK_THAT(r.error.message(), Catch::Contains("mkdir -p"));
  auto bad = run(io, transport.open(local_target("web09", "relative")));
  CHECK(bad.error.code == Errc::bad_target);
}

TEST_CASE("local: abandoning the event loop mid-command kills the command and frees everything") {
  TempDir dir("abandon");
  pid_t pid = 0;
  {
    auto io = std::make_unique<boost::asio::io_context>();
    auto t = std::make_unique<LocalTransport>(io->get_executor());
    std::string out;
    auto body = [&]() -> Awaitable<void> {
      auto opened = co_await t->open(local_target("web01", dir.str()));
      if (opened.error) co_return;
      ExecOptions o;
      o.on_stdout = [&](std::string_view d) { out.append(d); };
      auto c = Command::shell("echo $$; exec sleep 100");
      co_await opened.session->exec(c, o);
    };
    asio::co_spawn(*io, body(), asio::detached);
    while (out.empty() && io->run_one() > 0) {
    }
    pid = std::stoi(out);
    t.reset();
    io.reset();
  }
  REQUIRE(pid > 0);
  CHECK(live_processes_in_group_after(pid) == 0);
}
