// The executor of a deploy plan (docs/DESIGN.md §5): stage everywhere, switch
// in health-gated batches, and on a failed batch put every switched host back
// on its own previous version. Each host's switch is a step list with an
// explicit undo (host_steps.h); the run ends by saying where every host
// stands (run_outcome.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/interrupt.h"
#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "orchestrator/reporter.h"
#include "orchestrator/run_outcome.h"
#include "orchestrator/site_relay.h"
#include "upload/client/blob_store.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

class DeployRun {
 public:
  // `interrupt` is read between steps: once raised nothing new starts and
  // whatever was switched is put back (exit 130).
  DeployRun(transport::Transport& transport, const DeployPlan& plan, const upload::Manifest& manifest,
            const upload::BlobStore& blobs, Reporter& reporter, Journal& journal, const Interrupt& interrupt);
  ~DeployRun();

  transport::Awaitable<RunOutcome> run();

 private:
  struct Host;
  // Staging's first half, on every host before the second begins anywhere:
  // connect, init, lock, read live_before.
  transport::Awaitable<void> lock_host(Host& h);
  // Its second half: receive V (and post_upload, seal).
  transport::Awaitable<void> stage(Host& h);
  // Fan-out, between the two halves: a relay per site of two or more locked
  // hosts (hosts reached through the same jump chain); and its end, once
  // every host's upload has.
  transport::Awaitable<void> start_relays(const std::vector<Host*>& all);
  transport::Awaitable<void> finish_relays();
  transport::Awaitable<void> switch_host(Host& h);
  // Puts a host whose switch began back on live_before; `tolerated`: its
  // failure was within max_fail and the deploy goes on without it.
  transport::Awaitable<void> undo_switch(Host& h, bool tolerated);
  transport::Awaitable<void> remove_version(Host& h);
  transport::Awaitable<bool> health(Host& h);
  transport::Awaitable<void> for_each(std::vector<Host*> hosts, int parallel,
                                      std::function<transport::Awaitable<void>(Host&)> f);
  void fail(Host& h, const std::string& phase, const std::string& why);
  void report(const std::string& phase, Host* h, const std::string& what, Event::Level level,
              nlohmann::json data = nlohmann::json::object());
  void tick(const std::string& phase, std::size_t done, std::size_t failed, std::size_t total);
  bool stopping() const { return interrupt_.raised(); }
  RunOutcome outcome(const std::string& summary);

  transport::Transport& transport_;
  const DeployPlan& plan_;
  const upload::Manifest& manifest_;
  const upload::BlobStore& blobs_;
  Reporter& reporter_;
  Journal& journal_;
  const Interrupt& interrupt_;
  std::vector<std::unique_ptr<Host>> hosts_;
  bool abort_staging_ = false;
  std::uint64_t bytes_sent_ = 0;    // to hosts over their own streams
  std::uint64_t bytes_fanned_ = 0;  // fetched by hosts from their site's relay
  std::vector<std::unique_ptr<SiteRelay>> relays_;
};

}  // namespace plugbox::orchestrator
