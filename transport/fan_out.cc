#include "transport/fan_out.h"

#include <algorithm>
#include <memory>

#include "transport/notifier.h"

namespace plugbox::transport {

std::string HostOutcome::describe() const {
  if (!started) return "not started";
  if (error) {
    std::string out = error.step.empty() ? "" : error.step + ": ";
    out += error.code.message();
    if (!error.detail.empty()) out += ": " + error.detail;
    return out;
  }
  return result.describe();
}

namespace {

struct Run {
  Run(Transport& t, std::vector<Target> ts, Command c, FanOutOptions o, Executor ex)
      : transport(t), targets(std::move(ts)), command(std::move(c)), options(std::move(o)),
        done(std::make_shared<Notifier>(ex)) {
    outcomes.resize(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) outcomes[i].name = targets[i].name();
  }
  Transport& transport;
  std::vector<Target> targets;
  Command command;
  FanOutOptions options;
  std::vector<HostOutcome> outcomes;
  size_t next = 0;
  int workers = 0;
  std::shared_ptr<Notifier> done;
};

Awaitable<void> one_host(std::shared_ptr<Run> run, size_t i) {
  HostOutcome& out = run->outcomes[i];
  out.started = true;
  Deadline deadline = run->options.timeout.count() > 0 ? deadline_in(run->options.timeout) : kNoDeadline;
  OpenResult opened = co_await run->transport.open(run->targets[i], deadline);
  if (opened.error) {
    out.error = opened.error;
    co_return;
  }
  ExecOptions o;
  o.deadline = deadline;
  if (run->options.on_output) {
    o.on_stdout = [run, i](std::string_view d) { run->options.on_output(i, false, d); };
    o.on_stderr = [run, i](std::string_view d) { run->options.on_output(i, true, d); };
  }
  out.result = co_await opened.session->exec(run->command, std::move(o));
  out.error = out.result.error;
  opened.session->close();
}

Awaitable<void> worker(std::shared_ptr<Run> run) {
  auto stopping = [&run] {
    return run->transport.cancelled() || (run->options.stop_starting && run->options.stop_starting());
  };
  while (run->next < run->targets.size() && !stopping()) {
    size_t i = run->next++;
    co_await one_host(run, i);
    if (run->options.on_done) run->options.on_done(i, run->outcomes[i]);
  }
  --run->workers;
  run->done->notify();
}

}  // namespace

Awaitable<std::vector<HostOutcome>> fan_out(Transport& transport, std::vector<Target> targets, Command command,
                                            FanOutOptions options) {
  auto ex = co_await asio::this_coro::executor;
  auto run = std::make_shared<Run>(transport, std::move(targets), std::move(command), std::move(options), ex);
  size_t n = run->targets.size();
  size_t parallel = run->options.parallel > 0 ? std::min<size_t>(run->options.parallel, n) : n;
  run->workers = static_cast<int>(parallel);
  for (size_t w = 0; w < parallel; ++w) asio::co_spawn(ex, worker(run), asio::detached);
  while (run->workers > 0) co_await run->done->wait();
  co_return std::move(run->outcomes);
}

}  // namespace plugbox::transport
