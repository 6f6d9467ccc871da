// Exclusive ownership of one of kSlots address/name slots (fleet_plan.h), so
// concurrent fleets (other test processes, or other fleets of this one) never
// share an address, an interface name or a namespace. An flock(2) on
// /run/plugbox-harness/slot-<S>.lock: the kernel drops it when the owner
// dies, so a crashed test frees its slot without help.
#pragma once

#include <string>

#include "tests/harness/process.h"

namespace plugbox::testing {

inline constexpr const char* kHarnessRunDir = "/run/plugbox-harness";

class SlotLock {
 public:
  // Tries every slot once, starting from one derived from pid. Throws
  // std::runtime_error if all are taken or the lock directory is unusable.
  static SlotLock acquire(long pid);
  int slot() const { return slot_; }

 private:
  SlotLock(int slot, base::UniqueFd fd) : slot_(slot), fd_(std::move(fd)) {}
  int slot_;
  base::UniqueFd fd_;  // the lock lives as long as this descriptor
};

// An exclusive flock on /run/plugbox-harness/<name>.lock, held while the
// returned descriptor lives: serialises one-time machine set-up (creating the
// test user) across processes.
base::UniqueFd lock_machine(const std::string& name);

}  // namespace plugbox::testing
