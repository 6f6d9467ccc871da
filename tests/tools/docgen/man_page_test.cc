#include "tools/docgen/man_page.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "apps.h"
#include "inventory/setting_docs.h"
#include "orchestrator/service_keys.h"
#include "shell.h"
#include "tools/docgen/pages.h"
#include "tools/docgen/roff.h"

using namespace plugbox::docgen;
using namespace plugbox::docgen::test;

namespace {

std::string doc(const std::string& name) {
  std::ifstream in(std::string(PLUGBOX_DOC_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_commands_documented(const CommandDoc& root, const std::string& page) {
  for (const CommandDoc* c : all_commands(root)) {
    INFO(c->path);
    CHECK(page.find(".SS \"" + roff_escape(c->path) + "\"") != std::string::npos);
    // Its help line (a multi-line one: each line), escaped as the page writes it.
    std::istringstream lines(c->help);
    for (std::string l; std::getline(lines, l);) CHECK(page.find(roff_escape(l)) != std::string::npos);
    for (const auto& o : c->options)
      for (const auto& n : o.names) CHECK(page.find(bold(n)) != std::string::npos);
  }
  for (const auto& o : root.options)
    for (const auto& n : o.names) CHECK(page.find(bold(n)) != std::string::npos);
}

}  // namespace

TEST_CASE("the built man pages are the generator's output for the real definitions", "[man_page]") {
  CHECK(doc("plugbox.1") == plugbox_page(plugbox_tree()));
  CHECK(doc("plugbox-server.1") == plugbox_server_page(server_tree()));
  CHECK(doc("inventory.toml.5") == inventory_toml_page());
  CHECK(doc("plugbox.toml.5") == plugbox_toml_page());
}

TEST_CASE("plugbox(1) and plugbox-server(1) document every command and option", "[man_page]") {
  const std::string client = doc("plugbox.1"), server = doc("plugbox-server.1");
  check_commands_documented(plugbox_tree(), client);
  check_commands_documented(server_tree(), server);
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS", "FILES",
                              "SEE ALSO"}) {
    INFO(section);
    CHECK(client.find(".SH \"" + std::string(section) + "\"") != std::string::npos);
    CHECK(server.find(".SH \"" + std::string(section) + "\"") != std::string::npos);
  }
  CHECK(client.find("plugbox \\- stage releases on every host") != std::string::npos);
}

TEST_CASE("the section 5 pages list every key the readers accept", "[man_page]") {
  const std::string inv = doc("inventory.toml.5"), svc = doc("plugbox.toml.5");
  for (const auto* table : {&plugbox::inventory::inventory_tables(), &plugbox::inventory::group_keys(),
                            &plugbox::inventory::setting_docs(), &plugbox::inventory::host_only_key_docs()})
    for (const auto& k : *table) {
      INFO(k.name);
      CHECK(inv.find(".TP\n" + bold(k.name) + "\n" + roff_escape(k.description)) != std::string::npos);
    }
  for (const auto* table : {&plugbox::orchestrator::service_file_tables(), &plugbox::orchestrator::service_keys(),
                            &plugbox::orchestrator::deploy_keys(), &plugbox::orchestrator::hook_keys()})
    for (const auto& k : *table) {
      INFO(k.name);
      CHECK(svc.find(".TP\n" + bold(k.name) + "\n" + roff_escape(k.description)) != std::string::npos);
    }
}

TEST_CASE("groff formats every page without a warning", "[man_page]") {
  if (!have("groff")) {
    WARN("groff is not installed: the pages' roff is not checked");
    return;
  }
  for (const char* page : {"plugbox.1", "plugbox-server.1", "inventory.toml.5", "plugbox.toml.5"}) {
    INFO(page);
    const ShellRun r = run_shell("sh", std::string("LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z ") + PLUGBOX_DOC_DIR +
                                           "/" + page);
    CHECK(r.status == 0);
    CHECK(r.out == "");
  }
}
