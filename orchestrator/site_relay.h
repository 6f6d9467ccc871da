// Fan-out inside a site (docs/DESIGN.md §6 "Fan-out inside a site"): one
// relay per site, on one of its hosts, so that each content the site lacks
// crosses the slow link once. The client starts `plugbox-server relay` on
// that host's session, carries each needed content to it sealed with this
// site's fresh key (AES-256-GCM, upload/common/sealed_box.h), and gives each
// host of the site the key and a one-time token over the host's own upload
// stream; the hosts fetch over TCP inside the site and check every content
// (tag, then SHA-256) before using it. Whatever fails falls back, per
// content, to the host's own stream: a relay that never starts, or dies,
// costs time, never the deploy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "transport/transport.h"
#include "upload/client/relay_link.h"

namespace plugbox::orchestrator {

class HostConn;

class SiteRelay : public upload::RelayLink {
 public:
  explicit SiteRelay(std::string site);
  ~SiteRelay() override;

  // Starts the relay on `host`, listening on the address its SSH
  // connection came in on (`auto`), port `port`; waits up to `timeout_s` for
  // it to say where it listens. False (why()) when it did not start: the
  // site's hosts are then sent everything directly.
  //
  // With `upstream` (a started relay of the same site) this one is a relay
  // of a group of the site's hosts: it fetches each content its hosts ask
  // for from `upstream`, once, with a token of its own there; contents are
  // carried to `upstream`, and sealed with its key. Why: one relay for a
  // whole site sends each content once per host from one host's uplink (500
  // copies for a site of 500); groups of about sqrt(N) hosts, each behind a
  // relay of its own, take about 2 sqrt(N) from any one host.
  transport::Awaitable<bool> start(HostConn& host, int port, double timeout_s, SiteRelay* upstream = nullptr);
  std::optional<std::string> key_frame() override;
  void carry(const std::string& id, const upload::BlobStore& store, const upload::BlobStore::Blob& blob) override;
  // Ends the relay's stdin, so it exits, and waits up to `timeout_s` for
  // that. Call once every host of the site has finished its upload.
  transport::Awaitable<void> finish(double timeout_s);

  const std::string& site() const { return site_; }
  SiteRelay* upstream() const { return upstream_; }
  const std::string& host() const { return host_; }
  const std::string& why() const;            // why it did not start, or ended early
  std::uint64_t bytes_to_relay() const;      // written to the relay's channel: this site's bytes over the link
  const std::string& endpoint() const;       // ADDR:PORT, once it listens
  nlohmann::json served() const;             // the relay's own account, once it ended

  struct State;  // shared with the relay's channel (site_relay.cc)

 private:
  std::string site_, host_;
  SiteRelay* upstream_ = nullptr;
  std::shared_ptr<State> st_;
};

// The listen argument of `relay` for a port: the relay binds the address
// its host's SSH connection came in on ($SSH_CONNECTION), which the other
// hosts behind the same jump host reach, whatever the inventory calls it.
std::string relay_listen_arg(int port);

}  // namespace plugbox::orchestrator
