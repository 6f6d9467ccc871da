// The scripted transport: every behaviour an executor test scripts (opens,
// rules, replies, hangs, drops, the lock holder, stdin, the record, cancel),
// each proven in milliseconds.
#include <catch2/catch.hpp>

#include <functional>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_util.h"
#include "transport/notifier.h"
#include "transport/scripted_transport.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using plugbox::transport::test::captured;
using plugbox::transport::test::run;
using namespace std::chrono_literals;

namespace {

template <class T>
std::shared_ptr<std::optional<T>> spawn(boost::asio::io_context& io, Awaitable<T> a) {
  auto out = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, std::move(a), [out](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out->emplace(std::move(v));
  });
  return out;
}

// At most 5 s: a broken test fails instead of hanging.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  io.restart();
  auto limit = Clock::now() + 5s;
  while (!done() && Clock::now() < limit)
    if (io.run_one_for(50ms) == 0 && io.stopped()) break;
  return done();
}

void run_for(boost::asio::io_context& io, Clock::duration d) {
  io.restart();
  io.run_for(d);
}

Target target(const std::string& name) { return local_target(name, "/scripted/" + name); }

Command cmd(std::vector<std::string> words) { return Command::argv(std::move(words)); }

ExecOptions with_deadline(Clock::duration d) {
  ExecOptions o;
  o.deadline = deadline_in(d);
  return o;
}

struct Fixture {
  boost::asio::io_context io;
  ScriptedTransport t{io.get_executor()};

  std::shared_ptr<Session> open(const std::string& name) {
    auto r = run(io, t.open(target(name)));
    REQUIRE_FALSE(r.error);
    return r.session;
  }
  ExecResult exec(const std::shared_ptr<Session>& s, Command c, ExecOptions o = {}) {
    return run(io, s->exec(std::move(c), std::move(o)));
  }
  std::vector<int> statuses(const std::shared_ptr<Session>& s, const Command& c, int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) out.push_back(exec(s, c).exit_status);
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "scripted: a reply sets exit status, output, signal and a delay, others exit 0") {
  auto& web = t.host("web01");
  web.on("status").reply(Reply{.out = "{\"ok\":true}\n", .err = "warn\n", .status = 3});
  web.on("slow").reply(Reply{.delay = 20ms});
  web.on("killed").reply(Reply{.signal = "KILL"});
  auto s = open("web01");

  std::string streamed;
  ExecOptions o = captured();
  o.on_stdout = [&](std::string_view d) { streamed += d; };
  auto r = exec(s, cmd({"plugbox-server", "status"}), o);
  CHECK_FALSE(r.error);
  CHECK(r.exit_status == 3);
  CHECK(r.out == "{\"ok\":true}\n");
  CHECK(r.err == "warn\n");
  CHECK(streamed == r.out);
  CHECK(exec(s, cmd({"plugbox-server", "status"})).out.empty());  // captured only when asked

  auto before = Clock::now();
  CHECK(exec(s, cmd({"slow"})).ok());
  CHECK(Clock::now() - before >= 20ms);

  auto k = exec(s, cmd({"killed"}));
  CHECK(k.exit_status == -1);
  CHECK(k.describe() == "killed by SIGKILL");

  CHECK(exec(s, cmd({"anything", "else"})).ok());
}

TEST_CASE_METHOD(Fixture, "scripted: an open fails or is slow as scripted") {
  t.host("down").open_fails(std::errc::connection_refused, 10ms);
  t.host("slow").open_takes(15ms);

  auto start = Clock::now();
  auto down = run(io, t.open(target("down")));
  CHECK(Clock::now() - start >= 10ms);
  CHECK_FALSE(down.session);
  CHECK(down.error.code == std::errc::connection_refused);
  CHECK(down.error.step == "connect");
  CHECK(down.error.host == "down");

  start = Clock::now();
  auto slow = run(io, t.open(target("slow")));
  CHECK_FALSE(slow.error);
  CHECK(slow.session);
  CHECK(Clock::now() - start >= 15ms);

  auto late = run(io, t.open(target("slow"), deadline_in(3ms)));
  CHECK(late.error.code == std::errc::timed_out);
  CHECK(late.error.step == "open");

  CHECK(run(io, t.open(local_target("", "/x"))).error.code == Errc::bad_target);

  // every_host() is the fallback: a host's own open script wins over it.
  t.every_host().open_fails(Errc::auth_failed);
  CHECK(run(io, t.open(target("other"))).error.code == Errc::auth_failed);
  CHECK_FALSE(run(io, t.open(target("slow"))).error);
  t.host("down").open_works();
  CHECK_FALSE(run(io, t.open(target("down"))).error);

  auto opens = t.opens();
  REQUIRE(opens.size() == 7);
  CHECK(opens[0].host == "down");
  CHECK(opens[0].error.code == std::errc::connection_refused);
  CHECK(opens[0].end - opens[0].start >= 10ms);
  CHECK_FALSE(opens[1].error);
}

