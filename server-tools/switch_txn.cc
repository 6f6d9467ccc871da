#include "server-tools/switch_txn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/unique_fd.h"
#include "server-tools/chain.h"
#include "server-tools/errors.h"
#include "server-tools/host_record.h"
#include "server-tools/service_line.h"

namespace plugbox::server {

namespace {

std::string str(const nlohmann::json& j, const char* key, bool required, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) bad_input("switch request: " + where + key + " is missing");
    return "";
  }
  if (!it->is_string()) bad_input("switch request: " + where + key + " must be a string");
  return it->get<std::string>();
}

StepResult run_chain_op(const Layout& layout, const LockRequest& lock, const Actor& actor, const TxnStep& s) {
  StepResult r;
  try {
    LockRequest in_txn = lock;
    in_txn.in_txn = true;
    MutationGuard guard = acquire_for_mutation(layout, in_txn);
    Chain chain(layout, actor);
    Outcome o = s.op == "upgrade-to" ? chain.upgrade_to(guard, s.version) : chain.rollback_to(guard, s.version);
    r.ok = true;
    r.exit = 0;
    r.output = o.message;
    // A switch made whose outcome the log could not take: said with it.
    for (const auto& w : chain.warnings()) r.output += "\n" + w;
  } catch (const ServerError& e) {
    r.exit = int(e.status());
    r.error = std::string(e.what());
  }
  return r;
}

void emit(int fd, const nlohmann::json& j) {
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  // The client may be gone (EPIPE, ignored): the work goes on regardless.
  [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
}

// The transaction proper, in the detached child. Returns the exit status.
int run_steps(const Layout& layout, const LockRequest& lock, const Actor& actor, const TxnRequest& req, int out) {
  auto take = [&] {
    MutationGuard guard = acquire_for_mutation(layout, lock);
    return take_txn_lock(layout, guard, lock.owner.empty() ? req.run : lock.owner);
  };
  std::optional<HeldLock> txn = take();  // held until the process ends
  if (!txn) refuse("another switch transaction is running here (see plugbox-server status)");
  std::string problem;
  HostRecord rec = read_host_record(layout, &problem).value_or(HostRecord{});
  const bool same_run = rec.run == req.run;
  if (req.txn == "switch" || !same_run) {
    rec.run = req.run;
    rec.kind = req.kind;
    rec.from = req.from;
    rec.to = req.to;
  }
  rec.owner = lock.owner;
  rec.txn = req.txn;
  rec.state = req.txn == "undo" ? "undoing" : "switching";
  rec.steps.clear();
  for (const auto& s : req.steps) rec.steps.push_back({s.name, "pending", -1, ""});

  // Once the record cannot be written (a full disk), no step whose intent it
  // cannot hold runs: a change is made only once it is recorded. After a step
  // that had to succeed failed (a switch the log could not record is
  // refused), the rest does not run either. In both cases one kind of step
  // still runs: a start while the service is stopped (by this transaction, or
  // as the record says an earlier one left it). Leaving the service down
  // because a change was refused, or its record could not be updated, would
  // turn a full disk into an outage; the reply says a start ran unrecorded.
  std::string unrecorded;  // why the record's last write failed; "" when it succeeded
  auto record = [&] {
    try {
      write_host_record(layout, rec);
      unrecorded.clear();
    } catch (const std::exception& e) {
      unrecorded = e.what();
    }
    return unrecorded.empty();
  };
  record();

  bool ok = true, skipping = false;
  std::size_t begun = 0;
  std::optional<std::size_t> failed_at;  // the step that had to succeed and failed
  nlohmann::json tolerated = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (std::size_t i = 0; i < req.steps.size(); ++i) {
    const TxnStep& s = req.steps[i];
    const bool restores = s.effect == "start" && rec.service_stopped;
    auto skip = [&](const std::string& why) {
      rec.steps[i].state = "skipped";
      rec.steps[i].error = why;
      skipped.push_back(i);
      skipping = true;
      ok = false;
      emit(out, {{"step", i}, {"name", s.name}, {"ok", false}, {"skipped", true}, {"exit", -1}, {"output", ""},
                 {"error", why}});
    };
    // Past a step not run or failed, the later ones would run out of order.
    if ((skipping || failed_at) && !restores) {
      skip(failed_at ? "not run: step " + req.steps[*failed_at].name + " failed" : "not run: an earlier step was not run");
      continue;
    }
    // The intent first: a kill between here and the outcome leaves a record
    // that says this step may have run.
    const bool was_stopped = rec.service_stopped;
    rec.steps[i].state = "running";
    if (s.effect == "stop") rec.service_stopped = true;
    const bool intent_recorded = record();
    if (!intent_recorded && !restores) {
      rec.service_stopped = was_stopped;
      skip("not run: its intent could not be recorded in the host record (" + unrecorded + ")");
      continue;
    }
    begun = i + 1;
    emit(out, {{"step", i}, {"name", s.name}, {"state", "running"}});
    StepResult r = s.op.empty() ? run_service_line({s.shell, s.env, s.cwd, s.timeout_s})
                                 : run_chain_op(layout, lock, actor, s);
    rec.steps[i].state = r.ok ? "ok" : "failed";
    rec.steps[i].exit = r.exit;
    rec.steps[i].error = r.error;
    if (r.ok && s.effect == "start") rec.service_stopped = false;
    if (!intent_recorded)
      r.output += (r.output.empty() ? "" : "\n") + std::string("run although the host record could not take its intent (") +
                  unrecorded + ")";
    record();
    emit(out, {{"step", i}, {"name", s.name}, {"ok", r.ok}, {"exit", r.exit}, {"output", r.output}, {"error", r.error}});
    if (r.ok) continue;
    // A failed start is not retried here: the client's undo decides.
    if (!s.tolerate_failure) {
      ok = false;
      if (!failed_at) failed_at = i;
      if (s.effect == "start") break;
      continue;
    }
    tolerated.push_back(s.name + ": " + r.error);
  }
  if (req.txn == "undo") rec.state = ok ? "undone" : "undo_failed";
  else rec.state = ok ? "switched" : "failed";
  record();
  nlohmann::json done = {{"txn", "done"}, {"ok", ok}, {"begun", begun}, {"tolerated", tolerated}};
  if (!skipped.empty()) done["skipped"] = skipped;
  if (failed_at) done["failed"] = *failed_at;
  if (!unrecorded.empty()) done["unrecorded"] = "the host record " + layout.host_record().string() +
                                                " could not be written (" + unrecorded +
                                                "): it may not say what ran; make room, then run plugbox fleet rollback";
  emit(out, done);
  return ok ? 0 : 1;
}

}  // namespace

