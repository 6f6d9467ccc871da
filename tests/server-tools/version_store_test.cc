#include "server-tools/version_store.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "server-tools/init.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("records round-trip and keep unknown keys", "[version_store]") {
  TempDir t;
  const Layout l(t.path());
  init_layout(l, {}, Actor::of_this_process(""));
  VersionStore store(l);
  VersionRecord r;
  r.name = "2026-11-25T21:40:00";
  r.created = "2026-11-25T21:39:00Z";
  r.by = "alice";
  r.source_rev = "abc123";
  store.write(r);
  auto got = store.lookup(r.name);
  REQUIRE(got.kind == RecordLookup::Kind::ok);
  CHECK(got.record->state == VersionState::staged);
  CHECK(got.record->by == "alice");
  CHECK(got.record->source_rev == "abc123");
  CHECK_FALSE(got.record->manifest_digest);
  CHECK_FALSE(got.record->size_bytes);

  auto j = nlohmann::json::parse(slurp(l.record(r.name)));
  CHECK(j["schema"] == 1);
  CHECK(j["state"] == "staged");
  CHECK(j["manifest_digest"].is_null());
  j["manifest_digest"] = "sha256:00";  // as issue 5's receiver will add
  j["future_key"] = {{"x", 1}};
  std::ofstream(l.record(r.name)) << j.dump();
  got = store.lookup(r.name);
  REQUIRE(got.kind == RecordLookup::Kind::ok);
  CHECK(got.record->manifest_digest == "sha256:00");
  VersionRecord sealed = *got.record;
  sealed.state = VersionState::ready;
  sealed.size_bytes = 12;
  store.write(sealed);
  auto j2 = nlohmann::json::parse(slurp(l.record(r.name)));
  CHECK(j2["state"] == "ready");
  CHECK(j2["size_bytes"] == 12);
  CHECK(j2["future_key"]["x"] == 1);

  CHECK(store.names() == std::vector<std::string>{r.name});
  store.remove(r.name);
  CHECK(store.lookup(r.name).kind == RecordLookup::Kind::absent);
  CHECK(store.names().empty());
}

TEST_CASE("unreadable records are reported, not trusted", "[version_store]") {
  TempDir t;
  const Layout l(t.path());
  init_layout(l, {}, Actor::of_this_process(""));
  VersionStore store(l);
  const std::string v = "2026-11-25T21:40:00";
  std::ofstream(l.record(v)) << "{ not json";
  auto got = store.lookup(v);
  CHECK(got.kind == RecordLookup::Kind::unreadable);
  CHECK(got.problem.find("not valid JSON") != std::string::npos);

  std::ofstream(l.record(v)) << R"({"name": "2026-11-25T21:40:00", "state": "live"})";
  got = store.lookup(v);
  CHECK(got.kind == RecordLookup::Kind::unreadable);
  CHECK(got.problem.find("\"state\"") != std::string::npos);

  std::ofstream(l.record(v)) << R"({"name": "2026-11-24T21:40:00", "state": "ready"})";
  got = store.lookup(v);
  CHECK(got.kind == RecordLookup::Kind::unreadable);
  CHECK(got.problem.find("names version 2026-11-24T21:40:00") != std::string::npos);

  std::ofstream(l.versions() / "notes.json") << "{}";  // not a version's record
  CHECK(store.names() == std::vector<std::string>{v});
}
