#include "inventory/ssh_config.h"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace plugbox::inventory {
namespace {

// OpenSSH refuses deeper nesting the same way (READCONF_MAX_DEPTH).
constexpr int kMaxIncludeDepth = 16;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// OpenSSH's match_pattern: '*' and '?' wildcards, case-sensitive.
bool glob_match(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// OpenSSH's match_pattern_list: a comma list where a matching "!pattern"
// vetoes the whole list.
bool match_list(std::string_view s, std::string_view list, bool fold_case) {
  const std::string subject = fold_case ? lower(s) : std::string(s);
  bool positive = false;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string item(list.substr(start, comma - start));
    start = comma + 1;
    if (fold_case) item = lower(item);
    const bool negated = !item.empty() && item[0] == '!';
    if (negated) item.erase(0, 1);
    if (glob_match(subject, item)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

// Splits the rest of a line like OpenSSH's argv_split: whitespace separates,
// double or single quotes group, a backslash escapes, an unquoted '#' at the
// start of a word ends the line.
std::vector<std::string> split_args(std::string_view s, const SshConfigPos& pos) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size() || s[i] == '#') break;
    std::string word;
    char quote = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == '"' || s[i + 1] == '\'' ||
                                            (!quote && std::isspace(static_cast<unsigned char>(s[i + 1]))))) {
        word.push_back(s[++i]);
      } else if (quote) {
        if (c == quote) quote = 0;
        else word.push_back(c);
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        break;
      } else {
        word.push_back(c);
      }
    }
    if (quote) throw SshConfigError(pos, "unterminated quote: close it or remove it");
    out.push_back(std::move(word));
  }
  return out;
}

bool parse_port(std::string_view s, int* port) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *port = std::stoi(std::string(s));
  return *port >= 1 && *port <= 65535;
}

// One hop: [user@]host[:port] or [user@][v6addr]:port.
bool parse_hop(std::string_view s, SshJumpHop* hop) {
  if (s.rfind("ssh://", 0) == 0) s.remove_prefix(6);
  if (auto at = s.rfind('@'); at != std::string_view::npos) {
    hop->user = std::string(s.substr(0, at));
    if (hop->user.empty()) return false;
    s.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    hop->host = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    if (!s.empty()) {
      if (s[0] != ':') return false;
      port = s.substr(1);
      if (port.empty()) return false;
    }
  } else {
    const auto colon = s.find(':');
    hop->host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = s.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (hop->host.empty()) return false;
  return port.empty() || parse_port(port, &hop->port);
}

// OpenSSH's percent_expand over the tokens given; others are refused, naming the line.
std::string percent_expand(std::string_view s, const std::vector<std::pair<char, std::string>>& tokens,
                           const SshConfigPos& pos, std::string_view keyword) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 1 == s.size()) throw SshConfigError(pos, fmt::format("{} ends in a lone '%': write '%%' for a percent sign", keyword));
    const char t = s[++i];
    if (t == '%') {
      out.push_back('%');
      continue;
    }
    auto it = std::find_if(tokens.begin(), tokens.end(), [t](const auto& p) { return p.first == t; });
    if (it == tokens.end()) {
      std::string known;
      for (const auto& [c, v] : tokens) known += fmt::format(" %{}", c);
      throw SshConfigError(pos, fmt::format("plugbox does not support '%{}' in {}: use one of{} %% or write the value out",
                                            t, keyword, known));
    }
    out += it->second;
  }
  return out;
}

}  // namespace

std::string SshHostConfig::address() const { return lower(hostname ? hostname->value : host); }

std::string to_string(const std::vector<SshJumpHop>& hops) {
  std::string out;
  for (const auto& h : hops) {
    if (!out.empty()) out += ",";
    if (!h.user.empty()) out += h.user + "@";
    out += h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
    if (h.port) out += ":" + std::to_string(h.port);
  }
  return out;
}

struct SshConfig::State {
  std::string host;  // the name asked for (OpenSSH's original host)
  SshHostConfig out;
  bool active = true;
};

SshConfig SshConfig::load(const std::filesystem::path& file, const SshConfigEnv& env) {
  SshConfig c;
  c.env_ = env;
  c.read_file(file, 0, nullptr);
  return c;
}

