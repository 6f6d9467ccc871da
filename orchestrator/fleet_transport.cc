#include "orchestrator/fleet_transport.h"

#include <filesystem>

#include "transport/local_transport.h"
#include "transport/ssh_transport.h"

namespace plugbox::orchestrator {

namespace {

class RoutingTransport : public FleetTransport {
 public:
  explicit RoutingTransport(transport::Executor ex) : local_(ex), ssh_(ex) {}

  transport::Awaitable<transport::OpenResult> open(transport::Target target, transport::Deadline deadline) override {
    if (target.kind == transport::TargetKind::local) {
      // The directory plays the machine: a new local host starts empty.
      std::error_code ec;
      std::filesystem::create_directories(target.root, ec);
      co_return co_await local_.open(std::move(target), deadline);
    }
    co_return co_await ssh_.open(std::move(target), deadline);
  }
  void cancel() override {
    local_.cancel();
    ssh_.cancel();
  }
  bool cancelled() const override { return local_.cancelled() || ssh_.cancelled(); }
  void close_all() override { ssh_.close_all(); }

 private:
  transport::LocalTransport local_;
  transport::SshTransport ssh_;
};

}  // namespace

std::unique_ptr<FleetTransport> make_fleet_transport(transport::Executor ex) {
  return std::make_unique<RoutingTransport>(ex);
}

}  // namespace plugbox::orchestrator
