// server-tools/session_server.h through the real `plugbox-server session`:
// the frames a client sends and what comes back (docs/SESSION.md).
#include "server-tools/session_server.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "base/session_protocol.h"
#include "test_support.h"

using namespace plugbox::server::testing;
namespace sp = plugbox::base::session;
using namespace std::chrono_literals;

#ifdef PLUGBOX_SERVER_BIN
namespace {

// A client of one session: frames out on its stdin, frames back from its stdout.
struct Peer {
  TempDir t;
  Child c{server_argv(t.path(), {"session"})};

  void send(sp::FrameType type, std::uint32_t id, std::string_view payload = {}) {
    c.write_stdin(sp::encode(type, id, payload));
  }
  void start(std::uint32_t id, const std::string& line, bool with_stdin = false) {
    nlohmann::json j = {{"line", line}, {"stdin", with_stdin}};
    send(sp::FrameType::start, id, j.dump());
  }
  std::optional<sp::Frame> next(std::chrono::milliseconds timeout = 10s) {
    auto header = c.read_bytes(sp::kHeaderSize, timeout);
    if (!header) return std::nullopt;
    sp::FrameReader r;
    r.feed(*header);
    std::uint32_t len = 0;
    for (int i = 5; i < 9; ++i) len = (len << 8) | static_cast<unsigned char>((*header)[std::size_t(i)]);
    if (len) {
      auto body = c.read_bytes(len, timeout);
      if (!body) return std::nullopt;
      r.feed(*body);
    }
    return r.next();
  }
  // Everything request `id` sends up to its exit frame: stdout, stderr, the
  // exit JSON. Frames of other requests are kept in `others`.
  struct Ended {
    std::string out, err;
    nlohmann::json exit;
  };
  std::vector<sp::Frame> others;
  std::atomic<std::size_t> granted{0};  // stdin bytes the server granted back (window frames)
  Ended until_exit(std::uint32_t id, std::chrono::milliseconds timeout = 10s) {
    Ended e;
    for (;;) {
      auto f = next(timeout);
      REQUIRE(f);
      if (f->type == sp::FrameType::window) {
        granted += std::stoull(f->payload);
        continue;
      }
      if (f->id != id) {
        others.push_back(*f);
        continue;
      }
      if (f->type == sp::FrameType::stdout_data) e.out += f->payload;
      else if (f->type == sp::FrameType::stderr_data) e.err += f->payload;
      else if (f->type == sp::FrameType::exit) {
        e.exit = nlohmann::json::parse(f->payload);
        return e;
      } else {
        FAIL("unexpected frame " << char(f->type) << ": " << f->payload);
      }
    }
  }
  // The server stopped at a protocol error: exit 2, `why` on stderr.
  void ends_refusing(const std::string& why) {
    CHECK(c.wait() == 2);
    CHECK_THAT(c.drain_stderr(), Catch::Contains(why));
  }
  void hello() {
    auto h = next();
    REQUIRE(h);
    REQUIRE(h->type == sp::FrameType::hello);
  }
};

std::string slurp_when_there(const fs::path& p) {
  for (int i = 0; i < 250; ++i) {
    if (fs::exists(p) && !slurp(p).empty()) return slurp(p);
    std::this_thread::sleep_for(20ms);
  }
  return "";
}

}  // namespace

TEST_CASE("session: the first frame is the hello, with the protocol and the server's identity", "[session]") {
  Peer p;
  auto h = p.next();
  REQUIRE(h);
  CHECK(h->type == sp::FrameType::hello);
  CHECK(h->id == 0);
  auto j = nlohmann::json::parse(h->payload);
  CHECK(j["protocol"] == sp::kProtocol);
  CHECK_THAT(j["server"].get<std::string>(), Catch::StartsWith("plugbox-server "));
  p.c.close_stdin();
  CHECK(p.c.wait() == 0);
}

TEST_CASE("session: a request's output and stderr come before its exit status", "[session]") {
  Peer p;
  p.hello();
  p.start(1, "echo out; echo err >&2; exit 3");
  auto e = p.until_exit(1);
  CHECK(e.out == "out\n");
  CHECK(e.err == "err\n");
  CHECK(e.exit == nlohmann::json{{"exit", 3}});
  // A request without stdin reads /dev/null, not the session's own stream.
  p.start(2, "cat; echo read-nothing");
  CHECK(p.until_exit(2).out == "read-nothing\n");
  p.start(3, "kill -USR1 $$");
  CHECK(p.until_exit(3).exit == nlohmann::json{{"signal", "USR1"}});
}

