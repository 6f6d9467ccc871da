// `verify V`: re-checks what can be checked of version V. Until uploads carry
// a manifest (issue 5: `receive`), that is the structure only: the record, the
// chain links, and for a ready version that its tree still has the size
// recorded at seal. The report says plainly that file contents were not
// checked; it never claims more than it did.
#pragma once

#include <string>
#include <vector>

#include "server-tools/layout.h"

namespace plugbox::server {

struct VerifyReport {
  std::string version;
  std::vector<std::string> checked;   // what was checked and found right
  std::vector<std::string> problems;  // what was found wrong
  bool contents_verified = false;     // false until manifests exist
  std::string contents_note;          // why contents were not verified
  bool ok() const { return problems.empty(); }
};

// Refuses (ServerError) an unknown version; runs under the shared oplock.
VerifyReport verify_version(const Layout& layout, const std::string& v);

}  // namespace plugbox::server
