// plugbox: the client. Parses the command line that cli_app.h assembles
// (CLI11) and turns what parsing throws into messages and exit statuses.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "base/suggest.h"
#include "orchestrator/cli_app.h"

namespace {

// CLI11 2.1 has no suggestions: for the first positional word that is not a
// subcommand of the level it appears at, name the closest one.
std::string did_you_mean(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") break;
    if (word.rfind('-', 0) == 0) {
      // An option's value is not a command word: `-i inventory.toml fleet deplo`.
      if (word.find('=') == std::string::npos)
        for (const CLI::App* l = level; l; l = l->get_parent())
          if (const CLI::Option* o = l->get_option_no_throw(word)) {
            if (o->get_type_size_min() > 0) ++i;
            break;
          }
      continue;
    }
    auto subs = level->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) break;
    const CLI::App* found = nullptr;
    for (const auto* s : subs)
      if (s->get_name() == word) found = s;
    if (found) {
      level = found;
      continue;
    }
    std::vector<std::string> names;
    for (const auto* s : subs) names.push_back(s->get_name());
    const std::string best = plugbox::base::closest_match(word, names);
    std::string where = level == &app ? "plugbox" : "plugbox " + level->get_name();
    if (!best.empty())
      return "'" + word + "' is not a " + where + " command; did you mean '" + best + "'?";
    return "";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  plugbox::cli::GlobalOptions opts;
  plugbox::cli::build_app(app, opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own status; it printed its messages
  } catch (const CLI::ParseError& e) {
    std::string hint = did_you_mean(app, argc, argv);
    std::cerr << "plugbox: " << (hint.empty() ? e.what() : hint) << "\n";
    return plugbox::orchestrator::code(plugbox::orchestrator::ExitStatus::bad_input);
  } catch (const std::exception& e) {
    // Whatever ran may have changed hosts: say so rather than claim a clean state.
    std::cerr << "plugbox: internal error: " << e.what()
              << "\nplugbox: hosts may be mid-change: check `plugbox fleet status` and the run journal\n";
    return plugbox::orchestrator::code(plugbox::orchestrator::ExitStatus::incomplete);
  }
  return plugbox::orchestrator::code(plugbox::orchestrator::ExitStatus::ok);
}
