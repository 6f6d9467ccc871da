// `plugbox-server session`: many commands over one exec channel (the session
// protocol, base/session_protocol.h and docs/SESSION.md). The client sends
// start frames with shell lines and their stdin; this loop runs each line by
// /bin/sh -c in a process group of its own, as sshd runs an exec request,
// and sends back its output and its end. So a fleet command pays for one SSH
// channel and one login shell per host, not one per step.
//
// What sshd does for a channel, this does for a request: a signal frame goes
// to the request's process group; once a command has exited, the output it
// already wrote is sent and its pipes are closed (a start line that leaves a
// daemon holding them does not hold up its step). When the client's stream
// ends (it closed the session, or the connection died), the commands' stdin
// and output pipes are closed and the server exits at once: what still runs
// sees what it would under sshd (EOF, then EPIPE). The deploy lock is held
// by a `lock` request (its stdin open) and so lives as long as the session.
#pragma once

#include <string>

namespace plugbox::server {

struct SessionServerResult {
  int status = 0;     // 0 when the client ended the stream; 2 for a protocol error
  std::string error;  // why, for status 2
};

// Serves requests read from `in_fd`, replies written to `out_fd`, until the
// input ends. `server` goes in the hello ("plugbox-server 0.1.0 (commit c)").
// SIGTERM, SIGINT and SIGHUP sent to this process are passed on to every
// running request's process group (a Ctrl-C of the client, or its transport
// cancelling the session's channel, reaches what runs under it), and the
// server ends once the last of them has.
SessionServerResult serve_session(int in_fd, int out_fd, const std::string& server);

}  // namespace plugbox::server
