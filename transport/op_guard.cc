#include "transport/op_guard.h"

namespace plugbox::transport {

void CancelScope::cancel() {
  cancelled_ = true;
  // Copy: a woken operation may finish and unregister while we iterate.
  auto ops = ops_;
  for (auto& op : ops)
    if (auto n = op->waiting_on.lock()) n->notify();
}

OpGuard::OpGuard(Executor ex, Deadline deadline, std::shared_ptr<CancelScope> scope)
    : deadline_(deadline),
      scope_(std::move(scope)),
      op_(std::make_shared<CancelScope::Op>()),
      timer_(std::move(ex)) {
  if (!scope_) scope_ = std::make_shared<CancelScope>();
  registration_ = scope_->ops_.insert(scope_->ops_.end(), op_);
  if (deadline_ != kNoDeadline) {
    timer_.expires_at(deadline_);
    // The handler owns the op state: it may run after the guard is gone.
    timer_.async_wait([op = op_](const boost::system::error_code& ec) {
      if (ec) return;
      op->expired = true;
      if (auto n = op->waiting_on.lock()) n->notify();
    });
  }
}

OpGuard::~OpGuard() {
  timer_.cancel();
  scope_->ops_.erase(registration_);
}

std::error_code OpGuard::stop_code() const {
  if (scope_->cancelled()) return std::make_error_code(std::errc::operation_canceled);
  if (op_->expired || (deadline_ != kNoDeadline && Clock::now() >= deadline_))
    return std::make_error_code(std::errc::timed_out);
  return {};
}

Awaitable<void> OpGuard::wait(std::shared_ptr<Notifier> n) {
  if (stopped()) co_return;
  op_->waiting_on = n;
  co_await n->wait();
  op_->waiting_on.reset();
}

}  // namespace plugbox::transport
