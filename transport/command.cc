#include "transport/command.h"

#include <array>
#include <stdexcept>
#include <string_view>

#include "transport/shell_quote.h"

namespace plugbox::transport {

namespace {

void reject_nul(std::string_view what, std::string_view s) {
  if (s.find('\0') != std::string_view::npos)
    throw std::invalid_argument(std::string(what) + " contains a NUL byte, which no command line can carry");
}

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

// The first word of a simple command is special to the shell in two ways the
// quoting of shell_quote() does not cover: NAME=VALUE makes it an assignment,
// and a reserved word changes the grammar. Quoting it makes it a plain word.
std::string quote_command_word(const std::string& word) {
  static constexpr std::array<std::string_view, 21> reserved = {
      "if",    "then", "else", "elif",     "fi",     "do", "done", "case", "esac", "while", "until",
      "for",   "in",   "!",    "{",        "}",      "[[", "]]",   "time", "select", "coproc"};
  bool special = word.find('=') != std::string::npos;
  for (auto r : reserved)
    if (word == r) special = true;
  if (special && shell_quote(word) == word) return "'" + word + "'";
  return shell_quote(word);
}

}  // namespace

Command Command::argv(std::vector<std::string> words) {
  if (words.empty()) throw std::invalid_argument("a command needs at least one word");
  for (const auto& w : words) reject_nul("command word", w);
  Command c;
  c.words_ = std::move(words);
  return c;
}

Command Command::shell(std::string line) {
  if (line.find_first_not_of(" \t\n") == std::string::npos)
    throw std::invalid_argument("a shell command line cannot be empty");
  reject_nul("command line", line);
  Command c;
  c.shell_ = true;
  c.words_.push_back(std::move(line));
  return c;
}

Command& Command::env(std::string name, std::string value) {
  if (!valid_env_name(name))
    throw std::invalid_argument("environment variable name '" + name +
                                "' is not valid: use letters, digits and '_', not starting with a digit");
  reject_nul("environment variable " + name, value);
  env_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Command& Command::cwd(std::string dir) {
  if (dir.empty()) throw std::invalid_argument("a working directory cannot be empty");
  reject_nul("working directory", dir);
  cwd_ = std::move(dir);
  return *this;
}

std::string Command::render() const {
  std::string out;
  if (!cwd_.empty()) {
    // "./" keeps a leading '-' from reading as an option and keeps CDPATH out
    // of relative paths.
    std::string dir = cwd_;
    if (dir[0] != '/' && dir.rfind("./", 0) != 0 && dir.rfind("../", 0) != 0 && dir != "." && dir != "..")
      dir = "./" + dir;
    out += "cd " + shell_quote(dir) + " || exit; ";
  }
  if (shell_) {
    for (const auto& [name, value] : env_) out += "export " + name + "=" + shell_quote(value) + "; ";
    out += words_[0];
    return out;
  }
  for (const auto& [name, value] : env_) out += name + "=" + shell_quote(value) + " ";
  out += quote_command_word(words_[0]);
  for (size_t i = 1; i < words_.size(); ++i) out += " " + shell_quote(words_[i]);
  return out;
}

}  // namespace plugbox::transport
