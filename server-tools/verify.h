// `verify V`: re-checks version V: the record, the chain links, for a ready
// version that its tree still has the size recorded at seal, and, when V was
// uploaded with `receive`, every file against its manifest (type, mode, size,
// SHA-256, link targets, nothing added). Without a manifest the report says
// plainly that file contents were not checked; it never claims more than it did.
#pragma once

#include <string>
#include <vector>

#include "server-tools/layout.h"

namespace plugbox::server {

struct VerifyReport {
  std::string version;
  std::vector<std::string> checked;   // what was checked and found right
  std::vector<std::string> problems;  // what was found wrong
  bool contents_verified = false;     // true when checked against the upload manifest
  std::string contents_note;          // what was (or why nothing was) checked of the contents
  bool ok() const { return problems.empty(); }
};

// Refuses (ServerError) an unknown version; runs under the shared oplock.
VerifyReport verify_version(const Layout& layout, const std::string& v);

}  // namespace plugbox::server
