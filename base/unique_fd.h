// An owned file descriptor: closed exactly once, by whoever holds it last.
// The one fd wrapper of the project (the server, the client's transport, the
// upload and the test harness all use it), so it depends on nothing but
// <unistd.h>: plugbox-server links statically and the harness stays
// independent of the code it tests.
#pragma once

#include <unistd.h>

#include <utility>

namespace plugbox::base {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  // Self-move is harmless: release() empties `o` before reset() looks at fd_.
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the returned fd.
  int release() { return std::exchange(fd_, -1); }
  // Closes the fd held (if any) and owns `fd` instead. close(2)'s result is
  // not reported: after a failed close the fd is gone all the same, and the
  // writers that care about durability fsync before they let go.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace plugbox::base
