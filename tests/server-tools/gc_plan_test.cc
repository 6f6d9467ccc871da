#include "server-tools/gc_plan.h"

#include <catch2/catch.hpp>

#include "server-tools/errors.h"

using namespace plugbox::server;

namespace {

// A chain built in memory: no disk needed to plan.
ChainState chain(const std::vector<std::pair<std::string, bool>>& versions, const std::string& live,
                 const std::string& live_prev) {
  ChainState st;
  for (const auto& [name, ready] : versions) {
    VersionView v;
    v.name = name;
    v.record.kind = RecordLookup::Kind::ok;
    VersionRecord r;
    r.name = name;
    r.state = ready ? VersionState::ready : VersionState::staged;
    v.record.record = r;
    st.versions[name] = v;
  }
  if (!live.empty()) {
    st.live.kind = ChainLink::Kind::ok;
    st.live.target = live;
    if (!live_prev.empty()) {
      st.versions[live].previous.kind = ChainLink::Kind::ok;
      st.versions[live].previous.target = live_prev;
    }
  }
  return st;
}

const std::string v1 = "2026-01-01T00:00:00", v2 = "2026-01-02T00:00:00", v3 = "2026-01-03T00:00:00",
                  v4 = "2026-01-04T00:00:00", v5 = "2026-01-05T00:00:00", v6 = "2026-01-06T00:00:00";

}  // namespace

TEST_CASE("gc keeps the N newest ready versions plus live and its previous", "[gc_plan]") {
  SECTION("live is the newest") {
    auto st = chain({{v1, true}, {v2, true}, {v3, true}, {v4, true}, {v5, true}}, v5, v4);
    GcPlan p = plan_gc(st, 3);
    CHECK(p.kept == std::vector<std::string>{v5, v4, v3});
    CHECK(p.remove == std::vector<std::string>{v1, v2});
  }
  SECTION("live rolled back to an old version: it and its previous survive") {
    auto st = chain({{v1, true}, {v2, true}, {v3, true}, {v4, true}, {v5, true}, {v6, true}}, v2, v1);
    GcPlan p = plan_gc(st, 2);
    CHECK(p.kept == std::vector<std::string>{v6, v5, v2, v1});
    CHECK(p.remove == std::vector<std::string>{v3, v4});
  }
  SECTION("staged leftovers go whatever their age, and do not count as kept") {
    auto st = chain({{v1, true}, {v2, true}, {v3, false}, {v4, true}, {v5, false}}, v4, v2);
    GcPlan p = plan_gc(st, 2);
    CHECK(p.kept == std::vector<std::string>{v4, v2});
    CHECK(p.remove == std::vector<std::string>{v1, v3, v5});
  }
  SECTION("no live version yet") {
    auto st = chain({{v1, true}, {v2, true}, {v3, true}}, "", "");
    CHECK(plan_gc(st, 2).remove == std::vector<std::string>{v1});
  }
  SECTION("stale records are planned too; nothing else to do is an empty plan") {
    auto st = chain({{v1, true}, {v2, true}}, v2, v1);
    CHECK(plan_gc(st, 2).empty());
    st.stale_records = {v6};
    GcPlan p = plan_gc(st, 2);
    CHECK_FALSE(p.empty());
    CHECK(p.remove.empty());
    CHECK(p.stale_records == std::vector<std::string>{v6});
  }
}

TEST_CASE("gc --keep below 2 is bad input", "[gc_plan]") {
  auto st = chain({{v1, true}}, v1, "");
  for (unsigned keep : {0u, 1u}) {
    try {
      plan_gc(st, keep);
      FAIL("accepted keep " << keep);
    } catch (const ServerError& e) {
      CHECK(e.status() == ExitStatus::bad_input);
      CHECK(std::string(e.what()).find("keep at least 2") != std::string::npos);
    }
  }
}
