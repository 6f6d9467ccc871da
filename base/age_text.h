// How long something has been so, for people: "45s", "12m", "2h13m", "3d4h".
// Shared by plugbox-server (a refusal by a maintenance lock) and plugbox
// (`fleet status`), so both say a lock's age the same way.
#pragma once

#include <string>

namespace plugbox::base {

// Two units at most, truncated; a negative age is "0s".
std::string age_text(long long seconds);

}  // namespace plugbox::base
