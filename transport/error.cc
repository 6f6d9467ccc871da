#include "transport/error.h"

namespace plugbox::transport {

namespace {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "plugbox.transport"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::bad_target: return "invalid target";
      case Errc::resolve_failed: return "address did not resolve";
      case Errc::handshake_failed: return "SSH handshake failed";
      case Errc::host_key_unknown: return "host key unknown";
      case Errc::host_key_changed: return "host key changed";
      case Errc::host_key_other_type: return "host key of another type known";
      case Errc::known_hosts_failed: return "known_hosts unusable";
      case Errc::auth_failed: return "authentication failed";
      case Errc::channel_failed: return "channel refused";
      case Errc::tunnel_failed: return "jump host could not reach the next hop";
      case Errc::exec_refused: return "command refused";
      case Errc::connection_lost: return "connection lost";
      case Errc::keepalive_timeout: return "server stopped answering keepalives";
      case Errc::no_exit_status: return "no exit status";
      case Errc::session_closed: return "session closed";
      case Errc::spawn_failed: return "could not start the command";
      case Errc::no_such_host_dir: return "host directory missing";
    }
    return "unknown transport error";
  }
};

}  // namespace

const std::error_category& transport_category() {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), transport_category()}; }

std::string Error::message() const {
  if (!code) return host.empty() ? "ok" : host + ": ok";
  std::string out;
  if (!host.empty()) out += host + ": ";
  if (!step.empty()) out += step + ": ";
  out += code.message();
  if (!detail.empty()) out += ": " + detail;
  return out;
}

Error make_error(std::error_code code, std::string step, std::string host, std::string detail) {
  return Error{code, std::move(step), std::move(host), std::move(detail)};
}

Error signalled_stop(std::error_code stop, std::string host, bool gave_up) {
  std::string detail = stop == std::errc::timed_out ? "deadline passed; the command was sent SIGTERM"
                                                    : "cancelled; the command was sent SIGTERM";
  if (gave_up) detail += ", then SIGKILL, and did not end";
  return make_error(stop, "exec", std::move(host), std::move(detail));
}

Error make_error(Errc code, std::string step, std::string host, std::string detail) {
  return make_error(make_error_code(code), std::move(step), std::move(host), std::move(detail));
}

}  // namespace plugbox::transport
