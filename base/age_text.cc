#include "base/age_text.h"

namespace plugbox::base {

std::string age_text(long long seconds) {
  const long long s = seconds < 0 ? 0 : seconds;
  const long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  if (d > 0) return std::to_string(d) + "d" + std::to_string(h) + "h";
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m";
  if (m > 0) return std::to_string(m) + "m";
  return std::to_string(s) + "s";
}

}  // namespace plugbox::base