TxnRequest TxnRequest::parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad_input("switch request: stdin is not one JSON object");
  TxnRequest r;
  r.run = str(j, "run", true, "");
  r.kind = str(j, "kind", true, "");
  r.txn = str(j, "txn", true, "");
  r.from = str(j, "from", false, "");
  r.to = str(j, "to", true, "");
  if (r.kind != "deploy" && r.kind != "rollback") bad_input("switch request: kind must be deploy or rollback");
  if (r.txn != "switch" && r.txn != "undo") bad_input("switch request: txn must be switch or undo");
  if (r.run.empty() || r.run.size() > 200) bad_input("switch request: run must be 1 to 200 characters");
  auto steps = j.find("steps");
  if (steps == j.end() || !steps->is_array()) bad_input("switch request: steps must be an array");
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const auto& sj = (*steps)[i];
    const std::string where = "steps[" + std::to_string(i) + "].";
    if (!sj.is_object()) bad_input("switch request: " + where + " must be an object");
    TxnStep s;
    s.name = str(sj, "name", true, where);
    s.op = str(sj, "op", false, where);
    s.effect = str(sj, "effect", false, where);
    if (s.effect.empty()) s.effect = "none";
    if (s.effect != "none" && s.effect != "stop" && s.effect != "switch" && s.effect != "start")
      bad_input("switch request: " + where + "effect must be none, stop, switch or start");
    if (!s.op.empty()) {
      if (s.op != "upgrade-to" && s.op != "rollback-to")
        bad_input("switch request: " + where + "op must be upgrade-to or rollback-to");
      s.version = str(sj, "version", true, where);
    } else {
      s.shell = str(sj, "shell", true, where);
      s.cwd = str(sj, "cwd", false, where);
      if (auto env = sj.find("env"); env != sj.end() && env->is_object())
        for (auto it = env->begin(); it != env->end(); ++it)
          if (it->is_string()) s.env.emplace_back(it.key(), it->get<std::string>());
    }
    if (auto t = sj.find("timeout"); t != sj.end()) {
      if (!t->is_number() || !(t->get<double>() > 0 && t->get<double>() <= 86400))
        bad_input("switch request: " + where + "timeout must be a number of seconds in (0, 86400]");
      s.timeout_s = t->get<double>();
    }
    if (auto t = sj.find("tolerate_failure"); t != sj.end() && t->is_boolean()) s.tolerate_failure = t->get<bool>();
    r.steps.push_back(std::move(s));
  }
  return r;
}

int run_switch_txn(const Layout& layout, const LockRequest& lock, const Actor& actor, const TxnRequest& req,
                   std::ostream& out) {
  out.flush();
  auto [pid, rd, wr] = fork_with_pipe();
  if (pid == 0) {
    // A session of its own, deaf to the hangup and broken pipe that follow
    // the client's end: once begun, the transaction runs to its end here.
    ::setsid();
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    rd.reset();
    // Nothing of the client's channel stays open here: its end must not wait
    // for ours.
    if (int devnull = ::open("/dev/null", O_RDWR); devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      if (devnull > 2) ::close(devnull);
    }
    int code = 1;
    try {
      code = run_steps(layout, lock, actor, req, wr.get());
    } catch (const ServerError& e) {
      emit(wr.get(), {{"txn", "refused"}, {"error", e.what()}, {"exit", int(e.status())}});
      code = int(e.status());
    } catch (const std::exception& e) {
      emit(wr.get(), {{"txn", "refused"}, {"error", e.what()}, {"exit", 1}});
    }
    _exit(code);
  }
  wr.reset();
  // Relays the child's replies as they come; if our own output is gone the
  // child goes on.
  std::string refused;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf, std::size_t(n));
    out << chunk;
    out.flush();
    if (chunk.find("\"txn\":\"refused\"") != std::string_view::npos) refused.append(chunk);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!refused.empty()) {
    // Say it the way every other refusal is said (one line, exit 1 or 2).
    for (std::size_t start = 0; start < refused.size();) {
      std::size_t nl = refused.find('\n', start);
      auto j = nlohmann::json::parse(refused.substr(start, nl - start), nullptr, false);
      if (j.is_object() && j.value("txn", "") == "refused") {
        std::string why = j.value("error", "refused");
        if (j.value("exit", 1) == 2) bad_input(why);
        refuse(why);
      }
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace plugbox::server
