#include "transport/dry_run_transport.h"

namespace plugbox::transport {

namespace {

class DryRunSession : public Session {
 public:
  DryRunSession(std::string name, std::function<void(const std::string&)> print,
                std::shared_ptr<CancelScope> scope)
      : name_(std::move(name)), print_(std::move(print)), scope_(std::move(scope)) {}

  const std::string& name() const override { return name_; }

  Awaitable<ExecResult> exec(Command command, ExecOptions options) override {
    ExecResult r;
    if (closed_) {
      r.error = make_error(Errc::session_closed, "exec", name_);
      co_return r;
    }
    if (scope_->cancelled()) {
      r.error = make_error(std::make_error_code(std::errc::operation_canceled), "exec", name_);
      co_return r;
    }
    std::string line = name_ + ": would run: " + command.render();
    if (options.stdin_source)
      line += "  (stdin: streamed)";
    else if (options.stdin_data)
      line += "  (stdin: " + std::to_string(options.stdin_data->size()) + " bytes)";
    print_(line);
    r.exit_status = 0;
    co_return r;
  }

  void close() override { closed_ = true; }

 private:
  std::string name_;
  std::function<void(const std::string&)> print_;
  std::shared_ptr<CancelScope> scope_;
  bool closed_ = false;
};

}  // namespace

DryRunTransport::DryRunTransport(std::function<void(const std::string&)> print)
    : print_(std::move(print)), scope_(std::make_shared<CancelScope>()) {}

std::string DryRunTransport::describe_open(const Target& target) {
  std::string line = target.name() + ": would connect to ";
  if (target.kind == TargetKind::local) return line + "local directory " + target.root;
  line += target.endpoint.describe();
  if (!target.jump_chain.empty()) {
    line += " via ";
    for (size_t i = 0; i < target.jump_chain.size(); ++i) {
      if (i) line += " -> ";
      line += target.jump_chain[i].name;
    }
  }
  return line;
}

Awaitable<OpenResult> DryRunTransport::open(Target target, Deadline) {
  OpenResult r;
  if (auto p = target.problem()) {
    r.error = make_error(Errc::bad_target, "open", target.name(), *p);
    co_return r;
  }
  if (scope_->cancelled()) {
    r.error = make_error(std::make_error_code(std::errc::operation_canceled), "open", target.name());
    co_return r;
  }
  print_(describe_open(target));
  r.session = std::make_shared<DryRunSession>(target.name(), print_, scope_);
  co_return r;
}

}  // namespace plugbox::transport
