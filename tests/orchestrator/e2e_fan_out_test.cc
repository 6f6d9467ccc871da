// Fan-out inside a site over real sshd (docs/DESIGN.md §6 "Fan-out inside a
// site"): web1, web2 and deep sit behind the bastion; the relay runs on web1,
// web2 fetches from it, deep (behind a second jump host, in another network)
// cannot reach it and is sent everything directly, solo is direct. Then the
// relay dies mid-transfer, then it damages what it serves, then a group's
// relay cannot listen, then fan-out is off: every deploy succeeds with every
// host's tree checked.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/orchestrator/e2e_fleet.h"
#include "tests/orchestrator/e2e_scenarios.h"

namespace plugbox::e2e {
namespace {

// Each host's upload record and the site relays' records of the newest deploy.
struct FanOutRecords {
  std::map<std::string, nlohmann::json> upload;
  std::vector<nlohmann::json> relays;
};

FanOutRecords fan_out_records(const E2eFleet& f) {
  FanOutRecords r;
  for (const auto& line : lines_of(f.newest_journal("deploy"))) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object()) continue;
    if (e.value("step", "") == "upload" && e.contains("ok")) r.upload[e.value("host", "")] = e;
    if (e.value("event", "") == "fan_out") r.relays.push_back(e);
  }
  return r;
}

// Every host runs `version`, whose changing.txt is this release's.
void require_everywhere(const E2eFleet& f, const std::string& version, const std::string& tag) {
  for (const auto& n : f.names()) {
    INFO("host " << n);
    CHECK(f.home_of(n).live == version);
    CHECK(f.home_of(n).problems.empty());
    CHECK(slurp(f.host(n).home / "deploy" / version / "changing.txt") == "release " + tag + "\n");
  }
}

// Deploys release `r` with `tag`: it must succeed (whatever fan-out met on
// the way) and put that release live everywhere, verified.
Deployed deploy_tagged(E2eFleet& f, Release& r, const std::string& tag) {
  r.tag = tag;
  f.write_release(r);
  Deployed d = deploy(f);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  require_everywhere(f, d.version, tag);
  return d;
}

// web1 and web2 after the relay damaged what it served: every content came
// over their own streams, for the reason the tag gave. With the manifest
// fetched, each content was tried through the relay and failed; without
// it, none was tried.
void require_damage_fell_back(const FanOutRecords& rec, bool manifest_fetched) {
  for (const char* h : {"web1", "web2"}) {
    INFO(h);
    const auto& u = rec.upload.at(h);
    CHECK(u.at("manifest_fetched") == manifest_fetched);
    CHECK(u.at("files_sent").get<int>() >= 1);
    CHECK(u.at("files_fetched") == 0);
    CHECK(u.at("fetches_failed").get<int>() == (manifest_fetched ? u.at("files_sent").get<int>() : 0));
    CHECK(u.at("fetch_failure").get<std::string>().find("AEAD") != std::string::npos);
  }
}

// web1 and web2 fetched all `sent` contents they needed through a relay:
// no content crossed their own streams, nor their manifests (protocol 2).
void require_all_fetched(const FanOutRecords& rec, int sent) {
  for (const char* h : {"web1", "web2"}) {
    INFO(h);
    CHECK(rec.upload.at(h).at("files_fetched") == sent);
    CHECK(rec.upload.at(h).at("fetches_failed") == 0);
    CHECK(rec.upload.at(h).at("bytes_sent") == 0);
    CHECK(rec.upload.at(h).at("manifest_fetched") == true);
  }
}

