// `lock --owner ID`: takes the deploy lock and holds it until stdin closes,
// so the lock lives exactly as long as the client's connection.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <ostream>

#include "server-tools/cli_command.h"
#include "server-tools/errors.h"

namespace plugbox::server {

namespace {

void wait_for_eof(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    return;  // EOF, or an error that means the same: our caller is gone
  }
}

struct LockCommand : CliCommand {
  LockCommand() : CliCommand("lock", "take the deploy lock for --owner ID and hold it until stdin closes") {}
  void check_args(const std::string& owner) override {
    if (owner.empty()) bad_input("lock needs an owner id: lock --owner ID (or set PLUGBOX_LOCK_OWNER)");
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    HeldLock held = acquire_deploy_lock(ctx.layout, ctx.lock);
    ctx.env.out << "locked by " << held.holder().describe() << std::endl;
    wait_for_eof(ctx.env.stdin_fd);
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_lock_command() { return std::make_unique<LockCommand>(); }

}  // namespace plugbox::server
