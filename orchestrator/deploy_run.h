// The executor of a deploy plan (DESIGN §5): stage everywhere, switch in
// health-gated batches, and on a failed batch put every switched host back on
// its own previous version. Each host's switch has an explicit undo (stop,
// rollback-to the version that was live before, start); the run ends by
// saying where every host stands.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "orchestrator/reporter.h"
#include "upload/client/blob_store.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

// Where a host stands at the end of a run.
struct HostStanding {
  std::string host;
  std::string live;         // what is live there now, as far as this run knows ("" = nothing/unknown)
  std::string live_before;  // what was live when the run started
  std::string state;        // "deployed", "unchanged", "rolled back", "ROLLBACK FAILED", ...
  std::string error;        // the failure that concerned this host, if any
  bool needs_attention = false;  // not where the run meant to leave it
};

struct DeployOutcome {
  int exit_code = 0;
  std::vector<HostStanding> hosts;
  std::string summary;  // one line
  std::uint64_t bytes_sent = 0;
};

class DeployRun {
 public:
  DeployRun(transport::Transport& transport, const DeployPlan& plan, const upload::Manifest& manifest,
            const upload::BlobStore& blobs, Reporter& reporter, Journal& journal);
  ~DeployRun();

  transport::Awaitable<DeployOutcome> run();
  // Ctrl-C: start nothing new, roll back what was switched, exit 130.
  void interrupt();

 private:
  struct Host;
  transport::Awaitable<void> stage(Host& h);
  transport::Awaitable<void> switch_host(Host& h);
  transport::Awaitable<void> undo_switch(Host& h);
  transport::Awaitable<void> remove_version(Host& h);
  transport::Awaitable<bool> health(Host& h);
  transport::Awaitable<bool> run_service(Host& h, const std::string& step, const std::vector<std::string>& lines,
                                         const std::string& cwd);
  transport::Awaitable<void> for_each(std::vector<Host*> hosts, int parallel,
                                      std::function<transport::Awaitable<void>(Host&)> f);
  void report(const std::string& phase, Host* h, const std::string& what, Event::Level level,
              nlohmann::json data = nlohmann::json::object());
  void tick(const std::string& phase, std::size_t done, std::size_t failed, std::size_t total);
  DeployOutcome outcome(int code, const std::string& summary);

  transport::Transport& transport_;
  const DeployPlan& plan_;
  const upload::Manifest& manifest_;
  const upload::BlobStore& blobs_;
  Reporter& reporter_;
  Journal& journal_;
  std::vector<std::unique_ptr<Host>> hosts_;
  bool interrupted_ = false;
  bool abort_staging_ = false;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace plugbox::orchestrator