TEST_CASE("session: an argv runs without a shell, with its assignments and directory", "[session]") {
  Peer p;
  p.hello();
  fs::create_directories(p.t.path() / "sub dir");
  auto send_argv = [&](std::uint32_t id, nlohmann::json argv, nlohmann::json extra = nlohmann::json::object()) {
    extra["argv"] = std::move(argv);
    p.send(sp::FrameType::start, id, extra.dump());
  };
  // Words are words: no expansion, no globbing, no splitting.
  send_argv(1, {"printf", "%s|%s|%s\\n", "$HOME", "*", "a b"});
  CHECK(p.until_exit(1).out == "$HOME|*|a b\n");
  send_argv(2, {"sh", "-c", "echo \"$X\" $(basename \"$PWD\")"},
            {{"env", nlohmann::json::array({nlohmann::json::array({"X", "x y"})})},
             {"cwd", (p.t.path() / "sub dir").string()}});
  CHECK(p.until_exit(2).out == "x y sub dir\n");
  // The shell's statuses for what it could not run.
  send_argv(3, {"plugbox-no-such-command"});
  auto missing = p.until_exit(3);
  CHECK(missing.exit == nlohmann::json{{"exit", 127}});
  CHECK_THAT(missing.err, Catch::Contains("plugbox-no-such-command: No such file or directory"));
  send_argv(4, {"true"}, {{"cwd", (p.t.path() / "nowhere").string()}});
  auto no_dir = p.until_exit(4);
  CHECK(no_dir.exit == nlohmann::json{{"exit", 2}});
  CHECK_THAT(no_dir.err, Catch::Contains("cd: "));
  // A malformed one is a protocol error.
  send_argv(5, nlohmann::json::array());
  p.ends_refusing("start frame 5 is neither");
}

TEST_CASE("session: requests run at once, each ends on its own", "[session]") {
  Peer p;
  p.hello();
  p.start(1, "sleep 1; echo slow");
  p.start(2, "echo quick");
  auto quick = p.until_exit(2);
  CHECK(quick.out == "quick\n");
  CHECK(p.others.empty());  // the slow one has said nothing yet
  CHECK(p.until_exit(1).out == "slow\n");
}

TEST_CASE("session: 8 MiB of stdin pass through a command echoing them while they arrive", "[session]") {
  // The command writes as much as it reads: a server that blocked on either
  // pipe would deadlock here.
  Peer p;
  p.hello();
  p.start(1, "cat", /*with_stdin=*/true);
  std::string data;
  for (int i = 0; data.size() < (8u << 20); ++i) data += "line " + std::to_string(i) + "\n";
  std::thread writer([&] {
    // As the client does: never more in flight than the request's window.
    for (std::size_t off = 0; off < data.size(); off += 100000) {
      const std::size_t n = std::min<std::size_t>(100000, data.size() - off);
      while (off + n > sp::kInitialWindow + p.granted) std::this_thread::sleep_for(1ms);
      p.send(sp::FrameType::stdin_data, 1, std::string_view(data).substr(off, n));
    }
    p.send(sp::FrameType::stdin_end, 1);
  });
  auto e = p.until_exit(1, 60s);
  writer.join();
  CHECK(e.exit == nlohmann::json{{"exit", 0}});
  CHECK(e.out.size() == data.size());
  CHECK(e.out == data);
  CHECK(p.granted > 0);
}

TEST_CASE("session: a command that stopped reading its stdin still gets its signal frame", "[session]") {
  // Its whole window of input waits in front of the signal: the server
  // must read past it (a deadline's TERM behind a hung receive's upload).
  Peer p;
  p.hello();
  p.start(1, "sleep 60", /*with_stdin=*/true);
  const std::string chunk(1u << 20, 'x');
  for (std::size_t sent = 0; sent < sp::kInitialWindow; sent += chunk.size()) p.send(sp::FrameType::stdin_data, 1, chunk);
  p.send(sp::FrameType::signal, 1, "TERM");
  CHECK(p.until_exit(1).exit == nlohmann::json{{"signal", "TERM"}});
}

