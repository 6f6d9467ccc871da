// A remote (or local) command as a value: either an argv whose every word is
// quoted, or a shell line the operator wrote (deployfile commands), plus
// environment variables and a working directory. render() is the one POSIX
// shell line that runs it; transports hand exactly that string to `sh -c`
// (local) or to the SSH server's exec request (which runs the login shell with
// -c). Nothing else ever builds a command line.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace plugbox::transport {

class Command {
 public:
  // Each word is passed through quoting: `Command::argv({"rm", "-rf", dir})`
  // removes exactly `dir`, whatever it contains. Throws std::invalid_argument
  // for an empty argv or a word holding a NUL byte.
  static Command argv(std::vector<std::string> words);
  // A line the operator wrote, run as written (pipes, globs and all). Throws
  // std::invalid_argument when empty or holding a NUL byte.
  static Command shell(std::string line);

  // Adds NAME=VALUE to the command's environment. Throws std::invalid_argument
  // for a name that is not [A-Za-z_][A-Za-z0-9_]* or a value holding NUL.
  Command& env(std::string name, std::string value);
  // The directory the command runs in (relative to the login directory when
  // relative). Throws std::invalid_argument when empty or holding NUL.
  Command& cwd(std::string dir);

  // The shell line, e.g. "cd /srv/shop || exit; PLUGBOX_VERSION=V ./bin/migrate --check".
  std::string render() const;

  bool is_shell() const { return shell_; }
  const std::vector<std::string>& words() const { return words_; }  // argv, or {line}
  const std::vector<std::pair<std::string, std::string>>& environment() const { return env_; }
  const std::string& directory() const { return cwd_; }

  bool operator==(const Command&) const = default;

 private:
  Command() = default;
  bool shell_ = false;
  std::vector<std::string> words_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::string cwd_;
};

}  // namespace plugbox::transport
