#include <catch2/catch.hpp>

#include "orchestrator/service_config.h"

using namespace plugbox::orchestrator;
using plugbox::inventory::InventoryError;

namespace {
std::vector<std::string> errors_of(const std::string& text) {
  try {
    ServiceConfig::parse(text, "svc/plugbox.toml");
  } catch (const InventoryError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}
}  // namespace

TEST_CASE("a full service file loads") {
  auto c = ServiceConfig::parse(R"(
[service]
name = "shop"
prepare = ["make dist"]
upload_version = "dist"
post_upload = ["./bin/migrate --check"]
stop = ["systemctl --user stop shop"]
start = ["systemctl --user start shop"]
health = "curl -fsS http://127.0.0.1:8080/health"

[deploy]
group = "web"
batches = [1, "10%", "100%"]
max_fail = 1
keep = 7
health_retries = 3
health_interval = 0.5
)",
                                "svc/plugbox.toml");
  CHECK(c.name == "shop");
  CHECK(c.source_dir == "svc");
  CHECK(*c.upload_version == "dist");
  CHECK(c.deploy.batches == std::vector<BatchSize>{{false, 1}, {true, 10}, {true, 100}});
  CHECK(c.deploy.max_fail == 1);
  CHECK(c.deploy.keep == 7);
  CHECK(c.deploy.health_retries == 3);
  CHECK(c.deploy.health_interval == 0.5);
  CHECK(c.refresh.empty());
  // Where deploy.group is written, for an "unknown group" error that points at it.
  CHECK(c.deploy.group == "web");
  CHECK(c.deploy.group_pos.file == "svc/plugbox.toml");
  CHECK(c.deploy.group_pos.line == 12);
  CHECK(c.deploy.group_pos.column == 9);
}

TEST_CASE("every problem is reported with file, line, column and dotted path") {
  auto errs = errors_of(R"([service]
name = "Shop"
upload_version = "dist"
upload = ["bin"]
helth = "x"
stop = "systemctl stop"
[deploy]
batches = [1, "110%", true]
keep = 1
max_fail = -2
)");
  REQUIRE(errs.size() == 8);
  CHECK_THAT(errs[0], Catch::StartsWith("svc/plugbox.toml:2:8: service.name: 'Shop' is not a service name"));
  CHECK_THAT(errs[1], Catch::StartsWith("svc/plugbox.toml:4:10: service.upload: set either upload_version"));
  CHECK_THAT(errs[2], Catch::StartsWith("svc/plugbox.toml:5:9: service.helth: unknown key; did you mean 'health'?"));
  CHECK_THAT(errs[3], Catch::StartsWith("svc/plugbox.toml:6:8: service.stop: must be an array of strings"));
  CHECK_THAT(errs[4], Catch::StartsWith("svc/plugbox.toml:8:15: deploy.batches[1]: '110%' is not a batch size"));
  CHECK_THAT(errs[5], Catch::StartsWith("svc/plugbox.toml:8:23: deploy.batches[2]: must be a number of hosts"));
  CHECK_THAT(errs[6], Catch::StartsWith("svc/plugbox.toml:9:8: deploy.keep: must be between 2 and"));
  CHECK_THAT(errs[7], Catch::StartsWith("svc/plugbox.toml:10:12: deploy.max_fail: must be between 0 and"));
}

TEST_CASE("service file mistakes: missing pieces, syntax, globs") {
  CHECK_THAT(errors_of("").at(0), Catch::Contains("service: missing"));
  CHECK_THAT(errors_of("[service]\nname = \"a\"\n").at(0), Catch::Contains("nothing to upload"));
  CHECK_THAT(errors_of("[service]\nname = \"a\"\nupload = [\"dist/*\"]\n").at(0), Catch::Contains("globs are not expanded"));
  auto syntax = errors_of("[service]\nname = \n");
  REQUIRE(syntax.size() == 1);
  CHECK_THAT(syntax[0], Catch::StartsWith("svc/plugbox.toml:2:"));
  CHECK_THAT(errors_of("[service]\nname=\"a\"\nupload_version=\"d\"\n[deploy]\nmax_fail = -1\n").at(0),
             Catch::Contains("deploy.max_fail: must be between 0"));
}

