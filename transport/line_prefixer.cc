#include "transport/line_prefixer.h"

#include <algorithm>

namespace plugbox::transport {

LinePrefixer::LinePrefixer(std::vector<std::string> hosts, bool color,
                           std::function<void(bool, std::string_view)> write)
    : write_(std::move(write)) {
  size_t width = 0;
  for (const auto& h : hosts) width = std::max(width, h.size());
  // Six distinguishable colours, cycled: red is left out, it reads as an error.
  static const char* palette[] = {"\033[36m", "\033[32m", "\033[33m", "\033[35m", "\033[34m", "\033[96m"};
  for (size_t i = 0; i < hosts.size(); ++i) {
    std::string name = hosts[i] + std::string(width - hosts[i].size(), ' ');
    prefixes_.push_back(color ? std::string(palette[i % 6]) + name + "\033[0m | " : name + " | ");
  }
  partial_[0].resize(hosts.size());
  partial_[1].resize(hosts.size());
}

void LinePrefixer::emit(size_t host, bool is_err, std::string_view line) {
  std::string out = prefixes_[host];
  out.append(line);
  out += '\n';
  write_(is_err, out);
}

void LinePrefixer::feed(size_t host, bool is_err, std::string_view data) {
  std::string& partial = partial_[is_err][host];
  for (;;) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;
    if (partial.empty()) {
      emit(host, is_err, data.substr(0, nl));
    } else {
      partial.append(data.substr(0, nl));
      emit(host, is_err, partial);
      partial.clear();
    }
    data.remove_prefix(nl + 1);
  }
  partial.append(data);
}

void LinePrefixer::finish(size_t host) {
  for (bool is_err : {false, true}) {
    std::string& partial = partial_[is_err][host];
    if (partial.empty()) continue;
    emit(host, is_err, partial);
    partial.clear();
  }
}

}  // namespace plugbox::transport