TEST_CASE_METHOD(Fixture, "scripted: the first live rule wins, then the host's otherwise, then every_host") {
  auto& web = t.host("web01");
  web.on("plugbox-server").reply(Reply{.status = 1});
  web.on("plugbox-server --home").reply(Reply{.status = 2});  // shadowed by the rule above
  web.on([](const Command& c) { return c.is_shell(); }).reply(Reply{.status = 4});
  web.otherwise(Reply{.status = 5});
  t.every_host().on("uname").reply(Reply{.out = "Linux\n"});
  t.every_host().otherwise(Reply{.status = 6});

  auto s = open("web01");
  CHECK(exec(s, cmd({"plugbox-server", "--home", "/srv/shop", "status"})).exit_status == 1);
  CHECK(exec(s, Command::shell("echo hi | wc -c")).exit_status == 4);
  CHECK(exec(s, cmd({"uname"})).exit_status == 5);  // the host's script first, whole

  auto db = open("db01");  // never scripted itself
  auto u = exec(db, cmd({"uname"}), captured());
  CHECK(u.ok());
  CHECK(u.out == "Linux\n");
  CHECK(exec(db, cmd({"true"})).exit_status == 6);
}

TEST_CASE_METHOD(Fixture, "scripted: a rule limited to its first N matches, and a sequence of replies") {
  auto& web = t.host("web01");
  web.on("health").times(2).reply(Reply{.err = "502\n", .status = 1});
  web.on("health").reply(Reply{});
  web.on("migrate").reply(Reply{.status = 3}).reply(Reply{.status = 4}).reply(Reply{});
  web.on("probe").reply(Reply{.status = 7}).reply(Reply{.status = 8}).times(2);
  web.otherwise(Reply{.status = 9});
  auto s = open("web01");

  CHECK(statuses(s, cmd({"curl", "localhost/health"}), 4) == std::vector<int>{1, 1, 0, 0});
  CHECK(statuses(s, cmd({"migrate"}), 4) == std::vector<int>{3, 4, 0, 0});  // the last repeats
  CHECK(statuses(s, cmd({"probe"}), 3) == std::vector<int>{7, 8, 9});       // spent: the next rule
}

TEST_CASE_METHOD(Fixture, "scripted: a hanging command ends at its deadline with timed_out") {
  auto& web = t.host("web01");
  web.on("hang").reply(Reply{.end = Reply::End::hang});
  web.on("too-slow").reply(Reply{.delay = 10s});
  auto s = open("web01");

  auto start = Clock::now();
  auto r = exec(s, cmd({"hang"}), with_deadline(15ms));
  auto took = Clock::now() - start;
  CHECK(took >= 15ms);
  CHECK(took < 2s);
  CHECK(r.error.code == std::errc::timed_out);  // as local_transport reports it
  CHECK(r.error.step == "exec");
  CHECK(r.error.host == "web01");
  CHECK(r.exit_status == -1);
  CHECK(r.exit_signal == "TERM");

  start = Clock::now();
  CHECK(exec(s, cmd({"too-slow"}), with_deadline(10ms)).error.code == std::errc::timed_out);
  CHECK(Clock::now() - start < 2s);

  auto past = exec(s, cmd({"hang"}), with_deadline(-1ms));
  CHECK(past.error.code == std::errc::timed_out);
  CHECK(past.exit_signal.empty());  // it never started
}

