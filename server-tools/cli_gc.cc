// `gc --keep N [--dry-run]`: removes all but the N newest ready versions (and
// never live or live's previous); the dry run prints the same plan.
#include <CLI/CLI.hpp>

#include "server-tools/chain.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/gc_plan.h"

namespace plugbox::server {

namespace {

struct GcCommand : CliCommand {
  long keep_ = 0;
  bool dry_run_ = false;

  GcCommand() : CliCommand("gc", "remove all but the N newest ready versions, live and live's previous") {}
  void add_options(CLI::App& c) override {
    c.add_option("--keep", keep_, "how many of the newest ready versions to keep (at least 2)")->required();
    c.add_flag("--dry-run", dry_run_, "print what would be removed; change nothing");
  }
  void check_args(const std::string&) override {
    if (keep_ < 2)
      bad_input("gc --keep " + std::to_string(keep_) + " would leave nothing to roll back to: keep at least 2");
  }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    if (dry_run_) return print_plan(ctx);
    MutationGuard guard = acquire_for_mutation(ctx.layout, ctx.lock);
    Chain chain(ctx.layout, ctx.actor);
    auto outs = chain.gc(guard, static_cast<unsigned>(keep_));
    if (outs.empty()) ctx.env.out << "gc --keep " << keep_ << ": nothing to remove\n";
    for (const auto& o : outs) ctx.env.out << o.message << "\n";
    print_warnings(ctx, name(), chain.warnings());
    return 0;
  }

  int print_plan(const CommandContext& ctx) const {
    std::optional<Flock> op;  // a consistent snapshot, as status takes
    if (kind_of(ctx.layout.oplock()) != FileKind::absent)
      op = Flock::acquire(ctx.layout.oplock(), Flock::Mode::shared, /*create=*/false);
    GcPlan plan = plan_gc(scan_chain(ctx.layout), static_cast<unsigned>(keep_));
    auto& out = ctx.env.out;
    out << "gc --keep " << keep_ << " (dry run): keeps";
    for (const auto& k : plan.kept) out << " " << k;
    out << "\n";
    for (const auto& v : plan.remove) out << "would remove " << v << "\n";
    for (const auto& r : plan.stale_records) out << "would remove the stale record of " << r << "\n";
    if (plan.empty()) out << "nothing to remove\n";
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_gc_command() { return std::make_unique<GcCommand>(); }

}  // namespace plugbox::server
