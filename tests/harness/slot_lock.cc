#include "tests/harness/slot_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "tests/harness/fleet_plan.h"

namespace plugbox::testing {
namespace {

void ensure_run_dir() {
  if (::mkdir(kHarnessRunDir, 0755) != 0 && errno != EEXIST)
    throw std::system_error(errno, std::generic_category(), std::string("mkdir ") + kHarnessRunDir);
}

base::UniqueFd open_lock_file(const std::string& path) {
  base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw std::system_error(errno, std::generic_category(), "open " + path);
  return fd;
}

}  // namespace

SlotLock SlotLock::acquire(long pid) {
  ensure_run_dir();
  // Start where this pid points, so concurrent processes rarely probe the same slots.
  const int first = static_cast<int>(pid % kSlots);
  for (int i = 0; i < kSlots; ++i) {
    const int slot = (first + i) % kSlots;
    auto fd = open_lock_file(std::string(kHarnessRunDir) + "/slot-" + std::to_string(slot) + ".lock");
    // flock conflicts between separate open()s even within one process, so
    // two fleets of the same test never share a slot.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return SlotLock(slot, std::move(fd));
    if (errno != EWOULDBLOCK)
      throw std::system_error(errno, std::generic_category(), "flock slot " + std::to_string(slot));
  }
  throw std::runtime_error("all " + std::to_string(kSlots) + " sshd harness slots in " + kHarnessRunDir +
                           " are taken: too many fleets running at once");
}

base::UniqueFd lock_machine(const std::string& name) {
  ensure_run_dir();
  auto fd = open_lock_file(std::string(kHarnessRunDir) + "/" + name + ".lock");
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "flock " + name);
  }
  return fd;
}

}  // namespace plugbox::testing