TEST_CASE_METHOD(Fixture, "scripted: a dropped connection ends this and every later exec of the session") {
  auto& web = t.host("web01");
  web.on("switch").reply(Reply{.delay = 2ms, .end = Reply::End::drop});
  web.on("sleeper").reply(Reply{.end = Reply::End::hang});
  auto s = open("web01");

  auto sleeper = spawn(io, s->exec(cmd({"sleeper"}), {}));
  auto sw = exec(s, cmd({"switch-to", "V2"}));
  CHECK(sw.error.code == Errc::session_closed);
  CHECK(sw.error.step == "exec");
  CHECK(sw.error.detail == "the connection dropped");
  REQUIRE(run_until(io, [&] { return sleeper->has_value(); }));
  CHECK((*sleeper)->error.code == Errc::session_closed);
  CHECK(exec(s, cmd({"status"})).error.code == Errc::session_closed);

  // A plain drop leaves the host reachable: a new session works.
  CHECK(exec(open("web01"), cmd({"status"})).ok());

  SECTION("vanish: later opens of the host are refused") {
    t.host("db01").on("stop").reply(Reply{.end = Reply::End::vanish});
    auto db = open("db01");
    CHECK(exec(db, cmd({"stop"})).error.code == Errc::session_closed);
    auto again = run(io, t.open(target("db01")));
    CHECK(again.error.code == std::errc::connection_refused);
    CHECK(again.error.step == "connect");
  }
  SECTION("closing the session ends its running exec the same way") {
    auto s2 = open("web01");
    auto hung = spawn(io, s2->exec(cmd({"sleeper"}), {}));
    run_for(io, 3ms);
    CHECK_FALSE(hung->has_value());
    s2->close();
    REQUIRE(run_until(io, [&] { return hung->has_value(); }));
    CHECK((*hung)->error.code == Errc::session_closed);
    CHECK((*hung)->error.detail == "the session was closed");
  }
}

namespace {

// The client's side of `plugbox-server lock`, as HostConn holds it.
struct LockClient {
  explicit LockClient(boost::asio::io_context& io) : pipe(StdinPipe::create(io.get_executor())) {}
  ExecOptions options() {
    ExecOptions o;
    o.stdin_source = pipe->source();
    o.on_stdout = [this](std::string_view) { held = true; };
    return o;
  }
  std::shared_ptr<StdinPipe> pipe;
  bool held = false;
};

Awaitable<std::optional<std::string>> two_chunks_then_end(std::shared_ptr<int> calls) {
  ++*calls;
  if (*calls == 1) co_return "ab";
  if (*calls == 2) co_return "c";
  co_return std::nullopt;
}

}  // namespace

TEST_CASE_METHOD(Fixture, "scripted: a lock holder prints its line and holds until its stdin ends") {
  t.every_host().on(" lock").reply(Reply{.out = "locked by plugbox\n"});
  auto s = open("web01");

  SECTION("a StdinPipe held open, then closed") {
    LockClient c(io);
    auto lock = spawn(io, s->exec(cmd({"plugbox-server", "lock"}), c.options()));
    REQUIRE(run_until(io, [&] { return c.held; }));
    run_for(io, 10ms);
    CHECK_FALSE(lock->has_value());
    CHECK(t.running("web01", " lock"));
    c.pipe->close();
    REQUIRE(run_until(io, [&] { return lock->has_value(); }));
    CHECK((*lock)->ok());
    CHECK_FALSE(t.running("web01", " lock"));
  }
  SECTION("a source that ends") {
    auto calls = std::make_shared<int>(0);
    ExecOptions o;
    o.stdin_source = [calls] { return two_chunks_then_end(calls); };
    CHECK(exec(s, cmd({"plugbox-server", "lock"}), o).ok());
    CHECK(*calls == 3);
    CHECK(t.execs().back().stdin_bytes == "abc");
  }
}

