#include "tools/docgen/cli_tree.h"

#include <CLI/CLI.hpp>

namespace plugbox::docgen {

namespace {

OptionDoc describe_option(const CLI::Option& o, const CLI::App& app) {
  OptionDoc d;
  d.positional = !o.nonpositional();
  if (d.positional) {
    d.names.push_back(o.get_name(true));
  } else {
    for (const auto& s : o.get_snames()) d.names.push_back("-" + s);
    for (const auto& l : o.get_lnames()) d.names.push_back("--" + l);
  }
  d.help = o.get_description();
  if (o.get_type_size_max() > 0) {
    // CLI11 writes "INT:INT in [1 - 100000]": the value's kind, then what
    // its validators require.
    const std::string type = o.get_type_name();
    const auto colon = type.find(':');
    d.value = type.substr(0, colon);
    if (colon != std::string::npos) d.help += " (" + type.substr(colon + 1) + ")";
  }
  d.is_help = &o == app.get_help_ptr() || &o == app.get_help_all_ptr();
  return d;
}

CommandDoc describe_at(const CLI::App& app, const std::string& name, const std::string& path) {
  CommandDoc c;
  c.name = name;
  c.path = path;
  c.help = app.get_description();
  c.footer = app.get_footer();
  c.needs_subcommand = app.get_require_subcommand_min() > 0;
  c.fallthrough = app.get_fallthrough();
  // Hidden options and commands (an empty group) are not documented.
  for (const CLI::Option* o : app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); })) {
    OptionDoc d = describe_option(*o, app);
    (d.positional ? c.positionals : c.options).push_back(std::move(d));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    c.subcommands.push_back(describe_at(*sub, sub->get_name(), path + " " + sub->get_name()));
  return c;
}

void collect(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  for (const auto& s : c.subcommands) {
    out.push_back(&s);
    collect(s, out);
  }
}

}  // namespace

CommandDoc describe(const CLI::App& app, const std::string& program) { return describe_at(app, program, program); }

std::vector<const CommandDoc*> all_commands(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  collect(root, out);
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace plugbox::docgen
