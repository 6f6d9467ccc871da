// One key of a configuration file (plugbox.toml, inventory.toml) as its
// reader accepts it and its section-5 man page describes it. Each reader
// builds its known-key list from the same rows the page is generated from,
// so a key cannot be accepted and undocumented, or documented and refused.
#pragma once

#include <string>
#include <vector>

namespace plugbox::base {

struct ConfigKey {
  const char* name;
  const char* type;          // as a user writes it: "string", "array of strings", "integer", ...
  const char* default_text;  // "" when the key is required or has no default
  const char* description;   // one paragraph, plain text
};

inline std::vector<std::string> key_names(const std::vector<ConfigKey>& keys) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const auto& k : keys) names.emplace_back(k.name);
  return names;
}

}  // namespace plugbox::base
