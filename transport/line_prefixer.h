// Output of many hosts on one terminal: streamed bytes are cut into lines and
// each line is written with its host's name in front ("web01 | text"),
// names padded to one width and coloured when the output is a terminal. A
// host's partial line waits for its newline (or finish()), so lines of
// different hosts never interleave mid-line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::transport {

class LinePrefixer {
 public:
  // `write(is_err, text)` receives whole prefixed lines, newline included.
  LinePrefixer(std::vector<std::string> hosts, bool color,
               std::function<void(bool is_err, std::string_view text)> write);

  void feed(size_t host, bool is_err, std::string_view data);
  // Writes what is left of the host's partial lines, with a newline added.
  void finish(size_t host);

  // "web01 | " (padded, coloured when enabled).
  const std::string& prefix(size_t host) const { return prefixes_[host]; }

 private:
  void emit(size_t host, bool is_err, std::string_view line);

  std::vector<std::string> prefixes_;
  std::vector<std::string> partial_[2];  // per stream, per host
  std::function<void(bool, std::string_view)> write_;
};

}  // namespace plugbox::transport
