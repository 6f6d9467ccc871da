// `receive V [--create [--by ..] [--source-rev ..]] [--seal]`: the upload's
// server end (upload/PROTOCOL.md). stdout carries the protocol only, so the
// outcome goes to stderr.
#include <CLI/CLI.hpp>

#include "server-tools/chain.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/receive.h"

namespace plugbox::server {

namespace {

struct ReceiveCommand : CliCommand {
  std::string v_, by_, rev_;
  bool create_ = false, seal_ = false, exact_mtimes_ = false;
  CLI::Option *o_by_ = nullptr, *o_rev_ = nullptr;

  ReceiveCommand()
      : CliCommand("receive", "read an upload stream on stdin into staged version V (protocol: upload/PROTOCOL.md)") {}
  void add_options(CLI::App& c) override {
    c.add_option("V", v_, "the version")->required();
    c.add_flag("--create", create_,
               "first create the layout where missing and V (as init and next-version --name V would; "
               "refused if V exists)");
    o_by_ = c.add_option("--by", by_, "with --create: who deploys it (recorded)");
    o_rev_ = c.add_option("--source-rev", rev_, "with --create: the source revision (recorded)");
    c.add_flag("--seal", seal_, "seal V once the upload is complete (as seal V would)");
    c.add_flag("--exact-mtimes", exact_mtimes_,
               "hard-link a local file with the same content and mode only when its mtime is the manifest's too "
               "(without it, a linked file keeps its own mtime and V's stored manifest records it)");
  }
  void check_args(const std::string&) override {
    require_version_name(v_);
    if (!create_ && (*o_by_ || *o_rev_))
      bad_input("receive: --by and --source-rev are recorded when V is created: add --create");
    if (*o_by_)
      if (auto p = provenance_problem("--by", by_)) bad_input(*p);
    if (*o_rev_)
      if (auto p = provenance_problem("--source-rev", rev_)) bad_input(*p);
  }
  int run(const CommandContext& ctx) override {
    // With --create, receive_version lays the home out first.
    if (!create_) require_layout(ctx.layout);
    ReceiveOptions ro;
    ro.create = create_;
    ro.seal = seal_;
    if (exact_mtimes_) ro.link_rule = upload::LinkRule::exact_mtime;
    if (*o_by_) ro.by = by_;
    if (*o_rev_) ro.source_rev = rev_;
    Outcome o = receive_version(ctx.layout, ctx.lock, ctx.actor, v_, ctx.env.stdin_fd, ctx.env.out, ro);
    ctx.env.err << o.message << "\n";
    print_warnings(ctx, name(), o.warnings);
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_receive_command() { return std::make_unique<ReceiveCommand>(); }

}  // namespace plugbox::server
