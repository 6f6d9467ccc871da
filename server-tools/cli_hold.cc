// `hold --message TEXT` and `release [--force]`: the maintenance hold
// (hold.h) that `plugbox fleet lock` and `unlock` place and remove.
#include <CLI/CLI.hpp>

#include "base/lock_message.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/hold.h"

namespace plugbox::server {

namespace {

struct HoldCommand : CliCommand {
  std::string message_;

  HoldCommand()
      : CliCommand("hold", "lock the home for maintenance for --owner ID: every changing command is refused "
                           "until `release`") {}
  void add_options(CLI::App& c) override {
    c.add_option("--message", message_, "why (shown to everyone refused, and by status)")->required();
  }
  void check_args(const std::string& owner) override {
    if (owner.empty()) bad_input("hold needs an owner id: hold --owner USER@MACHINE --message TEXT");
    if (auto p = base::lock_message_problem(message_)) bad_input("--message: " + *p);
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    HoldResult r = place_hold(ctx.layout, ctx.lock, ctx.actor, message_);
    ctx.env.out << (r.renewed ? "still held by " : "held by ") << r.hold.owner << " since " << r.hold.since << ": '"
                << r.hold.message << "'\n";
    print_warnings(ctx, name(), r.warnings);
    return 0;
  }
};

struct ReleaseCommand : CliCommand {
  bool force_ = false;

  ReleaseCommand()
      : CliCommand("release", "end the maintenance lock of --owner ID (someone else's, or an unreadable one: "
                              "--force)") {}
  void add_options(CLI::App& c) override {
    c.add_flag("--force", force_, "end it whoever holds it");
  }
  void check_args(const std::string& owner) override {
    if (owner.empty() && !force_)
      bad_input("release needs the holder's owner id: release --owner USER@MACHINE (or --force)");
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    auto r = release_hold(ctx.layout, ctx.lock, ctx.actor, force_);
    if (!r) {
      ctx.env.out << "not locked for maintenance: nothing to release\n";
      return 0;
    }
    ctx.env.out << "released the maintenance lock of " << r->released.owner
                << (r->released.message.empty() ? std::string() : ": '" + r->released.message + "'") << "\n";
    print_warnings(ctx, name(), r->warnings);
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_hold_command() { return std::make_unique<HoldCommand>(); }
std::unique_ptr<CliCommand> make_release_command() { return std::make_unique<ReleaseCommand>(); }

}  // namespace plugbox::server
