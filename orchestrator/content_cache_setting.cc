#include "orchestrator/content_cache_setting.h"

#include <charconv>
#include <string_view>

namespace plugbox::orchestrator {

std::optional<CacheSetting> parse_cache_setting(const char* cache_mb, const char* xdg_cache_home, const char* home,
                                                std::string* why) {
  CacheSetting s;
  std::uint64_t mb = kDefaultCacheMb;
  if (cache_mb) {
    const std::string_view v(cache_mb);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), mb);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || mb > (1u << 20)) {
      *why = "PLUGBOX_CACHE_MB='" + std::string(v) +
             "' is not a size: give megabytes, 0 to 1048576 (0 turns the content cache off; unset means " +
             std::to_string(kDefaultCacheMb) + ")";
      return std::nullopt;
    }
  }
  s.max_bytes = mb << 20;
  if (xdg_cache_home && *xdg_cache_home) s.dir = std::filesystem::path(xdg_cache_home) / "plugbox" / "contents";
  else s.dir = std::filesystem::path(home && *home ? home : "/tmp") / ".cache" / "plugbox" / "contents";
  return s;
}

}  // namespace plugbox::orchestrator
