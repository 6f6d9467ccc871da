// `switch`: a host's switch, undo or rollback as one transaction whose step
// list comes on stdin (switch_txn.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>

#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/switch_txn.h"

namespace plugbox::server {

namespace {

// A request is a few KiB; a stream without end is not one.
constexpr std::size_t kMaxRequest = 1 << 20;

std::string read_request(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) sys_fail("read the switch request from stdin", errno);
    if (n == 0) return text;
    text.append(buf, std::size_t(n));
    if (text.size() > kMaxRequest) bad_input("switch request: more than 1 MiB on stdin");
  }
}

struct SwitchCommand : CliCommand {
  SwitchCommand()
      : CliCommand("switch",
                   "run a switch, undo or rollback (a JSON step list on stdin) as one transaction that "
                   "finishes here even if the caller goes away; replies are JSON lines") {}
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    TxnRequest req = TxnRequest::parse(read_request(ctx.env.stdin_fd));
    return run_switch_txn(ctx.layout, ctx.lock, ctx.actor, req, ctx.env.out);
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_switch_command() { return std::make_unique<SwitchCommand>(); }

}  // namespace plugbox::server
