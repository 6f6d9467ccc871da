// The part of OpenSSH's client configuration (ssh_config(5)) plugbox uses to
// reach a host: HostName, User, Port, IdentityFile, UserKnownHostsFile and
// ProxyJump, with Host patterns, Match (host, originalhost, user, localuser,
// all) and Include, and where each value was written.
//
// A small resolver of our own: libssh's parser keeps no file:line, silently
// differs from OpenSSH (Match, Include order) and turns ProxyJump into a forked
// OpenSSH client; no well-kept library parses ssh_config with provenance.
// The rules follow OpenSSH 9.2's readconf.c; tests compare with `ssh -G`.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::inventory {

struct SshConfigPos {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

// One line the config could not be used for: "FILE:LINE: message" (the
// message says what to change).
class SshConfigError : public std::runtime_error {
 public:
  SshConfigError(SshConfigPos pos, const std::string& message)
      : std::runtime_error(pos.str() + ": " + message), pos_(std::move(pos)), message_(message) {}
  const SshConfigPos& pos() const { return pos_; }
  const std::string& message() const { return message_; }

 private:
  SshConfigPos pos_;
  std::string message_;
};

struct SshSetting {
  std::string value;  // as written (HostName with %h replaced)
  SshConfigPos pos;
};

// One hop of a ProxyJump list: [user@]host[:port].
struct SshJumpHop {
  std::string user;  // empty: not given
  std::string host;
  int port = 0;      // 0: not given
  bool operator==(const SshJumpHop&) const = default;
};

// What the config says about one host; every value is the first one obtained,
// as in OpenSSH. Unset values are empty (OpenSSH's defaults are not applied).
struct SshHostConfig {
  std::string host;                       // the name asked for
  std::optional<SshSetting> hostname;
  std::optional<SshSetting> user;
  std::optional<SshSetting> port;         // checked: 1-65535
  std::vector<SshSetting> identity_files; // as written, duplicates dropped, in order
  std::optional<SshSetting> known_hosts;  // UserKnownHostsFile's first file, as written
  std::optional<SshSetting> proxy_jump;   // as written; "none" when the config says so
  std::vector<SshJumpHop> jumps;          // proxy_jump parsed, outermost first; empty for none

  // The address ssh connects to: HostName (lowercased, as ssh does), else the name.
  std::string address() const;
};

struct SshConfigEnv {
  std::string home;        // the local user's home: "~", "%d", relative Includes (~/.ssh)
  std::string local_user;  // "%u", Match localuser, and Match user when User is not set yet
};

class SshConfig {
 public:
  // Reads `file` and the files it includes. Throws SshConfigError for a file
  // that cannot be read and for lines that cannot be tokenized.
  static SshConfig load(const std::filesystem::path& file, const SshConfigEnv& env);

  // Throws SshConfigError (file:line) for what plugbox does not support on
  // the way (ProxyCommand, Match exec/canonical/final, an unknown Match
  // criterion, a bad Port or ProxyJump).
  SshHostConfig resolve(std::string_view host) const;

  // IdentityFile / UserKnownHostsFile expanded as ssh does: "~" and %d %u %h
  // %r %p %n %%; `remote_user` and `port` are the values the connection uses.
  std::string expand_path(const SshSetting& path, const SshHostConfig& host, const std::string& remote_user,
                          int port) const;

  const std::string& file() const { return files_.front().path; }

 private:
  struct Line {
    std::string keyword;  // lowercased
    std::vector<std::string> args;
    int number = 0;
    std::vector<size_t> includes;  // files read by an Include line
  };
  struct File {
    std::string path;
    std::vector<Line> lines;
  };
  struct State;

  size_t read_file(const std::filesystem::path& path, int depth, const SshConfigPos* from);
  void walk(size_t file, State& st, bool never_match) const;
  bool match_line(const Line& l, const File& f, State& st) const;

  SshConfigEnv env_;
  std::vector<File> files_;  // [0] is the top file
};

// "user@host:port" for one hop; "a,b" for a list.
std::string to_string(const std::vector<SshJumpHop>& hops);

}  // namespace plugbox::inventory