TEST_CASE("a missing service file says how to point at one") {
  CHECK_THROWS_WITH(ServiceConfig::load("/nonexistent/plugbox.toml"), Catch::Contains("pass -f FILE"));
}

TEST_CASE("timeouts: nan is out of every range, and the connect timeout is a setting") {
  const std::string head = "[service]\nname = \"shop\"\nupload_version = \"dist\"\n[deploy]\n";
  for (const char* key : {"health_timeout", "command_timeout", "health_interval", "connect_timeout"}) {
    INFO(key);
    auto errs = errors_of(head + key + " = nan\n");
    REQUIRE(errs.size() == 1);
    CHECK_THAT(errs[0], Catch::StartsWith("svc/plugbox.toml:5:") && Catch::Contains(std::string("deploy.") + key +
                                                                                     ": must be between"));
  }
  auto c = ServiceConfig::parse(head + "connect_timeout = 5\n", "svc/plugbox.toml");
  CHECK(c.deploy.connect_timeout == 5);
  CHECK(ServiceConfig::parse(head, "svc/plugbox.toml").deploy.connect_timeout == 30);
}

TEST_CASE("exact_mtimes is a boolean, off by default") {
  const std::string head = "[service]\nname = \"shop\"\nupload_version = \"dist\"\n";
  CHECK_FALSE(ServiceConfig::parse(head, "svc/plugbox.toml").exact_mtimes);
  CHECK(ServiceConfig::parse(head + "exact_mtimes = true\n", "svc/plugbox.toml").exact_mtimes);
  auto errs = errors_of(head + "exact_mtimes = \"yes\"\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "svc/plugbox.toml:4:16: service.exact_mtimes: must be true or false, e.g. exact_mtimes = true");
}

TEST_CASE("an empty health line is refused, like an empty stop line") {
  auto errs = errors_of("[service]\nname = \"shop\"\nupload_version = \"dist\"\nhealth = \"\"\n");
  REQUIRE(errs.size() == 1);
  CHECK_THAT(errs[0], Catch::StartsWith("svc/plugbox.toml:4:10: service.health: is empty"));
}

TEST_CASE("a service file that is not a regular file is refused before it is read") {
  for (const char* path : {"/dev/zero", "/tmp"}) {
    INFO(path);
    try {
      ServiceConfig::load(path);
      FAIL("loaded");
    } catch (const InventoryError& e) {
      REQUIRE(e.diagnostics().size() == 1);
      CHECK_THAT(e.diagnostics()[0].str(), Catch::Contains("is not a regular file"));
    }
  }
}

TEST_CASE("[hooks]: four shell lines, each a string, a typo, an empty line or another type is one clear line") {
  const std::string head = "[service]\nname = \"shop\"\nupload_version = \"dist\"\n[hooks]\n";
  auto c = ServiceConfig::parse(head + "before_deploy = \"./gate.sh\"\nafter_deploy = \"curl -d ok hook\"\n"
                                       "on_failure = \"curl -d bad hook\"\nafter_rollback = \"echo back\"\n",
                                "svc/plugbox.toml");
  CHECK(c.hooks.before_deploy == "./gate.sh");
  CHECK(c.hooks.after_deploy == "curl -d ok hook");
  CHECK(c.hooks.on_failure == "curl -d bad hook");
  CHECK(c.hooks.after_rollback == "echo back");
  CHECK(ServiceConfig::parse(head, "svc/plugbox.toml").hooks.before_deploy.empty());

  auto errs = errors_of(head + "after_deploi = \"x\"\nbefore_deploy = \"\"\non_failure = [\"a\"]\n");
  REQUIRE(errs.size() == 3);
  CHECK_THAT(errs[0], Catch::StartsWith("svc/plugbox.toml:5:16: hooks.after_deploi: unknown key; did you mean 'after_deploy'?"));
  CHECK_THAT(errs[1], Catch::StartsWith("svc/plugbox.toml:6:17: hooks.before_deploy: is empty"));
  CHECK_THAT(errs[2], Catch::StartsWith("svc/plugbox.toml:7:14: hooks.on_failure: must be a string"));
  CHECK_THAT(errors_of("hooks = 1\n[service]\nname = \"shop\"\nupload_version = \"dist\"\n").at(0),
             Catch::Contains("hooks: must be a table: [hooks]"));
}
