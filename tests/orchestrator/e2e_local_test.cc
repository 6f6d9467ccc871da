// End-to-end tests of the real `plugbox` binary over the local transport
// (each host a directory, its commands run here): fast, and run everywhere.
// The same scenarios run over real sshd in e2e_ssh_test.cc.
#include <catch2/catch.hpp>

#include "tests/orchestrator/e2e_scenarios.h"

using namespace plugbox::e2e;

TEST_CASE("local e2e: two deploys link the chain and hard-link unchanged files", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_two_deploys(*f);
}

TEST_CASE("local e2e: a health failure in a later batch puts every host back on its own previous", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_later_batch_health_failure(*f);
}

TEST_CASE("local e2e: a staging failure switches no host and removes V everywhere", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_staging_failure(*f);
}

TEST_CASE("local e2e: a deploy is refused while someone holds a host's lock", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_concurrent_deploy_refused(*f);
}

TEST_CASE("local e2e: fleet gc", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_gc(*f);
}

TEST_CASE("local e2e: fleet status table and json", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_status(*f);
}

TEST_CASE("local e2e: dry runs change nothing", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_dry_run_changes_nothing(*f);
}

TEST_CASE("local e2e: kill -9 mid-switch, then fleet rollback puts the fleet back", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_kill9_mid_switch(*f);
}

TEST_CASE("local e2e: a rollback that cannot complete exits 3 naming the host", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_rollback_incomplete(*f);
}

TEST_CASE("local e2e: SIGINT mid-switch rolls back and exits 130", "[e2e][local]") {
  auto f = E2eFleet::local();
  scenario_interrupted(*f);
}
