#include "tools/docgen/man_page.h"

#include <cctype>

#include "tools/docgen/roff.h"

namespace plugbox::docgen {

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Roff start(const PageHead& head) {
  Roff r(upper(head.name), head.section, head.source, head.section == 1 ? "User Commands" : "File Formats");
  r.section("NAME");
  r.raw(roff_escape(head.name) + " \\- " + roff_escape(head.summary));
  return r;
}

// "-i, --inventory TEXT" in roff: names bold, the value italic.
std::string option_tag(const OptionDoc& o) {
  std::string tag;
  for (const auto& n : o.names) tag += (tag.empty() ? "" : ", ") + (o.positional ? italic(n) : bold(n));
  if (!o.value.empty() && !o.positional) tag += " " + italic(o.value);
  return tag;
}

void write_options(Roff& r, const std::vector<OptionDoc>& options, bool with_help) {
  for (const auto& o : options)
    if (with_help || !o.is_help) r.tagged(option_tag(o), o.help);
}

// The usage line of a command: its path, [options], its positionals, COMMAND.
std::string usage(const CommandDoc& c) {
  std::string u = bold(c.path);
  bool has_options = false;
  for (const auto& o : c.options) has_options |= !o.is_help;
  if (has_options) u += " [" + italic("OPTIONS") + "]";
  for (const auto& p : c.positionals) u += " [" + italic(p.names.at(0)) + " ...]";
  if (!c.subcommands.empty()) u += " " + italic("COMMAND");
  return u;
}

void write_section(Roff& r, const Section& s) {
  r.section(s.title);
  for (const auto& p : s.paragraphs) r.paragraph(p);
  for (const auto& i : s.items) r.tagged(bold(i.tag), i.text);
  if (!s.example.empty()) r.example(s.example);
}

// The text before a command's list of subcommands or its options.
void write_help(Roff& r, const std::string& help) {
  r.paragraph(help);
}

}  // namespace

std::string command_page(const PageHead& head, const std::vector<std::string>& description, const CommandDoc& root,
                         const std::vector<Section>& after) {
  Roff r = start(head);
  r.section("SYNOPSIS");
  r.raw(usage(root) + " ...");
  r.section("DESCRIPTION");
  for (const auto& p : description) r.paragraph(p);
  if (const auto nl = root.help.find('\n'); nl != std::string::npos) write_help(r, root.help.substr(nl + 1));
  r.paragraph("Commands:");
  for (const CommandDoc* c : all_commands(root))
    if (c->subcommands.empty()) r.tagged(bold(c->path.substr(root.path.size() + 1)), first_line(c->help));
  r.paragraph(root.footer);
  r.section("OPTIONS");
  write_options(r, root.options, true);
  r.section("COMMANDS");
  for (const CommandDoc* c : all_commands(root)) {
    r.subsection(c->path);
    r.raw(".PP");
    r.raw(usage(*c));
    write_help(r, c->help);
    write_options(r, c->positionals, false);
    write_options(r, c->options, false);
  }
  for (const auto& s : after) write_section(r, s);
  return r.str();
}

std::string config_page(const PageHead& head, const std::string& synopsis, const std::string& description,
                        const std::vector<KeyTable>& tables, const std::vector<Section>& after) {
  Roff r = start(head);
  r.section("SYNOPSIS");
  r.example(synopsis);
  r.section("DESCRIPTION");
  r.paragraph(description);
  r.section("KEYS");
  for (const auto& t : tables) {
    r.subsection(t.title);
    r.paragraph(t.intro);
    for (const auto& k : *t.keys) {
      std::string body = k.description;
      body += std::string("\nType: ") + k.type + ".";
      if (*k.default_text) body += std::string(" Default: ") + k.default_text + ".";
      r.tagged(bold(k.name), body);
    }
  }
  for (const auto& s : after) write_section(r, s);
  return r.str();
}

}  // namespace plugbox::docgen
