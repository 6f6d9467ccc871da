// Slots are exclusive: two fleets of one process never share one, and a
// released slot can be taken again.
#include "tests/harness/slot_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>

#include "tests/harness/fleet_plan.h"

using namespace plugbox::testing;

TEST_CASE("two slot locks held at once differ - a released slot is free again") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root: slot locks live in /run/plugbox-harness");
    return;
  }
  // Concurrent test processes take slots too: ask with the same pid, compare only ours.
  std::optional<SlotLock> a(SlotLock::acquire(::getpid()));
  SlotLock b = SlotLock::acquire(::getpid());
  CHECK(a->slot() != b.slot());
  CHECK(a->slot() >= 0);
  CHECK(a->slot() < kSlots);
  const int freed = a->slot();
  a.reset();
  // Starting from the same pid, the freed slot comes first in the scan unless
  // another process grabbed it in between: retry a few times before failing.
  bool got_it = false;
  for (int i = 0; i < 5 && !got_it; ++i) got_it = SlotLock::acquire(::getpid()).slot() == freed;
  CHECK(got_it);
}

TEST_CASE("lock_machine is exclusive while held, free once released") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root: machine locks live in /run/plugbox-harness");
    return;
  }
  const std::string name = "harness-test-" + std::to_string(::getpid());
  const std::string path = std::string(kHarnessRunDir) + "/" + name + ".lock";
  auto try_lock = [&] {
    plugbox::base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
  };
  {
    plugbox::base::UniqueFd held = lock_machine(name);
    CHECK(held);
    CHECK_FALSE(try_lock());
  }
  CHECK(try_lock());
  ::unlink(path.c_str());
}
