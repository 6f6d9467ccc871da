#include "server-tools/chain_state.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("scan_chain reads versions, states, links and live", "[chain_state]") {
  TempDir t;
  const auto home = init_home(t);
  const Layout l(home);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  deploy(home, a);
  deploy(home, b);
  stage(home, c);

  ChainState st = scan_chain(l);
  REQUIRE(st.versions.size() == 3);
  CHECK(st.live_name() == b);
  CHECK(st.find(a)->state() == VersionState::ready);
  CHECK(st.find(c)->state() == VersionState::staged);
  CHECK(st.find(a)->next.target == b);
  CHECK(st.find(b)->previous.target == a);
  CHECK(st.find(c)->previous.target == b);  // staged: previous is what was live at next-version
  CHECK(st.chain_from_live() == std::vector<std::string>{b, a});
  CHECK(st.problems().empty());
  CHECK(st.strays.empty());
  CHECK(st.find("2030-01-01T00:00:00") == nullptr);
}

TEST_CASE("scan_chain reports damage instead of failing", "[chain_state]") {
  TempDir t;
  const auto home = init_home(t);
  const Layout l(home);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);

  fs::remove(home / "deploy" / b / "previous");
  fs::create_symlink("/abs/" + a, home / "deploy" / b / "previous");  // absolute: not ours
  fs::create_symlink("../2030-01-01T00:00:00", home / "deploy" / a / "previous");  // missing
  fs::create_directory(home / "deploy" / "2031-01-01T00:00:00");   // no record
  std::ofstream(home / "deploy" / "README") << "stray";
  std::ofstream(l.record("2032-01-01T00:00:00")) << "{}";          // stale record

  ChainState st = scan_chain(l);
  CHECK(st.find(b)->previous.kind == ChainLink::Kind::broken);
  CHECK(st.find(a)->previous.kind == ChainLink::Kind::broken);
  CHECK(st.find("2031-01-01T00:00:00")->state() == VersionState::staged);
  CHECK(st.strays == std::vector<std::string>{"README"});
  CHECK(st.stale_records == std::vector<std::string>{"2032-01-01T00:00:00"});
  const auto problems = st.problems();
  auto has = [&](const std::string& s) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(s) != std::string::npos; });
  };
  CHECK(has("-> '/abs/" + a + "' does not name a version"));
  CHECK(has("-> '../2030-01-01T00:00:00': no such version"));
  CHECK(has("version 2031-01-01T00:00:00 has no record"));
  CHECK(has("record 2032-01-01T00:00:00.json has no version directory"));

  // A live link naming a missing version.
  fs::remove(l.live());
  fs::create_symlink("2033-01-01T00:00:00", l.live());
  st = scan_chain(l);
  CHECK_FALSE(st.live_name());
  CHECK(st.live.kind == ChainLink::Kind::broken);
  CHECK(st.chain_from_live().empty());
}

TEST_CASE("chain_from_live stops at a cycle of previous links", "[chain_state]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);
  must(cli(home, {"upgrade-to", a}));  // upgrading to an older version: a.previous = b
  ChainState st = scan_chain(Layout(home));
  CHECK(st.chain_from_live() == std::vector<std::string>{a, b});
  CHECK(st.problems().empty());
}
