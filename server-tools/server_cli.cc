#include "server-tools/server_cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "base/suggest.h"
#include "server-tools/chain.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/gc_plan.h"
#include "server-tools/init.h"
#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"
#include "server-tools/receive.h"
#include "server-tools/status.h"
#include "server-tools/verify.h"

namespace plugbox::server {

std::optional<std::string> process_env(const std::string& name) {
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  return std::nullopt;
}

namespace {

const std::vector<std::string> command_names = {"init",   "next-version", "seal",   "upgrade-to",
                                                "rollback-to", "remove",  "gc",     "status",
                                                "lock",   "verify", "receive"};
// Global options that take a value (for finding the command word before parsing).
const std::vector<std::string> valued_globals = {"--home", "--owner", "--wait"};

// The first word that is not an option (or an option's value), if any.
std::optional<std::string> command_word(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return std::nullopt;
    if (!a.starts_with("-")) return a;
    if (std::find(valued_globals.begin(), valued_globals.end(), a) != valued_globals.end()) ++i;
  }
  return std::nullopt;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void wait_for_eof(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    return;  // EOF, or an error that means the same: our caller is gone
  }
}

}  // namespace

int run_server_cli(const std::vector<std::string>& args, CliEnv& env) {
  if (auto word = command_word(args);
      word && std::find(command_names.begin(), command_names.end(), *word) == command_names.end()) {
    std::string hint = base::closest_match(*word, command_names);
    env.err << "plugbox-server: unknown command '" << *word << "'"
            << (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)")
            << "; `plugbox-server --help` lists the commands\n";
    return static_cast<int>(ExitStatus::bad_input);
  }

  CLI::App app{
      "plugbox-server: keeps a service home's chain of versions and its live link (run on each "
      "host as the service user).\nExit status: 0 done, 1 refused (the reason is printed), 2 bad "
      "usage or input.",
      "plugbox-server"};
  app.fallthrough();  // global options may also follow the command
  app.require_subcommand(1);
  std::string home_opt, owner_opt;
  double wait_s = 0;
  app.add_option("--home", home_opt, "the service home holding deploy/ (default: $HOME)");
  app.add_option("--owner", owner_opt,
                 "deploy-lock owner id: run under the lock this owner holds (default: "
                 "$PLUGBOX_LOCK_OWNER)");
  app.add_option("--wait", wait_s,
                 "seconds to wait for a deploy lock held by another owner (default 0: fail at once)")
      ->check(CLI::Range(0.0, 86400.0));

  auto* c_init = app.add_subcommand("init", "create the layout (home/live, config/, deploy/.plugbox/) where missing; idempotent");
  auto* c_next = app.add_subcommand("next-version", "create deploy/V (staged) with V/previous -> the live version; print V");
  std::string next_name, next_by, next_rev;
  auto* o_name = c_next->add_option("--name", next_name, "the version name, UTC YYYY-MM-DDTHH:MM:SS (default: now)");
  auto* o_by = c_next->add_option("--by", next_by, "who deploys it (recorded)");
  auto* o_rev = c_next->add_option("--source-rev", next_rev, "the source revision it is built from (recorded)");

  std::string v_arg;
  auto* c_seal = app.add_subcommand("seal", "mark staged version V ready (after its upload and post-upload steps)");
  c_seal->add_option("V", v_arg, "the version")->required();
  auto* c_up = app.add_subcommand("upgrade-to", "make ready version V live; V/previous := the live version, whose next := V");
  c_up->add_option("V", v_arg, "the version")->required();
  auto* c_rb = app.add_subcommand("rollback-to", "switch live to ready version V (default: the live version's previous)");
  auto* o_rb = c_rb->add_option("V", v_arg, "the version (default: the live version's previous)");
  auto* c_rm = app.add_subcommand("remove", "delete version V (not the live one), splicing it out of the chain");
  std::string rm_opt;
  bool missing_ok = false;
  auto* o_rm_pos = c_rm->add_option("V", v_arg, "the version");
  auto* o_rm_v = c_rm->add_option("-v,--version", rm_opt, "the version (same as V)");
  c_rm->add_flag("--missing-ok", missing_ok, "a version that does not exist is not an error");
  auto* c_gc = app.add_subcommand("gc", "remove all but the N newest ready versions, live and live's previous");
  long keep = 0;
  bool dry_run = false;
  c_gc->add_option("--keep", keep, "how many of the newest ready versions to keep (at least 2)")->required();
  c_gc->add_flag("--dry-run", dry_run, "print what would be removed; change nothing");
  auto* c_status = app.add_subcommand("status", "live, the chain, each version's state, size and provenance, the lock holder");
  bool json = false;
  c_status->add_flag("--json", json, "print JSON (schema in server-tools/status.h)");
  auto* c_lock = app.add_subcommand("lock", "take the deploy lock for --owner ID and hold it until stdin closes");
  auto* c_verify = app.add_subcommand("verify", "re-check version V: structure, and every file against its upload manifest");
  c_verify->add_option("V", v_arg, "the version")->required();
  auto* c_recv = app.add_subcommand("receive", "read an upload stream on stdin into staged version V (protocol: upload/PROTOCOL.md)");
  c_recv->add_option("V", v_arg, "the version")->required();
  bool recv_create = false, recv_seal = false;
  c_recv->add_flag("--create", recv_create,
                   "first create the layout where missing and V (as init and next-version --name V would; "
                   "refused if V exists)");
  auto* o_recv_by = c_recv->add_option("--by", next_by, "with --create: who deploys it (recorded)");
  auto* o_recv_rev = c_recv->add_option("--source-rev", next_rev, "with --create: the source revision (recorded)");
  c_recv->add_flag("--seal", recv_seal, "seal V once the upload is complete (as seal V would)");

  for (auto* sub : app.get_subcommands({}))
    sub->footer(
        "Global options, before or after the command: --home DIR, --owner ID, --wait SECONDS "
        "(see plugbox-server --help).");

  std::vector<std::string> argv_store;
  argv_store.push_back("plugbox-server");
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    env.out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    env.out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string sub;
    for (auto* s : app.get_subcommands()) sub = " " + s->get_name();
    env.err << "plugbox-server: " << one_line(e.what()) << "; see `plugbox-server" << sub
            << " --help`\n";
    return static_cast<int>(ExitStatus::bad_input);
  }

  CLI::App* cmd = app.get_subcommands().at(0);
  const std::string cmd_name = cmd->get_name();
  try {
    // Every argument is checked before the disk is looked at.
    std::string owner = owner_opt;
    if (app.count("--owner") == 0) owner = env.getenv("PLUGBOX_LOCK_OWNER").value_or("");
    if (!owner.empty() || app.count("--owner"))
      if (auto p = owner_problem(owner)) bad_input("--owner: " + *p);
    const LockRequest req{owner, std::chrono::milliseconds(std::llround(wait_s * 1000))};

    std::optional<std::string> version;
    if (cmd == c_rm) {
      if (*o_rm_pos && *o_rm_v && v_arg != rm_opt)
        bad_input("remove got two different versions (" + v_arg + " and -v " + rm_opt +
                  "): give one");
      if (*o_rm_v) v_arg = rm_opt;
      if (!*o_rm_pos && !*o_rm_v) bad_input("remove needs a version: remove V (or -v V)");
      version = v_arg;
    } else if (cmd == c_seal || cmd == c_up || cmd == c_verify || cmd == c_recv || (cmd == c_rb && *o_rb)) {
      version = v_arg;
    } else if (cmd == c_next && *o_name) {
      version = next_name;
    }
    if (version) require_version_name(*version);
    if (cmd == c_recv && !recv_create && (*o_recv_by || *o_recv_rev))
      bad_input("receive: --by and --source-rev are recorded when V is created: add --create");
    if (cmd == c_next || cmd == c_recv) {
      if (*o_by || *o_recv_by)
        if (auto p = provenance_problem("--by", next_by)) bad_input(*p);
      if (*o_rev || *o_recv_rev)
        if (auto p = provenance_problem("--source-rev", next_rev)) bad_input(*p);
    }
    if (cmd == c_gc && keep < 2)
      bad_input("gc --keep " + std::to_string(keep) +
                " would leave nothing to roll back to: keep at least 2");
    if (cmd == c_lock && owner.empty())
      bad_input("lock needs an owner id: lock --owner ID (or set PLUGBOX_LOCK_OWNER)");

    std::string home = home_opt;
    if (home.empty()) home = env.getenv("HOME").value_or("");
    if (home.empty()) bad_input("no home: pass --home DIR or set HOME");
    const Layout layout(home);
    const Actor actor = Actor::of_this_process(owner);

    if (cmd == c_init) {
      InitResult r = init_layout(layout, req, actor);
      if (r.created.empty())
        env.out << layout.home.string() << ": already initialised\n";
      else
        env.out << "initialised " << layout.home.string() << " (created " << r.created.size()
                << " entries)\n";
      return 0;
    }
    if (cmd == c_recv) {
      // With --create, receive_version lays the home out first.
      if (!recv_create)
        if (auto p = layout_problem(layout)) bad_input(*p);
      ReceiveOptions ro;
      ro.create = recv_create;
      ro.seal = recv_seal;
      if (*o_recv_by) ro.by = next_by;
      if (*o_recv_rev) ro.source_rev = next_rev;
      Outcome o = receive_version(layout, req, actor, *version, env.stdin_fd, env.out, ro);
      env.err << o.message << "\n";  // stdout carries the protocol only
      return 0;
    }
    if (auto p = layout_problem(layout)) bad_input(*p);

    if (cmd == c_status) {
      StatusReport r = collect_status(layout);
      if (json)
        env.out << status_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      else
        env.out << status_text(r);
      return 0;
    }
    if (cmd == c_verify) {
      VerifyReport r = verify_version(layout, *version);
      env.out << "verify " << r.version << ":\n";
      for (const auto& c : r.checked) env.out << "  ok: " << c << "\n";
      for (const auto& p : r.problems) env.out << "  problem: " << p << "\n";
      env.out << "  " << r.contents_note << "\n";
      if (!r.ok()) {
        env.err << "plugbox-server verify: " << r.version << " failed " << r.problems.size()
                << " check(s)\n";
        return static_cast<int>(ExitStatus::refused);
      }
      return 0;
    }
    if (cmd == c_lock) {
      HeldLock held = acquire_deploy_lock(layout, req);
      env.out << "locked by " << held.holder().describe() << std::endl;
      wait_for_eof(env.stdin_fd);
      return 0;
    }
    if (cmd == c_gc && dry_run) {
      std::optional<Flock> op;  // a consistent snapshot, as status takes
      if (kind_of(layout.oplock()) != FileKind::absent)
        op = Flock::acquire(layout.oplock(), Flock::Mode::shared, /*create=*/false);
      GcPlan plan = plan_gc(scan_chain(layout), static_cast<unsigned>(keep));
      env.out << "gc --keep " << keep << " (dry run): keeps";
      for (const auto& k : plan.kept) env.out << " " << k;
      env.out << "\n";
      for (const auto& v : plan.remove) env.out << "would remove " << v << "\n";
      for (const auto& r : plan.stale_records) env.out << "would remove the stale record of " << r << "\n";
      if (plan.empty()) env.out << "nothing to remove\n";
      return 0;
    }

    MutationGuard guard = acquire_for_mutation(layout, req);
    Chain chain(layout, actor);
    if (cmd == c_next) {
      NextVersionOptions o;
      if (*o_name) o.name = next_name;
      if (*o_by) o.by = next_by;
      if (*o_rev) o.source_rev = next_rev;
      env.out << chain.next_version(guard, o) << "\n";
      return 0;
    }
    Outcome out;
    if (cmd == c_seal) out = chain.seal(guard, *version);
    if (cmd == c_up) out = chain.upgrade_to(guard, *version);
    if (cmd == c_rb) out = chain.rollback_to(guard, version);
    if (cmd == c_rm) out = chain.remove(guard, *version, missing_ok);
    if (cmd == c_gc) {
      auto outs = chain.gc(guard, static_cast<unsigned>(keep));
      if (outs.empty()) env.out << "gc --keep " << keep << ": nothing to remove\n";
      for (const auto& o : outs) env.out << o.message << "\n";
      return 0;
    }
    env.out << out.message << "\n";
    return 0;
  } catch (const ServerError& e) {
    env.err << "plugbox-server " << cmd_name << ": " << one_line(e.what()) << "\n";
    return static_cast<int>(e.status());
  } catch (const std::exception& e) {
    env.err << "plugbox-server " << cmd_name << ": unexpected error: " << one_line(e.what()) << "\n";
    return static_cast<int>(ExitStatus::refused);
  }
}

}  // namespace plugbox::server
