#include "tools/docgen/cli_tree.h"

#include <catch2/catch.hpp>

#include "apps.h"

using namespace plugbox::docgen;
using plugbox::docgen::test::plugbox_tree;
using plugbox::docgen::test::server_tree;

namespace {
const CommandDoc* find(const CommandDoc& root, const std::string& path) {
  for (const CommandDoc* c : all_commands(root))
    if (c->path == path) return c;
  return nullptr;
}
const OptionDoc* option(const CommandDoc& c, const std::string& name) {
  for (const auto& o : c.options)
    for (const auto& n : o.names)
      if (n == name) return &o;
  return nullptr;
}
}  // namespace

TEST_CASE("the client's tree holds every command at its place, with its options", "[cli_tree]") {
  const CommandDoc& root = plugbox_tree();
  std::vector<std::string> paths;
  for (const CommandDoc* c : all_commands(root)) paths.push_back(c->path);
  for (const char* p : {"plugbox inventory", "plugbox inventory check", "plugbox inventory list",
                        "plugbox inventory graph", "plugbox fleet", "plugbox fleet exec", "plugbox fleet deploy",
                        "plugbox fleet rollback", "plugbox fleet gc", "plugbox fleet status", "plugbox deploy",
                        "plugbox rollback", "plugbox prepare"}) {
    INFO(p);
    CHECK(std::find(paths.begin(), paths.end(), p) != paths.end());
  }
  const OptionDoc* inv = option(root, "--inventory");
  REQUIRE(inv);
  CHECK(inv->names == std::vector<std::string>{"-i", "--inventory"});
  CHECK(inv->value == "TEXT");
  CHECK(option(root, "--help-all")->is_help);

  const CommandDoc* deploy = find(root, "plugbox fleet deploy");
  REQUIRE(deploy);
  CHECK(option(*deploy, "--dry-run")->value.empty());  // a flag
  const CommandDoc* exec = find(root, "plugbox fleet exec");
  REQUIRE(exec);
  REQUIRE(exec->positionals.size() == 1);
  CHECK(exec->positionals[0].names == std::vector<std::string>{"command"});
  // The validator's requirement is part of the documented help.
  CHECK(option(*exec, "--parallel")->value == "INT");
  CHECK(option(*exec, "--parallel")->help.find("[1 - 100000]") != std::string::npos);
  CHECK(find(root, "plugbox fleet")->needs_subcommand);
}

TEST_CASE("the server's tree has its global options and every command", "[cli_tree]") {
  const CommandDoc& root = server_tree();
  CHECK(root.fallthrough);
  for (const char* o : {"--home", "--owner", "--wait"}) CHECK(option(root, o));
  std::vector<std::string> names;
  for (const auto& c : root.subcommands) names.push_back(c.name);
  const auto commands = plugbox::server::server_commands();
  REQUIRE(names.size() == commands.size());
  for (size_t i = 0; i < commands.size(); ++i) CHECK(names[i] == commands[i]->name());
}
