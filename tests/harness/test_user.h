// The login user every harness sshd accepts (kTestUser): created once per
// machine with useradd when missing, /bin/sh as its shell (root's ~/.bashrc
// here costs ~190 ms per command), password field "*" (sshd without PAM
// refuses a locked "!" account even for keys), and a passwd home that exists
// (sshd would print "Could not chdir" into every session's stderr) but that
// it cannot write, so nothing can pass a shared directory between hosts.
#pragma once

#include <sys/types.h>

#include <string>

namespace plugbox::testing {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Idempotent and safe across processes (serialised by a machine lock); checks
// the account again after creating or fixing it. Throws std::runtime_error
// with the failing command's output.
TestUser ensure_test_user();

}  // namespace plugbox::testing
