#include "transport/stdin_pipe.h"

namespace plugbox::transport {

std::shared_ptr<StdinPipe> StdinPipe::create(Executor ex, size_t high_water) {
  return std::make_shared<StdinPipe>(std::move(ex), high_water);
}

StdinPipe::StdinPipe(Executor ex, size_t high_water)
    : high_water_(high_water), readable_(std::make_shared<Notifier>(ex)), writable_(std::make_shared<Notifier>(ex)) {}

Awaitable<bool> StdinPipe::write(std::string data) {
  auto self = shared_from_this();  // the frame keeps the pipe alive
  while (!closed_ && buffered_ > high_water_) co_await writable_->wait();
  if (closed_) co_return false;
  if (data.empty()) co_return true;  // an empty chunk would read as nothing; skip it
  buffered_ += data.size();
  chunks_.push_back(std::move(data));
  readable_->notify();
  co_return true;
}

bool StdinPipe::push(std::string data) {
  if (closed_) return false;
  if (data.empty()) return true;
  buffered_ += data.size();
  chunks_.push_back(std::move(data));
  readable_->notify();
  return true;
}

Awaitable<void> StdinPipe::writable() {
  auto self = shared_from_this();
  while (!closed_ && buffered_ > high_water_) co_await writable_->wait();
}

void StdinPipe::close() {
  closed_ = true;
  readable_->notify();
  writable_->notify();
}

StdinSource StdinPipe::source() {
  // The coroutine takes the pipe by value, so its frame owns a reference
  // whatever happens to this std::function.
  return [self = shared_from_this()] { return next(self); };
}

Awaitable<std::optional<std::string>> StdinPipe::next(std::shared_ptr<StdinPipe> self) {
  while (self->chunks_.empty() && !self->closed_) co_await self->readable_->wait();
  if (self->chunks_.empty()) co_return std::nullopt;
  std::string chunk = std::move(self->chunks_.front());
  self->chunks_.pop_front();
  self->buffered_ -= chunk.size();
  self->writable_->notify();
  co_return chunk;
}

}  // namespace plugbox::transport
