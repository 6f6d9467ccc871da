// The commands that change the chain one step under the mutation guard:
// next-version, seal, upgrade-to, rollback-to and remove.
#include <CLI/CLI.hpp>

#include "server-tools/chain.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"

namespace plugbox::server {

namespace {

struct NextVersionCommand : CliCommand {
  std::string name_, by_, rev_;
  CLI::Option *o_name_ = nullptr, *o_by_ = nullptr, *o_rev_ = nullptr;

  NextVersionCommand()
      : CliCommand("next-version", "create deploy/V (staged) with V/previous -> the live version; print V") {}
  void add_options(CLI::App& c) override {
    o_name_ = c.add_option("--name", name_, "the version name, UTC YYYY-MM-DDTHH:MM:SS (default: now)");
    o_by_ = c.add_option("--by", by_, "who deploys it (recorded)");
    o_rev_ = c.add_option("--source-rev", rev_, "the source revision it is built from (recorded)");
  }
  void check_args(const std::string&) override {
    if (*o_name_) require_version_name(name_);
    if (*o_by_)
      if (auto p = provenance_problem("--by", by_)) bad_input(*p);
    if (*o_rev_)
      if (auto p = provenance_problem("--source-rev", rev_)) bad_input(*p);
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    MutationGuard guard = acquire_for_mutation(ctx.layout, ctx.lock);
    Chain chain(ctx.layout, ctx.actor);
    NextVersionOptions o;
    if (*o_name_) o.name = name_;
    if (*o_by_) o.by = by_;
    if (*o_rev_) o.source_rev = rev_;
    ctx.env.out << chain.next_version(guard, o) << "\n";
    print_warnings(ctx, name(), chain.warnings());
    return 0;
  }
};

// seal V and upgrade-to V: one required version, one step of the chain.
struct VersionStepCommand : CliCommand {
  using Step = Outcome (*)(Chain&, const MutationGuard&, const std::string&);
  Step step_;
  std::string v_;

  VersionStepCommand(const char* name, const char* help, Step step) : CliCommand(name, help), step_(step) {}
  void add_options(CLI::App& c) override { c.add_option("V", v_, "the version")->required(); }
  void check_args(const std::string&) override { require_version_name(v_); }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    MutationGuard guard = acquire_for_mutation(ctx.layout, ctx.lock);
    Chain chain(ctx.layout, ctx.actor);
    ctx.env.out << step_(chain, guard, v_).message << "\n";
    print_warnings(ctx, name(), chain.warnings());
    return 0;
  }
};

struct RollbackToCommand : CliCommand {
  std::string v_;
  CLI::Option* o_v_ = nullptr;

  RollbackToCommand()
      : CliCommand("rollback-to", "switch live to ready version V (default: the live version's previous)") {}
  void add_options(CLI::App& c) override {
    o_v_ = c.add_option("V", v_, "the version (default: the live version's previous)");
  }
  void check_args(const std::string&) override {
    if (*o_v_) require_version_name(v_);
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    MutationGuard guard = acquire_for_mutation(ctx.layout, ctx.lock);
    Chain chain(ctx.layout, ctx.actor);
    ctx.env.out << chain.rollback_to(guard, *o_v_ ? std::optional(v_) : std::nullopt).message << "\n";
    print_warnings(ctx, name(), chain.warnings());
    return 0;
  }
};

struct RemoveCommand : CliCommand {
  std::string v_, v_opt_;
  bool missing_ok_ = false;
  CLI::Option *o_pos_ = nullptr, *o_opt_ = nullptr;

  RemoveCommand() : CliCommand("remove", "delete version V (not the live one), splicing it out of the chain") {}
  void add_options(CLI::App& c) override {
    o_pos_ = c.add_option("V", v_, "the version");
    o_opt_ = c.add_option("-v,--version", v_opt_, "the version (same as V)");
    c.add_flag("--missing-ok", missing_ok_, "a version that does not exist is not an error");
  }
  void check_args(const std::string&) override {
    if (*o_pos_ && *o_opt_ && v_ != v_opt_)
      bad_input("remove got two different versions (" + v_ + " and -v " + v_opt_ + "): give one");
    if (*o_opt_) v_ = v_opt_;
    if (!*o_pos_ && !*o_opt_) bad_input("remove needs a version: remove V (or -v V)");
    require_version_name(v_);
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    MutationGuard guard = acquire_for_mutation(ctx.layout, ctx.lock);
    Chain chain(ctx.layout, ctx.actor);
    ctx.env.out << chain.remove(guard, v_, missing_ok_).message << "\n";
    print_warnings(ctx, name(), chain.warnings());
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_next_version_command() { return std::make_unique<NextVersionCommand>(); }
std::unique_ptr<CliCommand> make_seal_command() {
  return std::make_unique<VersionStepCommand>(
      "seal", "mark staged version V ready (after its upload and post-upload steps)",
      [](Chain& c, const MutationGuard& g, const std::string& v) { return c.seal(g, v); });
}
std::unique_ptr<CliCommand> make_upgrade_to_command() {
  return std::make_unique<VersionStepCommand>(
      "upgrade-to", "make ready version V live; V/previous := the live version, whose next := V",
      [](Chain& c, const MutationGuard& g, const std::string& v) { return c.upgrade_to(g, v); });
}
std::unique_ptr<CliCommand> make_rollback_to_command() { return std::make_unique<RollbackToCommand>(); }
std::unique_ptr<CliCommand> make_remove_command() { return std::make_unique<RemoveCommand>(); }

}  // namespace plugbox::server