TEST_CASE_METHOD(Fixture, "scripted: a held lock dies when the test says") {
  auto& web = t.host("web01");
  web.on(" lock").reply(Reply{.out = "locked by plugbox\n"});
  auto s = open("web01");
  LockClient c(io);

  SECTION("through the test's handle: an exit status") {
    auto lock = spawn(io, s->exec(cmd({"plugbox-server", "lock"}), c.options()));
    REQUIRE(run_until(io, [&] { return c.held; }));
    auto handle = t.running("web01", " lock");
    REQUIRE(handle);
    handle->end(Exit{.status = 1});
    REQUIRE(run_until(io, [&] { return lock->has_value(); }));
    CHECK_FALSE((*lock)->error);
    CHECK((*lock)->exit_status == 1);
    CHECK_FALSE(handle->running());
  }
  SECTION("through the test's handle: the connection drops") {
    auto lock = spawn(io, s->exec(cmd({"plugbox-server", "lock"}), c.options()));
    REQUIRE(run_until(io, [&] { return c.held; }));
    t.running("web01", " lock")->drop();
    REQUIRE(run_until(io, [&] { return lock->has_value(); }));
    CHECK((*lock)->error.code == Errc::session_closed);
    CHECK(exec(s, cmd({"status"})).error.code == Errc::session_closed);
  }
  SECTION("after a delay") {
    t.host("web02").on(" lock").reply(
        Reply{.out = "locked by plugbox\n", .read_stdin = false, .delay = 10ms, .status = 1});
    auto start = Clock::now();
    auto r = exec(open("web02"), cmd({"plugbox-server", "lock"}), c.options());
    CHECK(c.held);
    CHECK(r.exit_status == 1);
    CHECK(Clock::now() - start >= 10ms);
  }
  SECTION("when another command runs") {
    ScriptedTransport* tp = &t;
    ReplyFn kill_lock = [tp](ScriptedExec& x) -> Awaitable<Exit> {
      if (auto lock = tp->running(x.host(), " lock")) lock->end(Exit{.status = 2});
      co_return Exit{};
    };
    web.on("switch-to").reply(kill_lock);
    auto lock = spawn(io, s->exec(cmd({"plugbox-server", "lock"}), c.options()));
    REQUIRE(run_until(io, [&] { return c.held; }));
    run_for(io, 2ms);
    CHECK_FALSE(lock->has_value());
    CHECK(exec(s, cmd({"plugbox-server", "switch-to", "V2"})).ok());
    REQUIRE(run_until(io, [&] { return lock->has_value(); }));
    CHECK((*lock)->exit_status == 2);
  }
}

namespace {

Awaitable<std::optional<std::string>> counted_chunks(std::shared_ptr<int> calls) {
  ++*calls;
  if (*calls <= 3) co_return std::string(1, char('a' + *calls - 1));
  co_return std::nullopt;
}

}  // namespace

TEST_CASE_METHOD(Fixture, "scripted: stdin is read to its end, pulled only as read, and a reply computes from it") {
  auto& web = t.host("web01");
  ReplyFn count = [](ScriptedExec& x) -> Awaitable<Exit> {
    std::string in = co_await x.read_stdin_to_end();
    x.write_stdout(std::to_string(in.size()) + " bytes: " + in + "\n");
    co_return Exit{.status = in == "hello" ? 0 : 1};
  };
  web.on("count").reply(count);
  auto s = open("web01");

  ExecOptions o = captured();
  o.stdin_data = "hello";
  auto r = exec(s, cmd({"count"}), o);
  CHECK(r.ok());
  CHECK(r.out == "5 bytes: hello\n");
  CHECK(t.execs().back().stdin_bytes == "hello");

  SECTION("stdin_source wins over stdin_data, and is pulled one chunk per read") {
    auto calls = std::make_shared<int>(0);
    auto calls_after_first_read = std::make_shared<int>(-1);
    ReplyFn slow_reader = [calls, calls_after_first_read](ScriptedExec& x) -> Awaitable<Exit> {
      co_await x.read_stdin();
      co_await x.sleep(5ms);  // the client would have been pulled ahead here, if at all
      *calls_after_first_read = *calls;
      co_await x.read_stdin_to_end();
      x.write_stdout(x.stdin_bytes());
      co_return Exit{};
    };
    web.on("slow-reader").reply(slow_reader);
    ExecOptions so = captured();
    so.stdin_data = "ignored";
    so.stdin_source = [calls] { return counted_chunks(calls); };
    auto sr = exec(s, cmd({"slow-reader"}), so);
    CHECK(sr.ok());
    CHECK(sr.out == "abc");
    CHECK(*calls_after_first_read == 1);
    CHECK(*calls == 4);  // three chunks and the end
  }
  SECTION("a command that does not read never pulls its stdin") {
    web.on("deaf").reply(Reply{.read_stdin = false});
    auto calls = std::make_shared<int>(0);
    ExecOptions so;
    so.stdin_source = [calls] { return counted_chunks(calls); };
    CHECK(exec(s, cmd({"deaf"}), so).ok());
    CHECK(*calls == 0);
    CHECK(t.execs().back().stdin_bytes.empty());
  }
}

