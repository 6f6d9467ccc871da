#include <catch2/catch.hpp>

#include "transport/error.h"
#include "transport/target.h"

using namespace plugbox::transport;

namespace {
Endpoint ep(std::string name, std::string address, int port = 22) {
  Endpoint e;
  e.name = std::move(name);
  e.address = std::move(address);
  e.port = port;
  return e;
}
}  // namespace

TEST_CASE("targets validate with messages naming the target and the field") {
  CHECK_FALSE(ssh_target(ep("web01", "10.0.0.1")).problem());
  CHECK_FALSE(ssh_target(ep("web01", "10.0.0.1"), {ep("edge", "203.0.113.10"), ep("b", "10.0.0.5")}).problem());

  CHECK(*ssh_target(ep("web01", "")).problem() == "target 'web01': has no address");
  CHECK(*ssh_target(ep("web01", "10.0.0.1", 0)).problem() == "target 'web01': port 0 is not in 1..65535");
  CHECK(*ssh_target(ep("web01", "10.0.0.1"), {ep("edge", "1.2.3.4"), ep("bastion", "h", 70000)}).problem() ==
        "target 'web01': jump host #2 'bastion' port 70000 is not in 1..65535");
  CHECK(*ssh_target(ep("web01", "10.0.0.1"), {ep("web01", "1.2.3.4")}).problem() == "target 'web01': jumps through itself");
  CHECK(*ssh_target(ep("", "x")).problem() == "a target has no name");
  CHECK(*local_target("web01", "").problem() == "target 'web01': a local target needs a root directory (the host's `home`)");
  CHECK(*local_target("web01", "rel").problem() == "target 'web01': root directory 'rel' must be an absolute path");
  CHECK_FALSE(local_target("web01", "/tmp/x").problem());
}

TEST_CASE("connection keys tell connections apart but ignore names") {
  auto a = ep("a", "10.0.0.1");
  auto b = ep("b", "10.0.0.1");
  CHECK(a.connection_key() == b.connection_key());
  b.port = 2222;
  CHECK(a.connection_key() != b.connection_key());
  b = a;
  b.user = "shop";
  CHECK(a.connection_key() != b.connection_key());
  b = a;
  b.host_key_check = HostKeyCheck::off;
  CHECK(a.connection_key() != b.connection_key());
  CHECK(ep("x", "::1", 22).describe() == "[::1]:22");
  b = a;
  b.user = "shop";
  CHECK(b.describe() == "shop@10.0.0.1:22");
}

TEST_CASE("errors say host and step and what and detail on one line") {
  auto e = make_error(Errc::host_key_changed, "host-key", "web01", "run ssh-keygen -R");
  CHECK(e);
  CHECK(e.message() == "web01: host-key: host key changed: run ssh-keygen -R");
  CHECK(e.code == Errc::host_key_changed);
  auto s = make_error(std::make_error_code(std::errc::connection_refused), "connect", "web02");
  CHECK(s.code == std::errc::connection_refused);
  CHECK(s.message() == "web02: connect: Connection refused");
  CHECK_FALSE(Error{});
}
