#include "transport/fd_watch.h"

#include <poll.h>

namespace plugbox::transport {

FdWatch::FdWatch(Executor ex, int fd) : desc_(std::move(ex), fd), generation_(std::make_shared<unsigned>(0)) {}

FdWatch::~FdWatch() { close(); }

void FdWatch::close() {
  ++*generation_;
  generation_ = std::make_shared<unsigned>(0);  // pending handlers keep the old one: stale
  read_armed_ = write_armed_ = false;
  if (desc_.is_open()) {
    boost::system::error_code ignored;
    desc_.cancel(ignored);
    desc_.close(ignored);
  }
}

void FdWatch::arm_read(std::function<void()> fn, bool trust_edge) { arm(false, std::move(fn), trust_edge); }

void FdWatch::arm_write(std::function<void()> fn) { arm(true, std::move(fn), false); }

void FdWatch::arm(bool write, std::function<void()> fn, bool trust_edge) {
  if (!desc_.is_open()) return;
  bool& armed = write ? write_armed_ : read_armed_;
  if (armed) return;
  armed = true;
  // The handler may run after this FdWatch is destroyed (a cancelled wait
  // completes later): it only touches `this` while the generation matches,
  // and the generation is bumped before destruction.
  auto gen = generation_;
  unsigned expect = *gen;
  auto handler = [this, gen, expect, write, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (*gen != expect || ec == asio::error::operation_aborted) return;
    (write ? write_armed_ : read_armed_) = false;
    fn();
  };
  if (!trust_edge) {
    pollfd p{desc_.native_handle(), static_cast<short>(write ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1, 0) > 0) {
      asio::post(desc_.get_executor(), [handler = std::move(handler)] { handler({}); });
      return;
    }
  }
  desc_.async_wait(write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
                   std::move(handler));
}

}  // namespace plugbox::transport
