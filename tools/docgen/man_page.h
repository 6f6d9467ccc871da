// The man pages as data, and their rendering to roff: a section-1 page is a
// command tree (cli_tree.h) plus the sections no command definition holds
// (exit statuses, environment, files, see also); a section-5 page is tables
// of configuration keys (base/config_key.h) with some prose.
#pragma once

#include <string>
#include <vector>

#include "base/config_key.h"
#include "tools/docgen/cli_tree.h"

namespace plugbox::docgen {

struct Item {
  std::string tag;  // plain text, set in bold
  std::string text;
};

// A section of a page: paragraphs, then tagged items, then an example.
struct Section {
  std::string title;  // "EXIT STATUS"
  std::vector<std::string> paragraphs;
  std::vector<Item> items;
  std::string example;  // literal lines, e.g. a TOML file
};

struct PageHead {
  std::string name;     // "plugbox", "inventory.toml"
  int section;          // 1, 5
  std::string summary;  // the NAME line after "name \- "
  std::string source;   // "plugbox 0.1.0"
};

// NAME, SYNOPSIS, DESCRIPTION (`description`, the root's help below its
// first line, which is NAME's, and the list of commands), OPTIONS, COMMANDS
// (every command with its options and positionals), then `after` in order.
std::string command_page(const PageHead& head, const std::vector<std::string>& description, const CommandDoc& root,
                         const std::vector<Section>& after);

// One group of keys of a configuration file: "[deploy]" and its rows.
struct KeyTable {
  std::string title;  // the .SS line
  std::string intro;
  const std::vector<base::ConfigKey>* keys;
};

// NAME, SYNOPSIS (`synopsis` as a literal example), DESCRIPTION, one section
// "KEYS" with each table, then `after`.
std::string config_page(const PageHead& head, const std::string& synopsis, const std::string& description,
                        const std::vector<KeyTable>& tables, const std::vector<Section>& after);

}  // namespace plugbox::docgen
