// What went wrong in the transport, on which host, at which step. Every
// failure the transport reports is one of these: a std::error_code (system
// errors such as ECONNREFUSED stay in the generic category, so callers compare
// with std::errc), the step that failed, the host, and a detail for humans.
#pragma once

#include <string>
#include <system_error>

namespace plugbox::transport {

// Failures that have no errno. Timeouts and cancellation use
// std::errc::timed_out and std::errc::operation_canceled.
enum class Errc {
  bad_target = 1,        // a Target that does not validate
  resolve_failed,        // the address did not resolve
  handshake_failed,      // SSH protocol negotiation failed
  host_key_unknown,      // not in known_hosts under `strict`
  host_key_changed,      // known_hosts holds a different key for this host
  host_key_other_type,   // known_hosts holds a key of another type only
  known_hosts_failed,    // known_hosts could not be read or written
  auth_failed,           // no identity was accepted
  channel_failed,        // the server refused a channel
  tunnel_failed,         // the jump host could not reach the next hop
  exec_refused,          // the server refused to run the command
  connection_lost,       // the connection died
  keepalive_timeout,     // the server stopped answering keepalives
  no_exit_status,        // the command ended without an exit status or signal
  session_closed,        // the session was closed while the command ran
  spawn_failed,          // the local transport could not start `sh`
  no_such_host_dir,      // the local transport's host directory is missing
};

const std::error_category& transport_category();
std::error_code make_error_code(Errc e);

struct Error {
  std::error_code code;
  std::string step;    // "connect", "handshake", "host-key", "auth", "exec", ...
  std::string host;    // the target's name
  std::string detail;  // what the peer or the system said, and the fix when known

  explicit operator bool() const { return static_cast<bool>(code); }

  // One line: "web01: host-key: host key changed: <detail>".
  std::string message() const;
};

Error make_error(std::error_code code, std::string step, std::string host, std::string detail = {});
Error make_error(Errc code, std::string step, std::string host, std::string detail = {});
// A command its deadline or a cancel stopped by SIGTERM (`stop`: timed_out or
// operation_canceled), for the transports that signal a command and wait for
// it (SSH, the session mux). `gave_up`: SIGKILL followed and it still did
// not end.
Error signalled_stop(std::error_code stop, std::string host, bool gave_up);

}  // namespace plugbox::transport

template <>
struct std::is_error_code_enum<plugbox::transport::Errc> : std::true_type {};
