// `session`: serves the session protocol on stdin/stdout (session_server.h,
// docs/SESSION.md) until the client ends it. The client's fleet commands run
// every step of a host through one of these. It needs no layout: `init`
// itself may be one of its requests.
#include "base/build_info.h"
#include "server-tools/cli_command.h"
#include "server-tools/session_server.h"

namespace plugbox::server {

namespace {

struct SessionCommand : CliCommand {
  SessionCommand()
      : CliCommand("session", "serve the client's requests on stdin/stdout (the session protocol; not for people)") {}
  int run(const CommandContext& ctx) override {
    ctx.env.out.flush();
    SessionServerResult r = serve_session(ctx.env.stdin_fd, ctx.env.stdout_fd, base::identity("plugbox-server"));
    if (r.status != 0) ctx.env.err << "plugbox-server session: " << r.error << "\n";
    return r.status;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_session_command() { return std::make_unique<SessionCommand>(); }

}  // namespace plugbox::server
