// A fleet of scripted hosts (transport/scripted_transport.h) for the
// executor tests (deploy_run_test.cc, rollback_run_test.cc, gc_run_test.cc,
// status_run_test.cc): every host answers as a healthy plugbox-server would
// (init, the lock held on its channel, status --json, receive speaking the
// upload protocol, every other command exits 0), and a test scripts only
// what differs. Everything runs on one io_context, in milliseconds.
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "inventory/inventory.h"
#include "orchestrator/fleet_context.h"
#include "orchestrator/interrupt.h"
#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "orchestrator/reporter.h"
#include "orchestrator/run_outcome.h"
#include "orchestrator/service_config.h"
#include "transport/scripted_transport.h"

namespace plugbox::orchestrator::test {

using namespace std::chrono_literals;
using transport::Awaitable;
using transport::Exit;
using transport::Reply;
using transport::ReplyFn;
using transport::ScriptedExec;

// The version a deploy brings, the one live before it, and the one before that.
inline const std::string kV = "2026-03-01T00:00:00";
inline const std::string kPrev = "2026-02-01T00:00:00";
inline const std::string kOld = "2026-01-01T00:00:00";
inline const std::string kOwner = "owner-1";

// What `plugbox-server status --json` prints.
inline std::string status_json(bool initialised, const std::string& live, const std::string& previous,
                               const std::string& lock_owner = "", const nlohmann::json& record = {}) {
  nlohmann::json j = {{"initialised", initialised},
                      {"live", live.empty() ? nlohmann::json(nullptr) : nlohmann::json(live)},
                      {"previous", previous.empty() ? nlohmann::json(nullptr) : nlohmann::json(previous)},
                      {"versions", nlohmann::json::array()}};
  if (!live.empty()) j["versions"].push_back({{"name", live}, {"state", "ready"}});
  if (!previous.empty()) j["versions"].push_back({{"name", previous}, {"state", "ready"}});
  if (!lock_owner.empty()) j["lock"] = {{"owner", lock_owner}};
  if (record.is_object()) j.update(record);
  return j.dump() + "\n";
}

// Where one scripted host stands, as its status answers.
struct HostLive {
  bool initialised = true;
  std::string live = kPrev, previous = kOld;
  // What status adds from the host record (server-tools/status.h): "run",
  // "service_stopped", "transaction". Null: a host with no record.
  nlohmann::json record = nullptr;
};

// The "run" object of a host record, as status shows it.
inline nlohmann::json recorded_run(const std::string& run, const std::string& from, const std::string& to,
                                   const std::string& state, const std::string& kind = "deploy") {
  return {{"run", {{"run", run}, {"kind", kind}, {"from", from}, {"to", to}, {"state", state}}}};
}

// A command line as the tests compare it: a plugbox-server command by its
// arguments after `--owner ID` ("upgrade-to V"; a switch transaction,
// `--wait N switch`, as "switch"), a service line by the line itself
// ("svc-stop"; its exports and cd dropped).
inline std::string label(const std::string& line) {
  if (line.find("plugbox-server ") != std::string::npos) {
    auto o = line.find(" --owner ");
    if (o != std::string::npos) {
      auto s = line.find(' ', o + 9);
      if (s != std::string::npos) {
        std::string args = line.substr(s + 1);
        // `--wait N lock` / `--wait N switch`: by the command alone.
        if (args.rfind("--wait ", 0) == 0) {
          auto sp = args.find(' ', 7);
          if (sp != std::string::npos) args = args.substr(sp + 1);
        }
        // `run --timeout S -- LINE`: a timed service line, by the line.
        if (args.rfind("run --timeout ", 0) == 0) {
          auto dd = args.find(" -- ");
          if (dd != std::string::npos) return args.substr(dd + 4);
        }
        return args;
      }
    }
  }
  auto semi = line.rfind("; ");
  return semi == std::string::npos ? line : line.substr(semi + 2);
}

class RecordingReporter : public Reporter {
 public:
  void event(const Event& e) override {
    events.push_back(e);
    if (throw_on && throw_on(e)) {
      throw_on = nullptr;  // once
      throw std::runtime_error("reporter exploded");
    }
  }
  void progress(const Progress& p) override { progresses.push_back(p); }

