// One step on a host as a value: what runs, how long it may take, whether
// its failure is tolerated, and what it may have changed once begun. A
// switch, its undo and a rollback are lists of steps (host_steps.h); the
// dry-run prints those very lists and HostConn::run_steps runs them, so what
// is shown is what runs. A list is plain data (to_json), so it can be sent to
// a host as one request.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "transport/command.h"

namespace plugbox::orchestrator {

// What a step may have done to the host once it was sent, whatever its
// result: a command cut off by its deadline may still have done its work.
// The undo of a switch is computed from these (SwitchProgress).
enum class Effect {
  none,
  stops_service,   // the service's stop lines
  switches_live,   // upgrade-to / rollback-to
  starts_service,  // start or refresh lines
};

struct Step {
  std::string name;  // in the journal and in errors: "stop", "upgrade-to", "health", ...
  transport::Command command;
  double timeout_s = 300;
  // The list goes on past a failure (recorded): a failing stop must not keep
  // the old version from coming back.
  bool tolerate_failure = false;
  // May run after the deploy lock was lost: it changes nothing on the host.
  bool read_only = false;
  Effect effect = Effect::none;
  // A plugbox-server chain step ("upgrade-to" / "rollback-to" with its
  // version): sent to a host's switch transaction as an operation, not as a
  // command line, so the host runs it in-process under its own lock.
  std::string server_op{}, server_arg{};
};

using Steps = std::vector<Step>;

// One line per step, as a dry-run shows it: the command line, then what is
// special about it ("(a failure is tolerated)").
std::string render(const Steps& steps, const std::string& indent);
// Whether the list switches live (has an upgrade-to / rollback-to step).
bool has_live_switch(const Steps& steps);
nlohmann::json to_json(const Step& s);
nlohmann::json to_json(const Steps& s);

// How far a switch got on a host, from the steps begun there (a forward
// switch's list; an undo either completes or leaves the host needing an
// operator, whatever it got through).
struct SwitchProgress {
  bool stopped = false;   // a stop was sent: the service may be down
  bool switched = false;  // upgrade-to was sent: live may be the new version
  // Takes in the first `begun` steps of `steps`, but for those `skipped`
  // (the host did not run them).
  void note(const Steps& steps, std::size_t begun, const std::vector<std::size_t>& skipped = {});
};

}  // namespace plugbox::orchestrator