namespace {

// The client side of an upload, shaped as orchestrator/host_upload.cc is:
// hello + manifest first, the contents only once the host has said which it
// needs, then the end of stdin.
struct UploadClient {
  explicit UploadClient(boost::asio::io_context& io) : wake(io.get_executor()) {}
  Notifier wake;
  std::string line_buf;
  bool need_known = false, done = false;
  int sent = 0;
  std::vector<std::string> events;
};

Awaitable<std::optional<std::string>> next_piece(std::shared_ptr<UploadClient> st) {
  if (st->sent == 0) {
    ++st->sent;
    st->events.push_back("sent hello");
    co_return "PBXUPLD manifest[a,b]\n";
  }
  while (!st->need_known) co_await st->wake.wait();
  if (st->sent == 1) {
    ++st->sent;
    st->events.push_back("sent contents");
    co_return "contents of a\n";
  }
  co_return std::nullopt;
}

ExecOptions upload_options(std::shared_ptr<UploadClient> st) {
  ExecOptions o;
  o.on_stdout = [st](std::string_view data) {
    st->line_buf.append(data);
    for (size_t nl; (nl = st->line_buf.find('\n')) != std::string::npos;) {
      std::string line = st->line_buf.substr(0, nl);
      st->line_buf.erase(0, nl + 1);
      st->events.push_back("saw " + line);
      if (line.rfind("{\"need\"", 0) == 0) st->need_known = true;
      if (line.rfind("{\"done\"", 0) == 0) st->done = true;
    }
    st->wake.notify();
  };
  o.stdin_source = [st] { return next_piece(st); };
  return o;
}

// The host's side: answers the manifest with a need line while stdin is
// still open, then reads the contents to the end.
Awaitable<Exit> receive(ScriptedExec& x) {
  std::optional<std::string> hello = co_await x.read_stdin();
  if (!hello || hello->rfind("PBXUPLD ", 0) != 0) {
    x.write_stdout("{\"error\":\"not an upload\"}\n");
    co_return Exit{.status = 2};
  }
  x.write_stdout("{\"need\":[\"a\"]}\n");
  std::string contents = co_await x.read_stdin_to_end();
  x.write_stdout("{\"done\":{\"bytes_sent\":" + std::to_string(contents.size()) + "}}\n");
  co_return Exit{};
}

}  // namespace

TEST_CASE_METHOD(Fixture, "scripted: a reply writes while it reads: the upload's need-then-contents exchange") {
  t.host("web01").on(" receive ").reply(ReplyFn(receive));
  auto s = open("web01");
  auto st = std::make_shared<UploadClient>(io);
  auto r = exec(s, cmd({"plugbox-server", "receive", "V2"}), upload_options(st));
  CHECK(r.ok());
  CHECK(st->done);
  CHECK(st->events == std::vector<std::string>{"sent hello", "saw {\"need\":[\"a\"]}", "sent contents",
                                               "saw {\"done\":{\"bytes_sent\":14}}"});
  CHECK(t.execs().back().stdin_bytes == "PBXUPLD manifest[a,b]\ncontents of a\n");
}

