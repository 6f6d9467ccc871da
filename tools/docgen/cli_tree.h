// A CLI11 app as plain data: each command's name, help, options and
// subcommands. The man page and completion writers read this rather than
// CLI11, so they share one reading of the definitions (which option takes a
// value, which are hidden, what a command's full path is).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace plugbox::docgen {

struct OptionDoc {
  std::vector<std::string> names;  // "-i", "--inventory"; for a positional, its name ("command")
  std::string value;               // "TEXT", "INT"; empty for a flag
  std::string help;                // its help line, plus the validator's constraint if any
  bool positional = false;
  bool is_help = false;            // -h/--help and --help-all, which every command takes
};

struct CommandDoc {
  std::string name;  // "deploy"
  std::string path;  // "plugbox fleet deploy"
  std::string help;  // may hold several lines
  std::string footer;
  std::vector<OptionDoc> options;  // in definition order, help flags first (as CLI11 adds them)
  std::vector<OptionDoc> positionals;
  std::vector<CommandDoc> subcommands;
  bool needs_subcommand = false;
  bool fallthrough = false;  // the parent's options are accepted after this command's word
};

// `program` names the root (CLI11 only learns it from argv[0] at parse time).
CommandDoc describe(const CLI::App& app, const std::string& program);

// Every command below `root`, depth first, in --help order (root excluded).
std::vector<const CommandDoc*> all_commands(const CommandDoc& root);

// The first line of a help text: what a list of commands shows.
std::string first_line(const std::string& text);

}  // namespace plugbox::docgen