  // Whether an event of `host` ("" = the run) in `phase` contains `text`.
  bool said(const std::string& host, const std::string& phase, const std::string& text,
            std::optional<Event::Level> level = std::nullopt) const {
    for (const auto& e : events)
      if (e.host == host && e.phase == phase && e.what.find(text) != std::string::npos && (!level || e.level == *level))
        return true;
    return false;
  }
  std::string dump() const {
    std::string s;
    for (const auto& e : events) s += e.phase + " [" + e.host + "] " + e.what + "\n";
    return s;
  }

  std::vector<Event> events;
  std::vector<Progress> progresses;
  std::function<bool(const Event&)> throw_on;  // makes event() throw once, for the matching event
};

// Answers `receive V --create ...` as plugbox-server does: says it created V,
// reads the hello and the manifest, needs nothing, reads to the stream's end
// and says done.
inline Awaitable<Exit> receive_like_server(ScriptedExec& x) {
  const std::string& line = x.line();
  auto at = line.find(" receive ");
  std::string v = line.substr(at + 9, line.find(' ', at + 9) - (at + 9));
  x.write_stdout(nlohmann::json{{"created", v}}.dump() + "\n");
  auto first = co_await x.read_stdin();  // hello + manifest
  if (!first || first->rfind("PBXUPLD\n", 0) != 0) {
    x.write_stdout(R"({"error":"not an upload stream"})" "\n");
    co_return Exit{.status = 2};
  }
  x.write_stdout(R"({"need":[]})" "\n");
  co_await x.read_stdin_to_end();
  x.write_stdout(R"({"done":{"files":3,"dirs":1,"symlinks":0,"files_sent":0,"bytes_sent":0,"bytes_written":0,"files_linked":3,"files_copied":0}})" "\n");
  co_return Exit{};
}

// A receive that refuses with {"error": why}; `created` first when the host
// had made V.
inline Awaitable<Exit> receive_refusing(ScriptedExec& x, std::string why, bool created) {
  if (created) x.write_stdout(R"({"created":"V"})" "\n");
  co_await x.read_stdin();
  x.write_stdout(nlohmann::json{{"error", why}}.dump() + "\n");
  co_return Exit{.status = 1};
}
inline ReplyFn receive_refuses(std::string why, bool created) {
  return [why, created](ScriptedExec& x) { return receive_refusing(x, why, created); };
}

// Runs `f` (a side effect: raise the interrupt, end the lock) and then
// answers as `r`.
inline ReplyFn after_doing(std::function<void(ScriptedExec&)> f, ReplyFn then) {
  return [f = std::move(f), then = std::move(then)](ScriptedExec& x) {
    f(x);
    return then(x);
  };
}
inline ReplyFn after_doing(std::function<void(ScriptedExec&)> f, Reply r = {}) {
  return after_doing(std::move(f), transport::to_reply_fn(std::move(r)));
}

inline const char* kService = R"(
[service]
name = "shop"
upload_version = "dist"
stop = ["svc-stop"]
start = ["svc-start"]
health = "svc-health"
[deploy]
batches = [1, "100%"]
health_retries = 1
health_interval = 0
)";

struct ScriptedFleet {
  boost::asio::io_context io;
  transport::ScriptedTransport t{io.get_executor()};
  Interrupt interrupt;
  Journal journal;  // records nothing
  RecordingReporter reporter;
  std::map<std::string, HostLive> live;  // each host's status answer (default: kPrev live, kOld previous)
  std::optional<inventory::Inventory> inv;
  std::vector<std::string> names;

