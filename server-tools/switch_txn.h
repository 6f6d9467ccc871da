// A host's switch as one request (docs/DESIGN.md §5): the client sends the
// step list of a switch, an undo or a rollback (stop, upgrade-to, start ...),
// and the host runs it to its end, recording each step's intent and outcome
// in the host record (host_record.h) before and after it. The steps run in a
// process of their own session that holds the txn lock (lock.h), so a client
// killed, or its network or SSH session gone, mid-switch does not leave the
// service stopped: the host finishes what was begun, and its record says so.
//
// Request (stdin, one JSON object):
//   {"run": "2026-11-25T21:40:00", "kind": "deploy" | "rollback",
//    "txn": "switch" | "undo", "from": V | null, "to": W,
//    "steps": [{"name": "stop", "shell": "...", "env": {"K": "v"}, "cwd": "/srv/shop",
//               "timeout": 300, "tolerate_failure": false, "effect": "stop"},
//              {"name": "upgrade-to", "op": "upgrade-to", "version": W, "effect": "switch"}, ...]}
//   effect: "stop" | "switch" | "start" | "none"; op: "upgrade-to" | "rollback-to".
// Replies (stdout, JSON lines): {"step": i, "name": N, "state": "running"},
//   {"step": i, "name": N, "ok": bool, "exit": n, "output": "..."} and, last,
//   {"txn": "done", "ok": bool, "begun": n, "tolerated": ["stop: exit 1: ..."]}.
// Exit status 0 when every step that had to succeed did, 1 otherwise.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"

namespace plugbox::server {

struct TxnStep {
  std::string name;
  std::string shell;  // a service line, run by /bin/sh -c
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;
  double timeout_s = 300;
  bool tolerate_failure = false;
  std::string effect = "none";
  std::string op, version;  // a chain step instead of a shell line
};

struct TxnRequest {
  std::string run, kind, txn, from, to;
  std::vector<TxnStep> steps;
  // Throws bad_input (one line naming the field) for anything malformed.
  static TxnRequest parse(const std::string& text);
};

// Runs the request (see top of file), relaying the replies to `out` as they
// come; returns the exit status. `stdin_fd` is not read (the request was).
int run_switch_txn(const Layout& layout, const LockRequest& lock, const Actor& actor, const TxnRequest& req,
                   std::ostream& out);

}  // namespace plugbox::server
