// `verify V`: re-checks a version's structure and every file against its
// upload manifest; exit 1 when a check fails.
#include <CLI/CLI.hpp>

#include "server-tools/chain.h"
#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/verify.h"

namespace plugbox::server {

namespace {

struct VerifyCommand : CliCommand {
  std::string v_;

  VerifyCommand()
      : CliCommand("verify", "re-check version V: structure, and every file against its upload manifest") {}
  void add_options(CLI::App& c) override { c.add_option("V", v_, "the version")->required(); }
  void check_args(const std::string&) override { require_version_name(v_); }
  int run(const CommandContext& ctx) override {
    require_layout(ctx.layout);
    VerifyReport r = verify_version(ctx.layout, v_);
    auto& out = ctx.env.out;
    out << "verify " << r.version << ":\n";
    for (const auto& c : r.checked) out << "  ok: " << c << "\n";
    for (const auto& p : r.problems) out << "  problem: " << p << "\n";
    out << "  " << r.contents_note << "\n";
    if (!r.ok()) {
      ctx.env.err << "plugbox-server verify: " << r.version << " failed " << r.problems.size() << " check(s)\n";
      return static_cast<int>(ExitStatus::refused);
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_verify_command() { return std::make_unique<VerifyCommand>(); }

}  // namespace plugbox::server
