// The dry-run transport: opens nothing and runs nothing. Each open and exec
// prints one line saying what would happen ("web01: would run: cd ... ")
// and succeeds with exit status 0. Stdin sources are not read.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "transport/op_guard.h"
#include "transport/transport.h"

namespace plugbox::transport {

class DryRunTransport : public Transport {
 public:
  // `print` receives each line without its newline.
  explicit DryRunTransport(std::function<void(const std::string&)> print);

  Awaitable<OpenResult> open(Target target, Deadline deadline = kNoDeadline) override;
  void cancel() override { scope_->cancel(); }
  bool cancelled() const override { return scope_->cancelled(); }

  // The line open() prints for `target`.
  static std::string describe_open(const Target& target);

 private:
  std::function<void(const std::string&)> print_;
  std::shared_ptr<CancelScope> scope_;
};

}  // namespace plugbox::transport
