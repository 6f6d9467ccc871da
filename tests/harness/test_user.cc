#include "tests/harness/test_user.h"

#include <pwd.h>
#include <shadow.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

#include "tests/harness/fleet_options.h"
#include "tests/harness/process.h"
#include "tests/harness/slot_lock.h"

namespace plugbox::testing {
namespace {

constexpr const char* kPasswdHome = "/var/lib/plugbox-test";

struct Account {
  bool exists = false;
  std::string shell, home, password;
  uid_t uid = 0;
  gid_t gid = 0;
};

Account lookup() {
  Account a;
  if (passwd* pw = ::getpwnam(kTestUser)) {
    a.exists = true;
    a.shell = pw->pw_shell ? pw->pw_shell : "";
    a.home = pw->pw_dir ? pw->pw_dir : "";
    a.uid = pw->pw_uid;
    a.gid = pw->pw_gid;
    if (spwd* sp = ::getspnam(kTestUser)) a.password = sp->sp_pwdp ? sp->sp_pwdp : "";
  }
  return a;
}

bool usable(const Account& a) {
  return a.exists && a.shell == "/bin/sh" && a.home == kPasswdHome && !a.password.empty() && a.password[0] != '!';
}

TestUser make_ready() {
  Account a = lookup();
  if (!usable(a)) {
    base::UniqueFd held = lock_machine("user");
    a = lookup();  // another process may have done it while we waited
    if (!a.exists) {
      std::string useradd = find_program("useradd");
      if (useradd.empty()) throw std::runtime_error("useradd not found: cannot create the test user");
      run_checked({useradd, "--system", "--shell", "/bin/sh", "--home-dir", kPasswdHome, "--no-create-home",
                   "--password", "*", kTestUser});
    } else if (!usable(a)) {
      std::string usermod = find_program("usermod");
      if (usermod.empty()) throw std::runtime_error("usermod not found: cannot fix the test user");
      run_checked({usermod, "--shell", "/bin/sh", "--home", kPasswdHome, "--password", "*", kTestUser});
    }
    a = lookup();
    if (!usable(a))
      throw std::runtime_error(std::string("test user ") + kTestUser +
                               " is still unusable after useradd/usermod (shell " + a.shell + ", home " + a.home +
                               ")");
  }
  // Root-owned and read-only for the user, whatever an earlier run left.
  if (::mkdir(kPasswdHome, 0755) != 0 && errno != EEXIST)
    throw std::system_error(errno, std::generic_category(), std::string("mkdir ") + kPasswdHome);
  if (::chown(kPasswdHome, 0, 0) != 0 || ::chmod(kPasswdHome, 0755) != 0)
    throw std::system_error(errno, std::generic_category(), std::string("chown/chmod ") + kPasswdHome);
  return TestUser{kTestUser, a.uid, a.gid};
}

}  // namespace

TestUser ensure_test_user() {
  static std::mutex mu;
  static TestUser cached;
  std::lock_guard lock(mu);
  if (cached.name.empty()) cached = make_ready();
  return cached;
}

}  // namespace plugbox::testing