  std::filesystem::path state_dir;  // set by journal_to_disk()

  // Journals the run into a temporary $XDG_STATE_HOME; journal_lines() reads it back.
  void journal_to_disk(const std::string& kind) {
    char tmpl[] = "/tmp/plugbox-exec-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    state_dir = tmpl;
    ::setenv("XDG_STATE_HOME", tmpl, 1);
    journal = Journal::open(kind, "test-run");
    journal_kind = kind;
  }
  std::vector<nlohmann::json> journal_lines() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(journal.dir() / (journal_kind + ".jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::string journal_kind;
  ~ScriptedFleet() {
    if (!state_dir.empty()) {
      journal = Journal{};
      std::error_code ec;
      std::filesystem::remove_all(state_dir, ec);
      ::unsetenv("XDG_STATE_HOME");
    }
  }

  // `n` ssh hosts web1..webN (the scripted transport answers any target by
  // name). Their server is pinned (`plugbox-server`), unless `server_defaults`
  // says otherwise (server_install_test.cc: "" for plugbox's own, installed).
  explicit ScriptedFleet(int n = 3, const std::string& server_defaults = "server = \"plugbox-server\"\n") {
    std::string text = "[defaults]\nuser = \"shop\"\nhost_key_check = \"off\"\n" + server_defaults;
    text += "[hosts.\"web[1:" + std::to_string(n) + "]\"]\naddress = \"web{}.internal\"\n";
    text += "[groups.web]\nhosts = [\"web[1:" + std::to_string(n) + "]\"]\n";
    inv = inventory::Inventory::parse(text, "inventory.toml");
    for (int i = 1; i <= n; ++i) names.push_back("web" + std::to_string(i));

    auto& all = t.every_host();
    all.on(" lock").reply(Reply{.out = "locked by " + kOwner + "\n"});  // held until its stdin ends
    all.on("status --json").reply([this](ScriptedExec& x) {
      HostLive h = live.count(x.host()) ? live.at(x.host()) : HostLive{};
      return transport::to_reply_fn(Reply{.out = status_json(h.initialised, h.live, h.previous, "", h.record)})(x);
    });
    all.on(" receive ").reply(receive_like_server);
    all.on([](const transport::Command& c) { return is_switch(c); }).reply([this](ScriptedExec& x) {
      return switch_like_server(x);
    });
  }

  // `plugbox-server ... --wait N switch`: a host's switch transaction.
  static bool is_switch(const transport::Command& c) {
    const auto& w = c.words();
    return !c.is_shell() && w.size() >= 3 && w.back() == "switch" && w[w.size() - 3] == "--wait";
  }

  // The requests of the switch transactions each host was sent, in order.
  std::map<std::string, std::vector<nlohmann::json>> txns;

  // Answers `plugbox-server switch` as a host does (server-tools/switch_txn.h):
  // reads the request, then runs its steps in order, each as the command it
  // stands for (a service line with its env and cwd; `plugbox-server ...
  // upgrade-to V` / `rollback-to V` for a chain step) on a session of its
  // own, so that each step is recorded among the host's execs right after
  // the switch, and answered by the host's rules as if it were sent alone (a
  // scripted failure fails the step, a delay delays it, a hang runs into the
  // step's timeout, a drop or vanish drops the switch's connection, times(n)
  // is consumed). Replies as JSON lines, and exits 0 when ok, 1 otherwise.
  // Like a host, it goes on with the list once the client's connection is
  // gone (a step's drop); a vanished host or a cancelled transport ends it.
  Awaitable<Exit> switch_like_server(ScriptedExec& x) {
    const std::string in = co_await x.read_stdin_to_end();
    auto req = nlohmann::json::parse(in, nullptr, false);
    if (!req.is_object() || !req.contains("steps") || !req["steps"].is_array()) {
      x.write_stdout(nlohmann::json{{"txn", "refused"}, {"error", "switch: bad request"}}.dump() + "\n");
      co_return Exit{.status = 1};
    }
    txns[x.host()].push_back(req);
    // The plugbox-server prefix (`plugbox-server --home H --owner O`).
    std::vector<std::string> server(x.command().words().begin(), x.command().words().end() - 3);
    auto open = co_await t.open(transport::local_target(x.host(), "/"));
    if (!open.session) {  // the host refuses new connections: as a dropped one
      x.drop();
      co_return Exit{.status = 1};
    }
    auto session = open.session;
    // The host runs the transaction to its end whatever happens to the
    // client's connection (switch_txn.h): once that is gone (dropped, or past
    // the client's deadline) the steps go on, unanswered.
    auto say = [&x](const nlohmann::json& j) {
      if (x.running()) x.write_stdout(j.dump() + "\n");
    };
    bool ok = true;
    std::size_t begun = 0;
    nlohmann::json tolerated = nlohmann::json::array();
    const auto& steps = req["steps"];
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const auto& s = steps[i];
      const std::string name = s.value("name", "");
      auto build = [&]() {
        if (s.contains("op")) {
          auto argv = server;
          argv.push_back(s.value("op", ""));
          argv.push_back(s.value("version", ""));
          return transport::Command::argv(std::move(argv));
        }
        auto c = s.contains("shell") ? transport::Command::shell(s.value("shell", ""))
                                     : transport::Command::argv(s["argv"].get<std::vector<std::string>>());
        if (s.contains("env") && s["env"].is_object())
          for (const auto& [k, v] : s["env"].items()) c.env(k, v.get<std::string>());
        if (!s.value("cwd", "").empty()) c.cwd(s.value("cwd", ""));
        return c;
      };
      const double timeout = s.value("timeout", 300.0);
      ++begun;
      say({{"step", i}, {"name", name}, {"state", "running"}});
      transport::ExecOptions o;
      o.capture_stdout = o.capture_stderr = true;
      o.deadline = transport::deadline_in(
          std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(timeout)));
      transport::ExecResult r = co_await session->exec(build(), std::move(o));
      if (r.error && r.error.code == std::errc::operation_canceled) break;  // the transport was cancelled
      if (r.error && r.error.code != std::errc::timed_out) {
        // The connection dropped during this step: the client's goes with
        // it; on the host the step and the rest of the list run on (the
        // step taken as done), unless the host is gone (vanish).
        if (x.running()) x.drop();
        auto again = co_await t.open(transport::local_target(x.host(), "/"));
        if (!again.session) co_return Exit{.status = 1};
        session = again.session;
        continue;
      }
      const std::string output = r.out + r.err;
      std::string error;
      if (r.error) {
        error = "timed out after " + std::to_string(timeout) + " s (its process group was killed)";
      } else if (r.exit_status != 0) {
        error = r.exit_signal.empty() ? "exit " + std::to_string(r.exit_status) : "killed by signal " + r.exit_signal;
        auto b = output.find_first_not_of("\r\n \t");
        if (b != std::string::npos) {
          auto e = output.find('\n', b);
          error += ": " + output.substr(b, e == std::string::npos ? std::string::npos : e - b);
        }
      }
      say({{"step", i}, {"name", name}, {"ok", r.ok()}, {"exit", r.exit_status}, {"output", output}, {"error", error}});
      if (!r.ok()) {
        if (!s.value("tolerate_failure", false)) {
          ok = false;
          break;
        }
        tolerated.push_back(name + ": " + error);
      }
    }
    session->close();
    if (!x.running()) co_return Exit{.status = 1};
    x.write_stdout(
        nlohmann::json{{"txn", "done"}, {"ok", ok}, {"begun", begun}, {"tolerated", tolerated}}.dump() + "\n");
    co_return Exit{.status = ok ? 0 : 1};
  }

