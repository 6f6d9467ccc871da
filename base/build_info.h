// What a binary says of itself with --version: the release, the commit it
// was built from, and the host protocols it speaks. Both binaries print the
// same lines, so an operator can tell at a glance whether a client and the
// servers on its hosts belong together.
#pragma once

#include <string>

namespace plugbox::base {

// The release version: the CMake project's VERSION ("0.1.0").
const char* release_version();
// `git describe --always --dirty` of the tree at build time ("unknown" when
// built outside a git checkout).
const char* build_commit();
// "NAME VERSION (commit C)": how a binary names itself (--version's first
// line, the session's hello).
std::string identity(const std::string& program);
// "NAME VERSION (commit C)\nhost protocols: upload N, session M\n". The
// upload number is the caller's (upload/common/stream_format.h): base depends
// on nothing of ours; the session protocol is base's own.
std::string version_text(const std::string& program, unsigned upload_protocol);

}  // namespace plugbox::base
