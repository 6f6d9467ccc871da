// Push-style stdin for a command: the owner writes chunks (waiting when too
// much is buffered) and closes it to send EOF. Its source() goes into
// ExecOptions::stdin_source. Holding it open without writing keeps the
// command's stdin open: that is how `plugbox-server lock` is held.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "transport/asio.h"
#include "transport/notifier.h"
#include "transport/transport.h"

namespace plugbox::transport {

class StdinPipe : public std::enable_shared_from_this<StdinPipe> {
 public:
  static std::shared_ptr<StdinPipe> create(Executor ex, size_t high_water = 1 << 20);

  // Queues `data`, first waiting while more than the high-water mark is
  // buffered. Returns false (and drops the data) once the pipe is closed.
  Awaitable<bool> write(std::string data);
  // Queues `data` now, however much is buffered: for the small control
  // messages that must not wait behind a stalled stream. False once closed.
  bool push(std::string data);
  // Returns once write() would not wait (or the pipe is closed): a producer
  // that calls it before making its next chunk holds no chunk while it waits.
  Awaitable<void> writable();
  // End of input: the command reads EOF once the buffered chunks are sent.
  void close();
  bool closed() const { return closed_; }
  size_t buffered() const { return buffered_; }

  StdinSource source();

  explicit StdinPipe(Executor ex, size_t high_water);  // use create()

 private:
  static Awaitable<std::optional<std::string>> next(std::shared_ptr<StdinPipe> self);

  size_t high_water_;
  size_t buffered_ = 0;
  bool closed_ = false;
  std::deque<std::string> chunks_;
  std::shared_ptr<Notifier> readable_, writable_;
};

}  // namespace plugbox::transport
