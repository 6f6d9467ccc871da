// Where the client keeps the contents it deployed (upload::ContentCache) and
// how big it may grow: PLUGBOX_CACHE_MB (default 1024; 0 turns patches off),
// in $XDG_CACHE_HOME/plugbox/contents (else ~/.cache/plugbox/contents).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace plugbox::orchestrator {

struct CacheSetting {
  std::filesystem::path dir;
  std::uint64_t max_bytes = 0;  // 0: no cache, every content goes whole
};

inline constexpr std::uint64_t kDefaultCacheMb = 1024;

// From the two variables' values (nullptr: unset). nullopt and *why (one
// line naming the variable and the fix) when PLUGBOX_CACHE_MB is not a
// number of MB.
std::optional<CacheSetting> parse_cache_setting(const char* cache_mb, const char* xdg_cache_home, const char* home,
                                                std::string* why);

}  // namespace plugbox::orchestrator