size_t SshConfig::read_file(const std::filesystem::path& path, int depth, const SshConfigPos* from) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    const std::string why = fmt::format("cannot read ssh config {}: {}", path.string(), std::strerror(err));
    if (from) throw SshConfigError(*from, why);
    throw SshConfigError(SshConfigPos{path.string(), 0}, why);
  }
  const size_t index = files_.size();
  files_.push_back(File{path.string(), {}});
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    const SshConfigPos pos{path.string(), number};
    std::string_view s = text;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    if (s.empty() || s[0] == '#') continue;
    // "Key value", "Key=value", "Key = value".
    size_t end = 0;
    while (end < s.size() && s[end] != '=' && !std::isspace(static_cast<unsigned char>(s[end]))) ++end;
    Line line;
    line.keyword = lower(s.substr(0, end));
    line.number = number;
    s.remove_prefix(end);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    if (!s.empty() && s[0] == '=') s.remove_prefix(1);
    line.args = split_args(s, pos);
    if (line.keyword == "include") {
      if (depth >= kMaxIncludeDepth)
        throw SshConfigError(pos, "too many nested Includes (an Include loop?): remove the loop");
      if (line.args.empty()) throw SshConfigError(pos, "Include needs a file name");
      for (const auto& arg : line.args) {
        // As OpenSSH does for a user config: relative names are under ~/.ssh.
        std::string pattern = arg;
        if (pattern == "~" || pattern.rfind("~/", 0) == 0) pattern = env_.home + pattern.substr(1);
        else if (pattern[0] == '~')
          throw SshConfigError(pos, fmt::format("Include '{}': only '~' and '~/' are expanded; write the full path", arg));
        else if (pattern[0] != '/') pattern = env_.home + "/.ssh/" + pattern;
        glob_t g{};
        const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
        std::vector<std::string> found;
        if (rc == 0)
          for (size_t i = 0; i < g.gl_pathc; ++i) found.emplace_back(g.gl_pathv[i]);
        globfree(&g);
        if (rc != 0 && rc != GLOB_NOMATCH)
          throw SshConfigError(pos, fmt::format("Include '{}': cannot list the matching files", arg));
        // A pattern matching nothing is not an error, as in OpenSSH.
        for (const auto& f : found) line.includes.push_back(read_file(f, depth + 1, &pos));
      }
    }
    files_[index].lines.push_back(std::move(line));
  }
  return index;
}

bool SshConfig::match_line(const Line& l, const File& f, State& st) const {
  const SshConfigPos pos{f.path, l.number};
  if (l.args.empty()) throw SshConfigError(pos, "Match needs criteria: e.g. 'Match host NAME' or 'Match all'");
  // Match host sees HostName once it is set (%h replaced), as in OpenSSH.
  const std::string host = st.out.hostname ? st.out.hostname->value : st.host;
  const std::string user = st.out.user ? st.out.user->value : env_.local_user;
  bool result = true;
  for (size_t i = 0; i < l.args.size(); ++i) {
    std::string attr = lower(l.args[i]);
    const bool negate = !attr.empty() && attr[0] == '!';
    if (negate) attr.erase(0, 1);
    if (attr == "all") {
      if (l.args.size() != 1)
        throw SshConfigError(pos, "'Match all' cannot be combined with other criteria: remove them or 'all'");
      result = !negate;
      continue;
    }
    if (attr == "exec" || attr == "canonical" || attr == "final")
      throw SshConfigError(pos, fmt::format("plugbox does not support 'Match {}': use Match host, originalhost, user, "
                                            "localuser or all, or set this host's values in the inventory",
                                            attr));
    if (attr != "host" && attr != "originalhost" && attr != "user" && attr != "localuser")
      throw SshConfigError(pos, fmt::format("unknown Match criterion '{}': use host, originalhost, user, localuser "
                                            "or all",
                                            l.args[i]));
    if (i + 1 >= l.args.size())
      throw SshConfigError(pos, fmt::format("'Match {}' needs a pattern list after it", attr));
    const std::string& arg = l.args[++i];
    bool m = false;
    if (attr == "host") m = match_list(host, arg, true);
    else if (attr == "originalhost") m = match_list(st.host, arg, true);
    else if (attr == "user") m = match_list(user, arg, false);
    else m = match_list(env_.local_user, arg, false);
    if (m == negate) result = false;  // later criteria are still checked, as OpenSSH does
  }
  return result;
}

