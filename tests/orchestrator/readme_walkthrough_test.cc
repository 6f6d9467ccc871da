// README.md's "Your first real fleet" is followed by people on their own
// machines: its inventory and service file must load as written, and say
// what the text says they do.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "inventory/inventory.h"
#include "orchestrator/service_config.h"

namespace {

// The ```toml blocks of the walk-through, indentation removed.
std::vector<std::string> walkthrough_toml() {
  std::ifstream in(std::string(PLUGBOX_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const auto from = readme.find("## Your first real fleet");
  const auto to = readme.find("\n## ", from + 1);
  REQUIRE(from != std::string::npos);
  const std::string section = readme.substr(from, to - from);
  std::vector<std::string> out;
  const std::regex block("```toml\n([\\s\\S]*?)```");
  for (std::sregex_iterator it(section.begin(), section.end(), block), end; it != end; ++it) {
    std::istringstream lines((*it)[1].str());
    std::string text;
    for (std::string line; std::getline(lines, line);) text += (line.rfind("   ", 0) == 0 ? line.substr(3) : line) + "\n";
    out.push_back(text);
  }
  return out;
}

}  // namespace

TEST_CASE("README's first-fleet walk-through: its inventory and plugbox.toml load and mean what it says") {
  const auto blocks = walkthrough_toml();
  REQUIRE(blocks.size() == 2);
  auto inv = plugbox::inventory::Inventory::parse(blocks[0], "inventory.toml");
  const auto web = inv.select({{"web"}, {}});
  REQUIRE(web.size() == 3);
  CHECK(web[0]->name == "web1");
  CHECK(web[0]->address == "10.0.1.1");
  CHECK(web[0]->jump_chain == std::vector<std::string>{"bastion"});
  CHECK(web[0]->server.empty());  // plugbox's own server, installed by it
  CHECK(web[0]->server_install);
  CHECK(inv.find("bastion")->user == "jump");

  auto svc = plugbox::orchestrator::ServiceConfig::parse(blocks[1], "/src/shop/plugbox.toml");
  CHECK(svc.name == "shop");
  CHECK(svc.deploy.group == "web");
  CHECK(svc.upload_version == std::optional<std::string>("dist"));
}
