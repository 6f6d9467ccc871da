// Readiness callbacks for a file descriptor someone else reads and writes
// (libssh, or a tunnel's socketpair end), on the io_context.
//
// Asio's epoll reactor is edge-triggered and forgets readiness that arrives
// while nobody waits, so an async_wait on an fd that is already readable can
// hang. Every arm_*() therefore polls the fd first and posts the callback at
// once when it is ready; it only parks in async_wait when it is not.
#pragma once

#include <functional>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "transport/asio.h"

namespace plugbox::transport {

class FdWatch {
 public:
  // Watches `fd` (which FdWatch owns and closes: pass a dup() of a
  // descriptor someone else owns).
  FdWatch(Executor ex, int fd);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // Calls `fn` once, when the fd is readable (or at EOF / error). At most one
  // read callback is pending: arming again while one is pending does nothing.
  // With `trust_edge`, skips the poll (for a caller that just found the fd
  // ready but got nothing from it, to avoid spinning).
  void arm_read(std::function<void()> fn, bool trust_edge = false);
  void arm_write(std::function<void()> fn);
  bool read_armed() const { return read_armed_; }
  bool write_armed() const { return write_armed_; }

  // Drops pending callbacks (they will not be called) and closes the fd.
  void close();
  bool is_open() const { return desc_.is_open(); }
  int native() { return desc_.native_handle(); }

 private:
  void arm(bool write, std::function<void()> fn, bool trust_edge);

  asio::posix::stream_descriptor desc_;
  bool read_armed_ = false, write_armed_ = false;
  // Bumped by close(): callbacks from an older generation are stale.
  std::shared_ptr<unsigned> generation_;
};

}  // namespace plugbox::transport
