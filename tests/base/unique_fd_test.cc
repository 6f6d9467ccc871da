#include "base/unique_fd.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <utility>

using plugbox::base::UniqueFd;

namespace {

int open_null() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  return fd;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST_CASE("UniqueFd closes what it owns, once, and moves ownership", "[unique_fd]") {
  const int raw = open_null();
  {
    UniqueFd fd(raw);
    CHECK(fd.get() == raw);
    CHECK(fd);
    UniqueFd moved(std::move(fd));
    CHECK_FALSE(fd);
    CHECK(fd.get() == -1);
    CHECK(moved.get() == raw);
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
}

TEST_CASE("UniqueFd move-assignment closes the fd it held", "[unique_fd]") {
  const int a = open_null(), b = open_null();
  UniqueFd fa(a), fb(b);
  fa = std::move(fb);
  CHECK_FALSE(is_open(a));
  CHECK(fa.get() == b);
  CHECK_FALSE(fb);
  auto& same = fa;
  fa = std::move(same);  // self-move keeps the fd
  CHECK(fa.get() == b);
  CHECK(is_open(b));
}

TEST_CASE("UniqueFd release gives the fd up, reset replaces it", "[unique_fd]") {
  const int a = open_null(), b = open_null();
  UniqueFd fd(a);
  CHECK(fd.release() == a);
  CHECK_FALSE(fd);
  CHECK(is_open(a));
  fd.reset(a);
  fd.reset(b);
  CHECK_FALSE(is_open(a));
  CHECK(fd.get() == b);
  fd.reset();
  CHECK_FALSE(is_open(b));
  CHECK_FALSE(fd);
}