void SshConfig::walk(size_t file, State& st, bool never_match) const {
  const File& f = files_[file];
  for (const Line& l : f.lines) {
    const SshConfigPos pos{f.path, l.number};
    const std::string& k = l.keyword;
    auto need_arg = [&](std::string_view name) -> const std::string& {
      if (l.args.empty()) throw SshConfigError(pos, fmt::format("{} needs a value", name));
      return l.args[0];
    };
    if (k == "host") {
      bool any = false, vetoed = false;
      for (const auto& a : l.args) {
        const bool negated = !a.empty() && a[0] == '!';
        if (!glob_match(st.host, negated ? std::string_view(a).substr(1) : std::string_view(a))) continue;
        if (negated) vetoed = true;
        else any = true;
      }
      st.active = !never_match && any && !vetoed;
    } else if (k == "match") {
      const bool m = match_line(l, f, st);
      st.active = !never_match && m;
    } else if (k == "include") {
      const bool outer = st.active;
      for (size_t inc : l.includes) walk(inc, st, never_match || !outer);
      st.active = outer;
    } else if (k == "port") {
      // Checked even where inactive, as OpenSSH does: a typo fails for every host.
      int port = 0;
      if (!parse_port(need_arg("Port"), &port))
        throw SshConfigError(pos, fmt::format("bad Port '{}': use a number from 1 to 65535", l.args[0]));
      if (st.active && !st.out.port) st.out.port = SshSetting{std::to_string(port), pos};
    } else if (!st.active) {
      continue;
    } else if (k == "hostname") {
      if (!st.out.hostname)
        st.out.hostname = SshSetting{percent_expand(need_arg("HostName"), {{'h', st.host}}, pos, "HostName"), pos};
    } else if (k == "user") {
      if (!st.out.user) st.out.user = SshSetting{need_arg("User"), pos};
    } else if (k == "identityfile") {
      const std::string& v = need_arg("IdentityFile");
      auto& ids = st.out.identity_files;
      if (std::none_of(ids.begin(), ids.end(), [&](const SshSetting& s) { return s.value == v; }))
        ids.push_back(SshSetting{v, pos});
    } else if (k == "userknownhostsfile") {
      if (!st.out.known_hosts) st.out.known_hosts = SshSetting{need_arg("UserKnownHostsFile"), pos};
    } else if (k == "proxyjump") {
      if (st.out.proxy_jump) continue;
      const std::string& v = need_arg("ProxyJump");
      std::vector<SshJumpHop> hops;
      if (lower(v) != "none") {
        size_t start = 0;
        while (start <= v.size()) {
          size_t comma = v.find(',', start);
          if (comma == std::string::npos) comma = v.size();
          SshJumpHop hop;
          if (!parse_hop(std::string_view(v).substr(start, comma - start), &hop))
            throw SshConfigError(pos, fmt::format("bad ProxyJump '{}': write [user@]host[:port], several separated "
                                                  "by commas, or none",
                                                  v));
          hops.push_back(std::move(hop));
          start = comma + 1;
        }
      }
      st.out.proxy_jump = SshSetting{v, pos};
      st.out.jumps = std::move(hops);
    } else if (k == "proxycommand") {
      if (lower(need_arg("ProxyCommand")) == "none" || st.out.proxy_jump) continue;
      throw SshConfigError(pos, fmt::format("plugbox does not support ProxyCommand (for host '{}'): use ProxyJump, "
                                            "or set the host's jump in the inventory",
                                            st.host));
    }
  }
}

SshHostConfig SshConfig::resolve(std::string_view host) const {
  State st;
  st.host = std::string(host);
  st.out.host = st.host;
  walk(0, st, false);
  return st.out;
}

std::string SshConfig::expand_path(const SshSetting& path, const SshHostConfig& host, const std::string& remote_user,
                                   int port) const {
  std::string v = path.value;
  if (v == "~" || v.rfind("~/", 0) == 0) v = env_.home + v.substr(1);
  else if (!v.empty() && v[0] == '~')
    throw SshConfigError(path.pos, fmt::format("'{}': only '~' and '~/' are expanded; write the full path", v));
  return percent_expand(v,
                        {{'d', env_.home},
                         {'u', env_.local_user},
                         {'h', host.address()},
                         {'r', remote_user},
                         {'p', std::to_string(port)},
                         {'n', host.host}},
                        path.pos, "a path");
}

}  // namespace plugbox::inventory
