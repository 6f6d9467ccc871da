#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;

namespace {
// Sets or unsets an environment variable for one scope.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~EnvVar() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Runs in a directory for one scope (the default ./inventory.toml is relative).
class InDir {
 public:
  explicit InDir(const std::filesystem::path& p) : old_(std::filesystem::current_path()) { std::filesystem::current_path(p); }
  ~InDir() { std::filesystem::current_path(old_); }

 private:
  std::filesystem::path old_;
};

std::string error_of(const std::optional<std::string>& cli) {
  try {
    resolve_inventory_path(cli);
  } catch (const InventoryError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    return e.diagnostics()[0].str();
  }
  return "";
}
}  // namespace

TEST_CASE("the inventory is -i, else $PLUGBOX_INVENTORY, else ./inventory.toml", "[inventory_path]") {
  test::TempDir dir;
  std::ofstream(dir.path() / "inventory.toml") << "";
  std::ofstream(dir.path() / "env.toml") << "";
  std::ofstream(dir.path() / "cli.toml") << "";
  InDir in(dir.path());
  {
    EnvVar env("PLUGBOX_INVENTORY", nullptr);
    CHECK(resolve_inventory_path(std::nullopt) == "inventory.toml");
  }
  EnvVar env("PLUGBOX_INVENTORY", (dir.path() / "env.toml").c_str());
  CHECK(resolve_inventory_path(std::nullopt) == dir.path() / "env.toml");
  CHECK(resolve_inventory_path(std::string("cli.toml")) == "cli.toml");
}

TEST_CASE("a missing inventory says which path was tried and why, and never falls back", "[inventory_path]") {
  test::TempDir dir;
  std::ofstream(dir.path() / "inventory.toml") << "";  // present, yet not used when another was asked for
  InDir in(dir.path());
  {
    EnvVar env("PLUGBOX_INVENTORY", "/nonexistent/fleet.toml");
    CHECK(error_of(std::string("nope.toml")) ==
          "no inventory: tried 'nope.toml' (given with -i), which does not exist; pass -i FILE or set "
          "$PLUGBOX_INVENTORY");
    CHECK(error_of(std::nullopt) ==
          "no inventory: tried '/nonexistent/fleet.toml' (from $PLUGBOX_INVENTORY, as no -i was given), which does "
          "not exist; pass -i FILE or set $PLUGBOX_INVENTORY");
  }
  std::filesystem::remove(dir.path() / "inventory.toml");
  std::filesystem::create_directory(dir.path() / "sub");
  EnvVar env("PLUGBOX_INVENTORY", "");  // empty counts as unset
  CHECK(error_of(std::nullopt) ==
        "no inventory: tried 'inventory.toml' (no -i was given and $PLUGBOX_INVENTORY is not set), which does not "
        "exist; pass -i FILE or set $PLUGBOX_INVENTORY");
  CHECK(error_of(std::string("sub")) ==
        "no inventory: tried 'sub' (given with -i), which is not a regular file; pass -i FILE or set "
        "$PLUGBOX_INVENTORY");
}
