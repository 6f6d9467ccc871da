// Targets for an SshdFleet (tests/harness) and a transport on an io_context.
#pragma once

#include <cstdlib>

#include <boost/asio/io_context.hpp>

#include "tests/harness/fleet_or_skip.h"
#include "tests/transport/test_util.h"
#include "transport/ssh_transport.h"

namespace plugbox::transport::test {

inline Endpoint endpoint_for(const plugbox::testing::SshdFleet& fleet, const std::string& name) {
  const auto& h = fleet.host(name);
  Endpoint e;
  e.name = h.name;
  e.address = h.address;
  e.port = h.port;
  e.user = fleet.user();
  e.identity = fleet.client_key_path();
  e.known_hosts = fleet.known_hosts_path();
  e.host_key_check = HostKeyCheck::strict;
  return e;
}

inline Target target_for(const plugbox::testing::SshdFleet& fleet, const std::string& name) {
  std::vector<Endpoint> chain;
  for (const auto& hop : fleet.host(name).jump_chain) chain.push_back(endpoint_for(fleet, hop));
  return ssh_target(endpoint_for(fleet, name), std::move(chain));
}

inline SshOptions quiet_options(std::vector<std::string>* warnings = nullptr) {
  SshOptions o;
  o.kill_grace = std::chrono::milliseconds(1000);
  // PLUGBOX_LIBSSH_LOG=1..4 shows libssh's own log when a test misbehaves.
  if (const char* v = std::getenv("PLUGBOX_LIBSSH_LOG")) o.libssh_log_verbosity = std::atoi(v);
  o.warn = [warnings](const std::string& m) {
    if (warnings) warnings->push_back(m);
  };
  return o;
}

}  // namespace plugbox::transport::test

namespace plugbox::transport::test {

inline int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

inline ExecOptions capture_all() {
  ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  return o;
}

// Sleeps on the io_context (inside a coroutine).
inline Awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace plugbox::transport::test