TEST_CASE("session: more stdin than the request's window is a protocol error", "[session]") {
  Peer p;
  p.hello();
  p.start(1, "sleep 60", /*with_stdin=*/true);
  const std::string chunk(1u << 20, 'x');
  for (std::size_t sent = 0; sent <= sp::kInitialWindow; sent += chunk.size()) p.send(sp::FrameType::stdin_data, 1, chunk);
  p.ends_refusing("request 1 sent more stdin than its window");
}

TEST_CASE("session: once sent a signal, the server starts nothing more", "[session]") {
  Peer p;
  p.hello();
  const auto ready = p.t.path() / "ready";
  p.start(1, "trap '' TERM; echo yes > " + ready.string() + "; sleep 1; echo done");
  REQUIRE(slurp_when_there(ready) == "yes\n");
  ::kill(p.c.pid(), SIGTERM);  // queued before the start frame below is even written
  p.start(2, "echo late");
  auto f = p.next();
  REQUIRE(f);
  CHECK(f->type == sp::FrameType::failed);
  CHECK(f->id == 2);
  CHECK_THAT(f->payload, Catch::Contains("stopping"));
  CHECK(p.until_exit(1).out == "done\n");
  CHECK(p.c.wait() == 0);
}

TEST_CASE("session: a signal frame goes to the request's whole process group", "[session]") {
  Peer p;
  p.hello();
  const auto pidfile = p.t.path() / "bg.pid";
  p.start(1, "sleep 60 & echo $! > " + pidfile.string() + "; wait");
  const std::string bg = slurp_when_there(pidfile);
  REQUIRE_FALSE(bg.empty());
  p.send(sp::FrameType::signal, 1, "TERM");
  CHECK(p.until_exit(1).exit == nlohmann::json{{"signal", "TERM"}});
  CHECK(ends_within_2s(std::stol(bg)));
}

TEST_CASE("session: a request ends when its command exits, though a daemon it left holds its output", "[session]") {
  Peer p;
  p.hello();
  const auto t0 = std::chrono::steady_clock::now();
  p.start(1, "sleep 30 & echo started");
  auto e = p.until_exit(1, 10s);
  CHECK(e.out == "started\n");
  CHECK(e.exit == nlohmann::json{{"exit", 0}});
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("session: the end of the client's stream closes each command's stdin and the server exits", "[session]") {
  // The lock is held this way: `lock` holds it until its stdin closes.
  Peer p;
  p.hello();
  const auto done = p.t.path() / "released";
  p.start(1, "cat >/dev/null; echo yes > " + done.string(), /*with_stdin=*/true);
  p.c.close_stdin();
  CHECK(p.c.wait() == 0);
  CHECK(slurp_when_there(done) == "yes\n");
}

TEST_CASE("session: a SIGTERM to the server reaches every request, and it ends with them", "[session]") {
  Peer p;
  p.hello();
  const auto pidfile = p.t.path() / "bg.pid";
  p.start(1, "sleep 60 & echo $! > " + pidfile.string() + "; wait");
  p.start(2, "sleep 60");
  const std::string bg = slurp_when_there(pidfile);
  REQUIRE_FALSE(bg.empty());
  ::kill(p.c.pid(), SIGTERM);
  auto e1 = p.until_exit(1);
  CHECK(e1.exit == nlohmann::json{{"signal", "TERM"}});
  bool two_ended = false;
  for (const auto& f : p.others) two_ended |= f.id == 2 && f.type == sp::FrameType::exit;
  if (!two_ended) CHECK(p.until_exit(2).exit == nlohmann::json{{"signal", "TERM"}});
  CHECK(p.c.wait() == 0);
  CHECK(ends_within_2s(std::stol(bg)));
}

TEST_CASE("session: a stream that is not the protocol ends the session with why, exit 2", "[session]") {
  SECTION("not frames at all") {
    Peer p;
    p.hello();
    p.c.write_stdin("receive v1\n");
    p.ends_refusing("plugbox-server session: the client's stream: unknown frame type");
  }
  SECTION("a signal no client may send") {
    Peer p;
    p.hello();
    p.start(1, "sleep 5");
    p.send(sp::FrameType::signal, 1, "STOP");
    p.ends_refusing("signal frame names 'STOP'");
  }
  SECTION("a frame only the server sends") {
    Peer p;
    p.hello();
    p.send(sp::FrameType::exit, 1, "{}");
    p.ends_refusing("one the server sends");
  }
  SECTION("a request id already in use") {
    Peer p;
    p.hello();
    p.start(1, "sleep 5");
    p.start(1, "true");
    p.ends_refusing("request id 1 is in use");
  }
}
#endif
