#include "server-tools/verify.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("verify checks structure and says contents were not checked", "[verify]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);
  const Snapshot before = snapshot(home);
  CliResult r = cli(home, {"verify", b});
  REQUIRE(r.rc == 0);
  CHECK(snapshot(home) == before);
  CHECK(r.out == "verify " + b + ":\n  ok: record readable (ready)\n  ok: previous -> " + a +
                     " exists\n  ok: tree size 19 bytes, as when sealed\n  file contents NOT verified: no "
                     "upload manifest is recorded for " + b + " (it was not uploaded with `receive`)\n");

  VerifyReport rep = verify_version(Layout(home), a);
  CHECK(rep.ok());
  CHECK_FALSE(rep.contents_verified);
}

TEST_CASE("verify finds a tree changed after sealing and broken links", "[verify]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);
  std::ofstream(home / "deploy" / b / "marker", std::ios::app) << "tampered";
  fs::remove(home / "deploy" / b / "previous");
  fs::create_symlink("/etc", home / "deploy" / b / "previous");
  CliResult r = cli(home, {"verify", b});
  CHECK(r.rc == 1);
  CHECK(r.out.find("problem: the tree of " + b + " holds 27 bytes but held 19 when sealed") != std::string::npos);
  CHECK(r.out.find("-> '/etc' does not name a version") != std::string::npos);
  CHECK(r.err == "plugbox-server verify: " + b + " failed 2 check(s)\n");
}
