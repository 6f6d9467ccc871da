#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_util.h"
#include "transport/dry_run_transport.h"

using namespace plugbox::transport;
using plugbox::transport::test::run;

TEST_CASE("dry-run prints what would happen and succeeds") {
  boost::asio::io_context io;
  std::vector<std::string> lines;
  DryRunTransport t([&](const std::string& l) { lines.push_back(l); });
  Endpoint web;
  web.name = "web01";
  web.address = "10.0.0.7";
  web.user = "shop";
  Endpoint edge;
  edge.name = "edge";
  edge.address = "203.0.113.10";
  Endpoint bastion = edge;
  bastion.name = "bastion-eu";
  auto opened = run(io, t.open(ssh_target(web, {edge, bastion})));
  REQUIRE_FALSE(opened.error);
  auto c = Command::argv({"plugbox-server", "--home", "/srv/my shop", "init"});
  ExecOptions o;
  o.stdin_data = "12345";
  auto r = run(io, opened.session->exec(c, o));
  CHECK(r.ok());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "web01: would connect to shop@10.0.0.7:22 via edge -> bastion-eu");
  CHECK(lines[1] == "web01: would run: plugbox-server --home '/srv/my shop' init  (stdin: 5 bytes)");

  bool pulled = false;
  ExecOptions streamed;
  streamed.stdin_source = [&]() -> Awaitable<std::optional<std::string>> {
    pulled = true;
    co_return std::nullopt;
  };
  CHECK(run(io, opened.session->exec(c, streamed)).ok());
  CHECK_FALSE(pulled);
  CHECK(lines.back() == "web01: would run: plugbox-server --home '/srv/my shop' init  (stdin: streamed)");

  auto bad = run(io, t.open(ssh_target(Endpoint{})));
  CHECK(bad.error.code == Errc::bad_target);
  t.cancel();
  CHECK(run(io, opened.session->exec(c, {})).error.code == std::errc::operation_canceled);
}