TEST_CASE_METHOD(Fixture, "scripted: the record holds every exec in order, hosts overlap or not") {
  t.every_host().on("deploy").reply(Reply{.delay = 15ms});
  auto web1 = open("web01");
  auto web2 = open("web02");

  auto a = spawn(io, web1->exec(cmd({"deploy", "V2"}), {}));
  auto b = spawn(io, web2->exec(cmd({"deploy", "V2"}), {}));
  REQUIRE(run_until(io, [&] { return a->has_value() && b->has_value(); }));
  ExecOptions o;
  o.stdin_data = "input";
  exec(web1, cmd({"deploy", "V3"}), o);
  exec(web2, cmd({"deploy", "V3"}));
  web2->close();
  exec(web2, cmd({"status"}));

  auto log = t.execs();
  REQUIRE(log.size() == 5);
  CHECK(overlapped(log[0], log[1]));  // run at once
  CHECK_FALSE(overlapped(log[2], log[3]));  // one after the other
  CHECK(log[2].host == "web01");
  CHECK(log[2].command == "deploy V3");
  CHECK(log[2].stdin_bytes == "input");
  CHECK(log[2].ended);
  CHECK(log[2].result.ok());
  CHECK(log[2].end - log[2].start >= 15ms);
  CHECK(log[2].exec.expired());
  CHECK(log[4].result.error.code == Errc::session_closed);  // asked for, refused at once
  CHECK(t.commands("web02") == std::vector<std::string>{"deploy V2", "deploy V3", "status"});
  CHECK(t.execs("web01").size() == 2);
}

TEST_CASE_METHOD(Fixture, "scripted: cancel() ends pending opens and running execs with operation_canceled") {
  t.host("slow").open_takes(10s);
  t.host("web01").on("hang").reply(Reply{.end = Reply::End::hang});
  auto s = open("web01");
  auto start = Clock::now();
  auto opening = spawn(io, t.open(target("slow")));
  auto running = spawn(io, s->exec(cmd({"hang"}), {}));
  run_for(io, 5ms);
  CHECK_FALSE(opening->has_value());
  CHECK_FALSE(running->has_value());

  t.cancel();
  CHECK(t.cancelled());
  REQUIRE(run_until(io, [&] { return opening->has_value() && running->has_value(); }));
  CHECK(Clock::now() - start < 2s);
  CHECK((*opening)->error.code == std::errc::operation_canceled);
  CHECK((*opening)->error.step == "open");
  CHECK((*running)->error.code == std::errc::operation_canceled);
  CHECK((*running)->exit_signal == "TERM");
  // And later ones.
  CHECK(run(io, t.open(target("web01"))).error.code == std::errc::operation_canceled);
  CHECK(exec(s, cmd({"status"})).error.code == std::errc::operation_canceled);
}

TEST_CASE_METHOD(Fixture, "scripted: a reply or a callback that throws ends the exec with io_error") {
  ReplyFn broken = [](ScriptedExec& x) -> Awaitable<Exit> {
    co_await x.sleep(1ms);
    throw std::runtime_error("script bug");
  };
  t.host("web01").on("broken").reply(broken);
  t.host("web01").on("talk").reply(Reply{.out = "hello\n"});
  auto s = open("web01");

  auto r = exec(s, cmd({"broken"}));
  CHECK(r.error.code == std::errc::io_error);
  CHECK(r.error.detail == "the scripted reply threw: script bug");

  ExecOptions o;
  o.on_stdout = [](std::string_view) { throw std::runtime_error("full"); };
  auto c = exec(s, cmd({"talk"}), o);
  CHECK(c.exit_status == 0);
  CHECK(c.error.code == std::errc::io_error);
  CHECK(c.error.detail == "output callback failed: full");
}

TEST_CASE("scripted: commands still running when the test ends are torn down cleanly") {
  // Run under ASan: nothing leaks or is used after free, whichever goes first.
  auto io = std::make_unique<boost::asio::io_context>();
  auto t = std::make_unique<ScriptedTransport>(io->get_executor());
  t->every_host().on(" lock").reply(Reply{.out = "locked\n"});
  auto s = run(*io, t->open(target("web01"))).session;
  auto c = std::make_unique<LockClient>(*io);
  auto lock = spawn(*io, s->exec(cmd({"plugbox-server", "lock"}), c->options()));
  REQUIRE(run_until(*io, [&] { return c->held; }));
  s.reset();
  t.reset();
  c.reset();  // its pipe's timers belong to the io_context: they go first
  io.reset();
  CHECK_FALSE(lock->has_value());
}
