// `init`: creates the layout of docs/DESIGN.md §2 where parts are missing. Idempotent:
// on a complete layout it changes nothing and takes no lock, so a deploy can
// run it while another owner holds the deploy lock (it then fails at `lock`,
// where the holder is named).
#pragma once

#include <string>
#include <vector>

#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"

namespace plugbox::server {

struct InitResult {
  std::vector<std::string> created;  // paths made, relative to the home ("deploy/.plugbox/log")
};

// The parts of the layout that are missing (relative to the home).
std::vector<std::string> missing_layout_parts(const Layout& layout);

// Throws bad_input (nothing changed) when init_problem() finds something in
// the way; refuses like any mutating command when the deploy lock is held by
// another owner and there is something to create.
InitResult init_layout(const Layout& layout, const LockRequest& req, const Actor& actor);

}  // namespace plugbox::server
