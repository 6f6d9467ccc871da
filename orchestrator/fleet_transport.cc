#include "orchestrator/fleet_transport.h"

#include <filesystem>
#include <string_view>

#include "transport/local_transport.h"
#include "transport/ssh_transport.h"

namespace plugbox::orchestrator {

namespace {

class RoutingTransport : public FleetTransport {
 public:
  RoutingTransport(transport::Executor ex, bool host_sessions) : local_(ex), ssh_(ex), host_sessions_(host_sessions) {}

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
  bool host_sessions() const override { return host_sessions_; }

 private:
  transport::LocalTransport local_;
  transport::SshTransport ssh_;
  bool host_sessions_;
};

}  // namespace

std::unique_ptr<FleetTransport> make_fleet_transport(transport::Executor ex, bool host_sessions) {
  return std::make_unique<RoutingTransport>(ex, host_sessions);
}

std::optional<bool> parse_session_setting(const char* value) {
  const std::string_view v = value ? value : "";
  if (v.empty() || v == "on") return true;
  if (v == "off") return false;
  return std::nullopt;
}

}  // namespace plugbox::orchestrator
