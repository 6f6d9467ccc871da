#include "orchestrator/service_keys.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "orchestrator/service_config.h"

using namespace plugbox::orchestrator;
using plugbox::base::ConfigKey;
using plugbox::inventory::InventoryError;

namespace {

const ConfigKey& row(const std::vector<ConfigKey>& keys, const std::string& name) {
  for (const auto& k : keys)
    if (k.name == name) return k;
  FAIL("no row for " << name);
  throw std::logic_error("unreachable");
}

std::string text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

TEST_CASE("plugbox.toml(5)'s [deploy] defaults are the ones a service file without them gets", "[service_keys]") {
  const ServiceConfig c = ServiceConfig::parse("[service]\nname = \"s\"\nupload_version = \"dist\"\n", "plugbox.toml");
  const auto& d = deploy_keys();
  CHECK(row(d, "max_fail").default_text == text(c.deploy.max_fail));
  CHECK(row(d, "keep").default_text == text(c.deploy.keep));
  CHECK(row(d, "health_retries").default_text == text(c.deploy.health_retries));
  CHECK(row(d, "health_interval").default_text == text(c.deploy.health_interval));
  CHECK(row(d, "health_timeout").default_text == text(c.deploy.health_timeout));
  CHECK(row(d, "command_timeout").default_text == text(c.deploy.command_timeout));
  CHECK(row(d, "connect_timeout").default_text == text(c.deploy.connect_timeout));
  REQUIRE(c.deploy.batches.size() == 2);
  CHECK(std::string(row(d, "batches").default_text) == "[1, \"100%\"]");
}

TEST_CASE("every documented key is accepted, and the unknown-key error lists exactly the documented ones",
          "[service_keys]") {
  // One file that sets every documented key of both tables loads (upload and
  // upload_version exclude each other: two files).
  for (const char* upload : {"upload_version = \"dist\"", "upload = [\"bin\"]"}) {
    std::string text = std::string("[service]\nname = \"s\"\n") + upload +
                       "\nprepare = []\npost_upload = []\nstop = []\nstart = []\nrefresh = []\nhealth = \"true\"\n"
                       "[deploy]\ngroup = \"g\"\nbatches = [1]\nmax_fail = 0\nkeep = 2\nhealth_retries = 1\n"
                       "health_interval = 1\nhealth_timeout = 1\ncommand_timeout = 1\nconnect_timeout = 1\n";
    INFO(text);
    CHECK_NOTHROW(ServiceConfig::parse(text, "plugbox.toml"));
  }
  try {
    (void)ServiceConfig::parse("[service]\nname = \"s\"\nupload_version = \"d\"\nhelth = \"true\"\n", "plugbox.toml");
    FAIL("an unknown key loaded");
  } catch (const InventoryError& e) {
    std::string known;
    for (const auto& k : service_keys()) known += (known.empty() ? "" : ", ") + std::string(k.name);
    CHECK(e.diagnostics().at(0).str() ==
          "plugbox.toml:4:9: service.helth: unknown key; did you mean 'health'? (known: " + known + ")");
  }
}