  std::vector<const inventory::Host*> selected() const { return inv->select({{"web"}, {}}); }

  DeployPlan plan(const std::string& service_toml = kService) const {
    auto svc = ServiceConfig::parse(service_toml, "/src/shop/plugbox.toml");
    DeployOptions o;
    o.version = kV;
    o.owner = kOwner;
    auto p = plan_deploy(svc, *inv, selected(), o);
    for (const auto& h : p.hosts) REQUIRE_FALSE(h.target.problem());
    REQUIRE(h_is_ssh(p));
    return p;
  }
  static bool h_is_ssh(const DeployPlan& p) {
    for (const auto& h : p.hosts)
      if (h.target.kind != transport::TargetKind::ssh) return false;
    return true;
  }

  std::vector<PlannedHost> planned() const {
    std::vector<PlannedHost> out;
    for (const auto* h : selected()) out.push_back(plan_host(*inv, *h, "shop", kOwner));
    return out;
  }

  FleetContext context(const std::vector<PlannedHost>& hosts, int parallel = 50) {
    FleetContext c{t, hosts, reporter, journal, interrupt};
    c.parallel = parallel;
    c.timeout = 5;
    c.connect_timeout = 5;
    return c;
  }

  // Runs `a` to its end on the io_context; fails the test after `limit`
  // instead of hanging.
  template <class T>
  T run(Awaitable<T> a, std::chrono::milliseconds limit = 5000ms) {
    auto out = std::make_shared<std::optional<T>>();
    auto error = std::make_shared<std::exception_ptr>();
    auto done = std::make_shared<bool>(false);
    transport::asio::co_spawn(io, std::move(a), [out, error, done](std::exception_ptr e, T v) {
      *error = e;
      if (!e) out->emplace(std::move(v));
      *done = true;
    });
    io.restart();
    const auto until = transport::Clock::now() + limit;
    while (!*done && transport::Clock::now() < until) io.run_one_for(20ms);
    REQUIRE(*done);
    if (*error) std::rethrow_exception(*error);
    // What the run left behind (a lock holder ending, a session closing).
    io.restart();
    io.poll();
    return std::move(**out);
  }

