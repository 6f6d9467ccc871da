#include "orchestrator/planner.h"

#include "orchestrator/host_steps.h"
#include "orchestrator/server_install.h"

#include <ctime>
#include <sstream>

namespace plugbox::orchestrator {

namespace {

transport::HostKeyCheck to_transport(inventory::HostKeyCheck c) {
  switch (c) {
    case inventory::HostKeyCheck::accept_new: return transport::HostKeyCheck::accept_new;
    case inventory::HostKeyCheck::off: return transport::HostKeyCheck::off;
    default: return transport::HostKeyCheck::strict;
  }
}

transport::Endpoint endpoint_of(const inventory::Host& h, const std::string& service) {
  transport::Endpoint e;
  e.name = h.name;
  e.address = h.address;
  e.port = h.port;
  e.user = h.user.empty() ? service : h.user;
  e.identity = h.identity;
  e.known_hosts = h.known_hosts;
  e.host_key_check = to_transport(h.host_key_check);
  return e;
}

}  // namespace

PlannedHost plan_host(const inventory::Inventory& inv, const inventory::Host& host, const std::string& service,
                      const std::string& owner) {
  PlannedHost p;
  p.name = host.name;
  p.ctx.host = host.name;
  p.ctx.home = host.home.empty() ? "/home/" + service : host.home;
  if (host.server.empty()) {
    p.ctx.server = installed_server_path(p.ctx.home);
    p.ctx.server_source = host.server_install ? ServerSource::installed : ServerSource::bootstrap;
  } else {
    p.ctx.server = host.server;
  }
  p.ctx.owner = owner;
  p.via = host.jump_chain;
  // An explicit site wins: hosts in one network reached through different
  // jump hosts, or directly over a slow link, share one copy all the same.
  if (auto s = host.vars.find("site"); s != host.vars.end() && !s->second.empty()) p.site = s->second;
  else if (!p.via.empty()) p.site = p.via.front();
  if (host.transport == inventory::TransportKind::local) {
    p.target = transport::local_target(host.name, p.ctx.home);
  } else {
    std::vector<transport::Endpoint> chain;
    for (const auto& j : host.jump_chain)
      if (const auto* jh = inv.find(j)) chain.push_back(endpoint_of(*jh, service));
    p.target = transport::ssh_target(endpoint_of(host, service), std::move(chain));
  }
  return p;
}

DeployPlan plan_deploy(const ServiceConfig& svc, const inventory::Inventory& inv,
                       const std::vector<const inventory::Host*>& hosts, const DeployOptions& opts) {
  DeployPlan p;
  p.service = svc.name;
  p.version = opts.version;
  p.owner = opts.owner;
  p.by = opts.by;
  p.source_rev = opts.source_rev;
  p.max_fail = opts.max_fail.value_or(svc.deploy.max_fail);
  p.parallel = opts.parallel;
  p.refresh = !svc.refresh.empty();
  p.deploy = svc.deploy;
  p.service_config = svc;
  for (const auto* h : hosts) p.hosts.push_back(plan_host(inv, *h, svc.name, opts.owner));
  std::size_t next = 0;
  for (std::size_t n : batch_sizes(p.hosts.size(), opts.batches.value_or(svc.deploy.batches))) {
    std::vector<std::size_t> b;
    for (std::size_t i = 0; i < n; ++i) b.push_back(next++);
    p.batches.push_back(std::move(b));
  }
  return p;
}

std::vector<std::string> DeployPlan::receive_flags() const {
  std::vector<std::string> flags{"--create"};
  if (!by.empty()) flags.insert(flags.end(), {"--by", by});
  if (!source_rev.empty()) flags.insert(flags.end(), {"--source-rev", source_rev});
  if (seals_on_receive()) flags.push_back("--seal");
  if (service_config.exact_mtimes) flags.push_back("--exact-mtimes");
  return flags;
}

std::string DeployPlan::render() const {
  std::ostringstream o;
  const auto& svc = service_config;
  o << "plan: deploy " << service << " version " << version << " to " << hosts.size() << " host"
    << (hosts.size() == 1 ? "" : "s") << " (lock owner " << owner << ")\n";
  o << "\nprepare (here, in " << svc.source_dir.string() << "):\n";
  for (const auto& c : svc.prepare) o << "  $ " << c << "\n";
  if (svc.prepare.empty()) o << "  (nothing)\n";
  o << "upload: " << (svc.upload_version ? "'" + *svc.upload_version + "' becomes the version directory" : "");
  for (size_t i = 0; i < svc.upload.size(); ++i) o << (i ? ", " : "") << "'" << svc.upload[i] << "'";
  if (!svc.upload_version) o << " copied into the version directory";
  o << "\n\nstage (every host, " << parallel << " at once; any failure removes " << version
    << " everywhere and stops):\n";
  for (const auto& h : hosts) {
    o << "  " << h.name;
    if (!h.via.empty()) {
      o << " via";
      for (const auto& v : h.via) o << " " << v << " ->";
      o << " " << h.name;
    }
    o << (h.target.kind == transport::TargetKind::local ? " (local)" : "") << "\n";
    if (h.ctx.server_source == ServerSource::installed)
      o << "    (plugbox's own plugbox-server " << server_tag()
        << ", checked by the session's hello; installed first if missing or of another version)\n";
    else if (h.ctx.server_source == ServerSource::bootstrap)
      o << "    (plugbox's own plugbox-server " << server_tag()
        << ", which `plugbox fleet bootstrap` installs: server_install = false)\n";
    o << "    " << server_cmd::init(h.ctx).render() << "\n";
    o << "    " << server_cmd::lock(h.ctx).render() << "   (held until the end)\n";
    o << "    " << server_cmd::status_json(h.ctx).render() << "   (what is live before)\n";
    o << "    " << server_cmd::receive(h.ctx, version, receive_flags()).render() << "   (creates " << version
      << ", reads the upload stream" << (seals_on_receive() ? ", seals" : "") << ")\n";
    StepContext c{h.ctx, svc, deploy.command_timeout};
    o << orchestrator::render(post_upload_steps(c, version, "<its live version>"), "    ");
    if (!seals_on_receive()) o << "    " << server_cmd::seal(h.ctx, version).render() << "\n";
  }
  o << "\nswitch in " << batches.size() << " batch" << (batches.size() == 1 ? "" : "es") << " (more than "
    << max_fail << " failed host" << (max_fail == 1 ? "" : "s") << " in a batch rolls the fleet back):\n";
  for (size_t b = 0; b < batches.size(); ++b) {
    o << "  batch " << b + 1 << ":";
    for (auto i : batches[b]) o << " " << hosts[i].name;
    o << "\n";
  }
  if (!hosts.empty()) {
    const auto& h = hosts.front();
    const std::string prev = "<its previous>";
    StepContext c{h.ctx, svc, deploy.command_timeout};
    o << "each host of a batch, at once:\n" << orchestrator::render(switch_steps(c, version, prev), "  ");
    if (refresh) {
      o << "  (a host with nothing live yet is started instead:\n"
        << orchestrator::render(switch_steps(c, version, ""), "    ") << "  )\n";
    }
    if (auto health = health_step(c, version, prev, deploy.health_timeout))
      o << "  " << health->command.render() << "   (health: up to " << deploy.health_retries << " tries, "
        << deploy.health_interval << "s apart, " << deploy.health_timeout << "s each)\n";
    else
      o << "  (no health check: set service.health to gate batches)\n";
    o << "on a failed batch, every switched host:\n" << orchestrator::render(rollback_steps(c, prev, version), "  ");
    if (hosts.size() > 1) o << "(shown for " << h.name << "; each host uses its own home and server)\n";
  }
  return o.str();
}

bool is_version_name(const std::string& s) {
  static const std::string shape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]) return false;
  return true;
}

std::string version_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace plugbox::orchestrator
