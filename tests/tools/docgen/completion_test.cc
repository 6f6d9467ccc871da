#include "tools/docgen/completion.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "apps.h"
#include "shell.h"

using namespace plugbox::docgen;
using namespace plugbox::docgen::test;

namespace {

const std::string kBash = std::string(PLUGBOX_DOC_DIR) + "/plugbox.bash";
const std::string kZsh = std::string(PLUGBOX_DOC_DIR) + "/_plugbox";

std::string slurp(const std::string& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What bash offers for `line` with the cursor at its end: the installed
// script's function, driven the way bash's programmable completion does.
std::string complete(const std::string& line) {
  std::string script = "source " + kBash + "\nCOMP_LINE='" + line + "'\nCOMP_POINT=${#COMP_LINE}\n";
  script += "COMP_WORDS=(" + line + (line.back() == ' ' ? "''" : "") + ")\n";
  script += "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_plugbox\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  const ShellRun r = run_shell("bash", script);
  INFO(r.out);
  REQUIRE(r.status == 0);
  return r.out;
}

}  // namespace

TEST_CASE("the built completion scripts are the generator's output for the real command line", "[completion]") {
  CHECK(slurp(kBash) == bash_completion(plugbox_tree()));
  CHECK(slurp(kZsh) == zsh_completion(plugbox_tree()));
}

TEST_CASE("the bash completion script is valid bash and completes commands, subcommands and options",
          "[completion]") {
  const ShellRun syntax = run_shell("bash", "bash -n " + kBash);
  INFO(syntax.out);
  REQUIRE(syntax.status == 0);

  CHECK(complete("plugbox fl") == "fleet\n");
  CHECK(complete("plugbox fleet de") == "deploy\n");
  CHECK(complete("plugbox fleet ") == "exec\ndeploy\nrollback\ngc\nstatus\nbootstrap\nlock\nunlock\n");
  // An option's value is not a command word.
  CHECK(complete("plugbox -i fleet.toml fl") == "fleet\n");
  CHECK(complete("plugbox fleet deploy --dr") == "--dry-run\n");
  // The value of an option and a command after -- are file names (bash's default).
  CHECK(complete("plugbox -i ") == "\n");
  CHECK(complete("plugbox fleet exec -- up") == "\n");
  // inventory list takes the global options after its word (fallthrough).
  const std::string list_opts = complete("plugbox inventory list --");
  CHECK(list_opts.find("--json\n") != std::string::npos);
  CHECK(list_opts.find("--inventory\n") != std::string::npos);
}

TEST_CASE("every command is in both completion scripts", "[completion]") {
  const std::string bash = slurp(kBash), zsh = slurp(kZsh);
  for (const CommandDoc* c : all_commands(plugbox_tree())) {
    INFO(c->path);
    CHECK(bash.find("'" + c->name + "'") != std::string::npos);
    CHECK(zsh.find("'" + c->name + ":") != std::string::npos);
  }
}

TEST_CASE("the zsh completion script is valid zsh", "[completion]") {
  if (!have("zsh")) {
    WARN("zsh is not installed: its completion script is not checked");
    return;
  }
  const ShellRun r = run_shell("zsh", "zsh -n " + kZsh);
  INFO(r.out);
  CHECK(r.status == 0);
}
