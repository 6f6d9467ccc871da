#include <catch2/catch.hpp>

#include <signal.h>

#include "base/session_protocol.h"

namespace sp = plugbox::base::session;

TEST_CASE("session frames: a frame is a 9-byte header and its payload, integers big-endian", "[session]") {
  std::string f = sp::encode(sp::FrameType::start, 0x01020304, "abc");
  CHECK(f == std::string("S\x01\x02\x03\x04\x00\x00\x00\x03" "abc", 12));
}

TEST_CASE("session frames: the reader cuts a stream into frames whatever its chunks", "[session]") {
  std::string stream = sp::encode(sp::FrameType::hello, 0, R"({"protocol":1})") +
                       sp::encode(sp::FrameType::stdout_data, 7, std::string(70000, 'x')) +
                       sp::encode(sp::FrameType::stdin_end, 7, "") + sp::encode(sp::FrameType::exit, 7, R"({"exit":0})");
  for (std::size_t step : {std::size_t(1), std::size_t(5), std::size_t(9), std::size_t(4096), stream.size()}) {
    sp::FrameReader r;
    std::vector<sp::Frame> got;
    for (std::size_t off = 0; off < stream.size(); off += step) {
      r.feed(std::string_view(stream).substr(off, step));
      while (auto f = r.next()) got.push_back(*f);
    }
    INFO("chunks of " << step);
    REQUIRE(got.size() == 4);
    CHECK(got[0].type == sp::FrameType::hello);
    CHECK(got[1].id == 7);
    CHECK(got[1].payload == std::string(70000, 'x'));
    CHECK(got[2].type == sp::FrameType::stdin_end);
    CHECK(got[2].payload.empty());
    CHECK(got[3].payload == R"({"exit":0})");
    CHECK(r.buffered() == 0);
    CHECK(r.error().empty());
  }
}

TEST_CASE("session frames: an unknown type or an oversized length stops the reader with why", "[session]") {
  sp::FrameReader bad_type;
  bad_type.feed("plugbox-server: unknown command 'session'\n");
  CHECK_FALSE(bad_type.next());
  CHECK(bad_type.error().find("unknown frame type") != std::string::npos);
  bad_type.feed(sp::encode(sp::FrameType::exit, 1, "{}"));
  CHECK_FALSE(bad_type.next());  // stays stopped

  sp::FrameReader too_big;
  too_big.feed(std::string("O\0\0\0\1\0\x10\0\1", 9));  // 1 MiB + 1
  CHECK_FALSE(too_big.next());
  CHECK(too_big.error().find("more than the protocol's") != std::string::npos);

  sp::FrameReader at_limit;
  at_limit.feed(sp::encode(sp::FrameType::stdin_data, 1, std::string(sp::kMaxPayload, 'a')));
  auto f = at_limit.next();
  REQUIRE(f);
  CHECK(f->payload.size() == sp::kMaxPayload);
}

TEST_CASE("session frames: signal names both ways, and only those a client may send", "[session]") {
  CHECK(sp::signal_number("TERM") == SIGTERM);
  CHECK(sp::signal_number("KILL") == SIGKILL);
  CHECK(sp::signal_number("INT") == SIGINT);
  CHECK(sp::signal_number("HUP") == SIGHUP);
  CHECK(sp::signal_number("STOP") == 0);
  CHECK(sp::signal_number("SIGTERM") == 0);
  CHECK(sp::signal_number("USR1") == 0);  // named in exits, not sendable
  CHECK(sp::signal_name(SIGTERM) == "TERM");
  CHECK(sp::signal_name(SIGUSR1) == "USR1");
  CHECK(sp::signal_name(SIGWINCH) == "");
}
