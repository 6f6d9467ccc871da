#include "base/lock_message.h"

namespace plugbox::base {

std::optional<std::string> lock_message_problem(const std::string& message) {
  if (message.find_first_not_of(" \t") == std::string::npos)
    return std::string(
        "the lock message is empty: say why the hosts are locked, e.g. --message 'db migration until 18:00'");
  if (message.size() > 500) return std::string("the lock message is longer than 500 bytes: shorten it");
  for (unsigned char c : message)
    if (c < 0x20 || c == 0x7f)
      return std::string("the lock message holds a control character: keep it to one line");
  return std::nullopt;
}

}  // namespace plugbox::base
