#include "server-tools/server_cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "base/build_info.h"
#include "base/suggest.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/server_app.h"
#include "upload/common/stream_format.h"

namespace plugbox::server {

std::optional<std::string> process_env(const std::string& name) {
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  return std::nullopt;
}

namespace {

// Global options that take a value (for finding the command word before parsing).
const std::vector<std::string> valued_globals = {"--home", "--owner", "--wait"};

// The first word that is not an option (or an option's value), if any.
std::optional<std::string> command_word(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return std::nullopt;
    if (!a.starts_with("-")) return a;
    if (std::find(valued_globals.begin(), valued_globals.end(), a) != valued_globals.end()) ++i;
  }
  return std::nullopt;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int run_server_cli(const std::vector<std::string>& args, CliEnv& env) {
  // Only before any command word: `remove --version V` names a version.
  if (!command_word(args) && std::find(args.begin(), args.end(), "--version") != args.end()) {
    env.out << base::version_text("plugbox-server", upload::kProtocolVersion);
    return 0;
  }
  const std::vector<std::unique_ptr<CliCommand>> commands = server_commands();
  std::vector<std::string> names;
  for (const auto& c : commands) names.push_back(c->name());
  if (auto word = command_word(args); word && std::find(names.begin(), names.end(), *word) == names.end()) {
    std::string hint = base::closest_match(*word, names);
    env.err << "plugbox-server: unknown command '" << *word << "'"
            << (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)")
            << "; `plugbox-server --help` lists the commands\n";
    return static_cast<int>(ExitStatus::bad_input);
  }

  CLI::App app;
  ServerGlobalOptions global;
  build_server_app(app, global, commands);

  std::vector<std::string> argv_store;
  argv_store.push_back("plugbox-server");
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    env.out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    env.out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string sub;
    for (auto* s : app.get_subcommands()) sub = " " + s->get_name();
    env.err << "plugbox-server: " << one_line(e.what()) << "; see `plugbox-server" << sub
            << " --help`\n";
    return static_cast<int>(ExitStatus::bad_input);
  }

  const std::string cmd_name = app.get_subcommands().at(0)->get_name();
  CliCommand& cmd = **std::find_if(commands.begin(), commands.end(),
                                   [&](const auto& c) { return c->name() == cmd_name; });
  try {
    // Every argument is checked before the disk is looked at.
    std::string owner = global.owner;
    if (app.count("--owner") == 0) owner = env.getenv("PLUGBOX_LOCK_OWNER").value_or("");
    if (!owner.empty() || app.count("--owner"))
      if (auto p = owner_problem(owner)) bad_input("--owner: " + *p);
    // The range check lets nan through (every comparison with it is false).
    if (!std::isfinite(global.wait_s)) bad_input("--wait: not a number of seconds: give 0 to 86400");
    const LockRequest req{owner, std::chrono::milliseconds(std::llround(global.wait_s * 1000))};
    cmd.check_args(owner);

    // An empty --home (a variable that expanded to nothing) must not quietly
    // mean $HOME: that is some other home.
    if (app.count("--home") && global.home.empty())
      bad_input("--home is empty: pass the service home, e.g. --home /srv/shop (or leave --home out to use $HOME)");
    std::string home = global.home;
    if (home.empty()) home = env.getenv("HOME").value_or("");
    if (home.empty()) bad_input("no home: pass --home DIR or set HOME");
    const Layout layout(home);
    const Actor actor = Actor::of_this_process(owner);
    return cmd.run(CommandContext{layout, req, actor, env});
  } catch (const ServerError& e) {
    env.err << "plugbox-server " << cmd_name << ": " << one_line(e.what()) << "\n";
    return static_cast<int>(e.status());
  } catch (const std::exception& e) {
    env.err << "plugbox-server " << cmd_name << ": unexpected error: " << one_line(e.what()) << "\n";
    return static_cast<int>(ExitStatus::refused);
  }
}

}  // namespace plugbox::server