  // A host's commands as label() shows them, in order; a switch
  // transaction by its request's txn ("switch" or "undo"), followed by the
  // steps it ran.
  std::vector<std::string> steps(const std::string& host) const {
    std::vector<std::string> out;
    for (const auto& e : t.execs(host)) {
      std::string l = label(e.command);
      if (l == "switch") {
        auto req = nlohmann::json::parse(e.stdin_bytes, nullptr, false);
        if (req.is_object()) l = req.value("txn", l);
      }
      out.push_back(l);
    }
    return out;
  }
  // The full rendered lines of a host's commands whose label is `l`.
  std::vector<std::string> lines(const std::string& host, const std::string& l) const {
    std::vector<std::string> out;
    for (const auto& c : t.commands(host))
      if (label(c) == l) out.push_back(c);
    return out;
  }
  // Every lock command of the host ended (none is left held).
  bool locks_released(const std::string& host) const {
    for (const auto& e : t.execs(host))
      if (label(e.command) == "lock" && !e.ended) return false;
    return true;
  }
  std::size_t count(const std::string& host, const std::string& l) const {
    auto s = steps(host);
    return std::size_t(std::count(s.begin(), s.end(), l));
  }
};

inline const HostStanding& standing(const RunOutcome& o, const std::string& host) {
  for (const auto& h : o.hosts)
    if (h.host == host) return h;
  FAIL("no host " << host << " in the outcome");
  throw std::logic_error("unreachable");
}

// The row of `host` in a per-host table (fleet status, lock, unlock).
template <class Row>
const Row& row(const std::vector<Row>& rows, const std::string& host) {
  for (const auto& r : rows)
    if (r.host == host) return r;
  FAIL("no row for " << host);
  throw std::logic_error("unreachable");
}

}  // namespace plugbox::orchestrator::test