TEST_CASE("sshd e2e: fan-out sends a site's contents once and falls back per content when the relay fails",
          "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->hook_server();
  Release r;
  r.extra_file = "assets/extra.txt";
  Deployed d1 = deploy_tagged(*f, r, "fan1");
  INFO(d1.run.describe());
  FanOutRecords rec = fan_out_records(*f);
  // The site's 3 hosts (web1, web2, deep): groups of floor(sqrt(3)) = 1, so
  // the site's relay on web1 and a group's relay on each of the others,
  // fetching from web1's.
  REQUIRE(rec.relays.size() == 3);
  for (const auto& relay : rec.relays) CHECK(relay["site"] == "bastion");
  CHECK(rec.relays[0]["host"] == "web1");
  CHECK(rec.relays[0]["upstream"].is_null());
  CHECK(rec.relays[0]["problem"] == "");
  CHECK(rec.relays[1]["host"] == "web2");
  CHECK(rec.relays[1]["upstream"] == rec.relays[0]["endpoint"]);
  CHECK(rec.relays[1]["served"]["upstream_fetches"] == rec.relays[1]["served"]["fetches"]);
  const auto sent = rec.upload.at("web2").at("files_sent").get<int>();
  REQUIRE(sent >= 8);
  // web1 runs the relay and fetches from it too; web2 fetches everything.
  require_all_fetched(rec, sent);
  // deep is behind b2, in another network: web1's relay's address is not
  // its. Its own relay cannot reach web1's, so deep's manifest fetch fails,
  // and from then on everything, the manifest first, comes over its own
  // stream.
  CHECK(rec.relays[2]["host"] == "deep");
  CHECK(rec.relays[2]["served"]["upstream_failure"].get<std::string>().find("connect to upstream") == 0);
  CHECK(rec.upload.at("deep").at("manifest_fetched") == false);
  CHECK(rec.upload.at("deep").at("files_fetched") == 0);
  CHECK(rec.upload.at("deep").at("fetches_failed") == 0);
  CHECK(rec.upload.at("deep").at("files_sent") == sent);
  CHECK_FALSE(rec.upload.at("deep").at("fetch_failure").get<std::string>().empty());
  CHECK_FALSE(rec.upload.at("solo").contains("files_fetched"));  // direct: no site
  // Each content, and the manifest, went to the relay once; web1's relay
  // served web1 and web2's relay.
  CHECK(rec.relays[0]["served"]["fetches"] == 2 * (sent + 1));
  CHECK(rec.relays[0]["bytes_to_relay"].get<long>() > rec.relays[0]["served"]["bytes_stored"].get<long>());
  CHECK(rec.relays[0]["served"]["bytes_served"] == 2 * rec.relays[0]["served"]["bytes_stored"].get<long>());

  SECTION("a relay that dies mid-transfer: the rest comes directly") {
    write_file(f->host("web1").home / "RELAY_FAULT", "exit-after:3");
    r.extra_file = "assets/extra2.txt";
    Deployed d2 = deploy_tagged(*f, r, "fan2");
    INFO(d2.run.describe());
    rec = fan_out_records(*f);
    int fetched = 0, failed = 0, manifests = 0;
    for (const char* h : {"web1", "web2"}) {
      fetched += rec.upload.at(h).at("files_fetched").get<int>();
      failed += rec.upload.at(h).at("fetches_failed").get<int>();
      manifests += rec.upload.at(h).at("manifest_fetched").get<bool>();
    }
    // Each host's first fetch is its manifest; 2 contents each follow.
    CHECK(manifests >= 1);
    CHECK(fetched >= 1);
    CHECK(fetched + manifests <= 3);  // it died as the fourth was asked for
    CHECK(failed + (2 - manifests) >= 1);  // and something came directly after all
    CHECK(rec.relays.at(0)["problem"].get<std::string>().find("relay on web1") == 0);
  }
  SECTION("a relay that damages what it serves: every damaged content fails its tag and comes directly") {
    // Every content but the manifest, the first it is given (the release
    // changes one or two: an every-Nth fault would hit one host or the
    // other depending on the order they ask in).
    write_file(f->host("web1").home / "RELAY_FAULT", "corrupt-after:1");
    Deployed d3 = deploy_tagged(*f, r, "fan3");
    INFO(d3.run.describe());
    require_damage_fell_back(fan_out_records(*f), /*manifest_fetched=*/true);
  }
  SECTION("a relay that damages the manifest: it comes directly, and so does everything after it") {
    write_file(f->host("web1").home / "RELAY_FAULT", "corrupt-every:1");
    Deployed d5 = deploy_tagged(*f, r, "fan5");
    INFO(d5.run.describe());
    require_damage_fell_back(fan_out_records(*f), /*manifest_fetched=*/false);
  }
  SECTION("a group's relay whose port is taken does not start: its hosts fetch from the site's relay") {
    f->mark("web2", "TAKE_RELAY_PORT");
    r.extra_file = "assets/extra7.txt";
    Deployed d7 = deploy_tagged(*f, r, "fan7");
    INFO(d7.run.describe());
    rec = fan_out_records(*f);
    REQUIRE(rec.relays.size() == 3);
    CHECK(rec.relays[0]["problem"] == "");
    CHECK(rec.relays[1]["host"] == "web2");
    CHECK(rec.relays[1]["problem"].get<std::string>().find("cannot listen") != std::string::npos);
    const auto sent7 = rec.upload.at("web2").at("files_sent").get<int>();
    REQUIRE(sent7 >= 1);
    require_all_fetched(rec, sent7);
    // web1's relay served web1 and web2 themselves: no group relay between.
    CHECK(rec.relays[0]["served"]["fetches"] == 2 * (sent7 + 1));
    CHECK(rec.relays[0]["served"]["connections"] == 2);
  }
  SECTION("a site var takes a host out of its jump host's site: alone in its own, it fetches nothing") {
    {
      std::ofstream inv(f->inventory(), std::ios::app);
      inv << "\n[groups.far]\nhosts = [\"deep\"]\nvars = { site = \"far\" }\n";
    }
    Deployed d6 = deploy_tagged(*f, r, "fan6");
    INFO(d6.run.describe());
    rec = fan_out_records(*f);
    REQUIRE(rec.relays.size() == 2);  // web1's and web2's; "far" has one host: nothing to share
    for (const auto& relay : rec.relays) CHECK(relay["site"] == "bastion");
    CHECK(rec.upload.at("web2").at("manifest_fetched") == true);
    CHECK_FALSE(rec.upload.at("deep").contains("files_fetched"));  // no relay was even tried
  }
  SECTION("fan_out = \"off\": every host is sent its own copy") {
    f->write_service(E2eFleet::default_deploy_table() + "fan_out = \"off\"\n");
    Deployed d4 = deploy_tagged(*f, r, "fan4");
    INFO(d4.run.describe());
    rec = fan_out_records(*f);
    CHECK(rec.relays.empty());
    for (const auto& n : f->names()) CHECK_FALSE(rec.upload.at(n).contains("files_fetched"));
  }
}

}  // namespace
}  // namespace plugbox::e2e
