// `status`: what a service home holds, for people (text) and for the
// orchestrator's `fleet status` (JSON).
//
// JSON schema (stable; "schema" changes only with an incompatible change):
// {
//   "schema": 1,
//   "home": "/srv/shop",
//   "live": "2026-11-25T21:40:00" | null,      // null: nothing live yet (or live broken)
//   "previous": "2026-11-24T10:00:00" | null,  // the live version's previous
//   "chain": ["2026-11-25T21:40:00", ...],      // live, its previous, theirs...; each once
//   "versions": [                               // every version, newest first
//     {"name": "2026-11-25T21:40:00",
//      "state": "staged" | "ready",
//      "created": "2026-11-25T21:39:12Z" | null,
//      "by": "alice@laptop" | null,
//      "source_rev": "9f2c1e0" | null,
//      "size_bytes": 123456 | null,             // recorded at seal; measured now if staged
//      "manifest_digest": "sha256:..." | null,
//      "previous": "2026-11-24T10:00:00" | null, // only links that name an existing version
//      "next": null,
//      "is_live": true,
//      "problems": []}                          // e.g. a broken link, an unreadable record
//   ],
//   "lock": {"owner": "deploy-7f3a", "host": "web01", "pid": 4242,
//            "since": "2026-11-25T21:39:00Z"} | null,
//   "hold": {"owner": "alice@laptop", "host": "web01",   // the maintenance lock (hold.h)
//            "since": "2026-11-25T20:00:00Z", "held_s": 7980,
//            "message": "db migration window", "problem": null}
//         | {"owner": null, "host": null, "since": null, "held_s": null,
//            "message": null, "problem": "the maintenance lock ... cannot be read (...)"}
//         | null,                                 // null: no maintenance lock
//   "problems": ["..."],                        // every problem found, one line each
//   "initialised": true | false                 // false: nothing was ever deployed to this
//                                               // home (never_deployed in layout.h); then
//                                               // live and previous are null, chain,
//                                               // versions and problems empty, lock and
//                                               // hold null
// }
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server-tools/chain_state.h"
#include "server-tools/hold.h"
#include "server-tools/host_record.h"
#include "server-tools/lock.h"

namespace plugbox::server {

struct StatusReport {
  std::string home;
  ChainState chain;
  std::optional<LockHolder> lock;
  std::map<std::string, std::optional<std::uint64_t>> sizes;
  bool initialised = true;  // false: never_deployed(layout), and the rest is empty
  std::optional<HostRecord> record;  // the last run that changed the host
  std::string record_problem;        // the record exists but could not be read
  std::optional<LockHolder> txn;     // a switch transaction running now
  HoldLookup hold;                   // the maintenance lock
  std::chrono::system_clock::time_point read_at;  // when collected: how long the hold is held

  // "running" or "interrupted" while the record says a transaction is under
  // way; "" when none is.
  std::string transaction_state() const;
  // Every problem: the chain's, the record's, an interrupted transaction, a
  // service left stopped and an unreadable maintenance lock.
  std::vector<std::string> problems() const;
};

// Reads the layout under the shared oplock (a consistent snapshot: no
// mutating command is half-way) and probes the deploy lock. On a home never
// deployed to, an empty report with initialised false (nothing is created).
StatusReport collect_status(const Layout& layout);

nlohmann::json status_json(const StatusReport& report);
std::string status_text(const StatusReport& report);

}  // namespace plugbox::server
