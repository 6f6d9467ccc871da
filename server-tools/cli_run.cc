// `run --timeout S -- LINE`: runs one service line as the host runs its
// steps (server-tools/service_line.h) and exits with its status. The client
// sends its health checks through it: when a check hangs past its timeout,
// closing the SSH channel would leave the check and whatever it started
// running on the host; here the host kills the check's whole process group.
// Exit: the line's own status; 124 when it timed out (as timeout(1) does);
// 128+N when a signal N ended it. Its output (stdout and stderr, the last
// 4 KiB) is printed on stdout once it ends.
#include <CLI/CLI.hpp>

#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/service_line.h"

namespace plugbox::server {

namespace {

class RunCommand : public CliCommand {
 public:
  const char* name() const override { return "run"; }
  void add_to(CLI::App& app) override {
    auto* c = app.add_subcommand(name(), "run a shell line in a process group of its own, killed at its timeout");
    c->add_option("--timeout", timeout_s_, "seconds before the line and every child it left are killed")->required();
    c->add_option("LINE", line_, "the line, run by /bin/sh -c")->required();
  }
  void check_args(const std::string&) override {
    // Written so that nan fails too.
    if (!(timeout_s_ > 0 && timeout_s_ <= 86400))
      bad_input("run --timeout takes a number of seconds in (0, 86400]");
    if (line_.empty()) bad_input("run: the line is empty");
  }
  int run(const CommandContext& ctx) override {
    ctx.env.out.flush();
    StepResult r = run_service_line({line_, {}, "", timeout_s_});
    ctx.env.out << r.output;
    if (r.timed_out) {
      ctx.env.err << "plugbox-server run: " << r.error << "\n";
      return 124;
    }
    if (r.exit < 0) {
      ctx.env.err << "plugbox-server run: " << r.error << "\n";
      return 128 + r.signal;
    }
    return r.exit;
  }

 private:
  double timeout_s_ = 0;
  std::string line_;
};

}  // namespace

std::unique_ptr<CliCommand> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace plugbox::server
