// Helpers shared by the inventory tests: parse TOML text, collect the
// diagnostics of a bad inventory, run the early stages on their own, and a
// temporary directory that is removed whatever happens.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/host_table.h"
#include "inventory/inventory.h"
#include "inventory/toml_reader.h"

namespace plugbox::inventory::test {

inline Inventory parse(std::string_view text) { return Inventory::parse(text, "inv.toml"); }

// Every diagnostic of `text` ("FILE:LINE:COL: message"), errors and warnings;
// empty when it loads.
inline std::vector<std::string> problems(std::string_view text) {
  std::vector<std::string> out;
  try {
    Inventory inv = parse(text);
    for (const auto& w : inv.warnings()) out.push_back(w.str());
  } catch (const InventoryError& e) {
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
  }
  return out;
}

// The reader and range expansion alone, for the tests of later stages.
struct Stages {
  explicit Stages(std::string_view text) : doc(read_document(text, ctx, diag)), hosts(expand_hosts(doc, diag)) {}
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& d : diag.sorted()) out.push_back(d.str());
    return out;
  }
  Diagnostics diag{"inv.toml"};
  ReadContext ctx{"/etc/fleet", "/home/op", "op"};
  Document doc;
  HostTable hosts;
};

// "edge[bastion-eu[web01* web02*]]": '*' marks a target, brackets hold the
// sessions tunnelled through a host.
inline std::string render(const std::vector<SessionNode>& nodes) {
  std::string out;
  for (const auto& n : nodes) {
    if (!out.empty()) out += " ";
    out += n.host + (n.target ? "*" : "");
    if (!n.children.empty()) out += "[" + render(n.children) + "]";
  }
  return out;
}

// `ssh -F cfg -G host`: keyword -> values, in order.
inline std::multimap<std::string, std::string> ssh_g(const std::filesystem::path& cfg, const std::string& host) {
  const std::string cmd = "ssh -F '" + cfg.string() + "' -G '" + host + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::multimap<std::string, std::string> out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    const auto sp = line.find(' ');
    out.emplace(line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  REQUIRE(WEXITSTATUS(pclose(p)) == 0);
  return out;
}

inline std::vector<std::string> all(const std::multimap<std::string, std::string>& m, const std::string& k) {
  std::vector<std::string> out;
  for (auto [a, b] = m.equal_range(k); a != b; ++a) out.push_back(a->second);
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plugbox-inv-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace plugbox::inventory::test
