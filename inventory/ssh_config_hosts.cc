#include "inventory/ssh_config_hosts.h"

#include <fmt/format.h>

#include <algorithm>

#include "inventory/settings.h"

namespace plugbox::inventory {
namespace {

SourcePos pos_of(const SshConfigPos& p) { return SourcePos{p.file, p.line, 0}; }

std::string hop_name(const SshJumpHop& hop) { return to_string(std::vector<SshJumpHop>{hop}); }

}  // namespace

SshConfigHosts::SshConfigHosts(const Document& doc, const ReadContext& ctx, Diagnostics& diag, std::vector<Host>& hosts,
                               const std::vector<Effective>& effective, const JumpLinks& links)
    : doc_(doc), ctx_(ctx), diag_(diag), hosts_(hosts), effective_(effective), links_(links), declared_(hosts.size()) {
  for (size_t i = 0; i < hosts_.size(); ++i) index_.emplace(hosts_[i].name, i);
  hops_.resize(declared_);
  placed_.resize(declared_);
}

std::shared_ptr<const SshConfig> SshConfigHosts::config_for(const Value& setting) {
  const bool user_config = setting.text == "true";
  const std::string path = user_config ? ctx_.home_dir + "/.ssh/config" : setting.text;
  if (auto it = configs_.find(path); it != configs_.end()) return it->second;
  std::shared_ptr<const SshConfig> cfg;
  try {
    cfg = std::make_shared<const SshConfig>(SshConfig::load(path, SshConfigEnv{ctx_.home_dir, ctx_.local_user}));
  } catch (const SshConfigError& e) {
    if (e.pos().line == 0)  // the file itself: the inventory line is the one to fix
      diag_.error(setting.loc, fmt::format("ssh_config{}: {}: fix the path or set ssh_config = false",
                                           user_config ? " = true (~/.ssh/config)" : "", e.message()));
    else
      diag_.error(pos_of(e.pos()), fmt::format("{} (read for ssh_config at {})", e.message(), diag_.where(setting.loc)));
  }
  configs_.emplace(path, cfg);
  return cfg;
}

void SshConfigHosts::fill(size_t i, const Value& setting) {
  const auto cfg = config_for(setting);
  if (!cfg) return;
  Host& h = hosts_[i];
  SshHostConfig r;
  try {
    r = cfg->resolve(h.name);
    // The inventory always wins: only what it leaves unset comes from the config.
    auto take = [&](const char* key, const std::optional<SshSetting>& s, auto set) {
      if (!s || h.origin.count(key)) return;
      set(s->value);
      h.origin[key] = pos_of(s->pos);
    };
    take("address", r.hostname, [&](const std::string&) { h.address = r.address(); });
    take("user", r.user, [&](const std::string& v) { h.user = v; });
    take("port", r.port, [&](const std::string& v) { h.port = std::stoi(v); });
    std::optional<SshSetting> identity;
    if (!r.identity_files.empty()) identity = r.identity_files.front();
    take("identity", identity, [&](const std::string&) { h.identity = cfg->expand_path(*identity, r, h.user, h.port); });
    take("known_hosts", r.known_hosts,
         [&](const std::string&) { h.known_hosts = cfg->expand_path(*r.known_hosts, r, h.user, h.port); });
  } catch (const SshConfigError& e) {
    diag_.error(pos_of(e.pos()), fmt::format("{} (host '{}', ssh_config at {})", e.message(), h.name,
                                             diag_.where(setting.loc)));
    return;
  }
  // Any inventory word on the host's way in (its jump, or another host's jump list) settles it.
  const bool inventory_jump = links_.via[i] || links_.via_loc[i].line > 0;
  if (!inventory_jump && !r.jumps.empty()) {
    hops_[i] = Hops{r.jumps, r.proxy_jump->pos, cfg};
    h.origin["jump"] = pos_of(r.proxy_jump->pos);
  }
}

std::optional<size_t> SshConfigHosts::hop_host(const SshJumpHop& hop, const Hops& from) {
  if (auto it = index_.find(hop.host); it != index_.end() && it->second < declared_) {
    const Host& ih = hosts_[it->second];
    if ((hop.user.empty() || hop.user == ih.user) && (hop.port == 0 || hop.port == ih.port)) return it->second;
    diag_.error(pos_of(from.pos), fmt::format("ProxyJump hop '{}' is inventory host '{}', which has user '{}' and port "
                                              "{} there: drop the user and port from the ProxyJump or make them agree",
                                              hop_name(hop), hop.host, ih.user, ih.port));
    return std::nullopt;
  }
  const std::string name = hop_name(hop);
  if (auto it = index_.find(name); it != index_.end()) return it->second;

  // A jump host known only to the config: its values come from the config
  // (as `ssh HOP` would use them), the inventory's [defaults] fill the rest.
  Host h;
  h.name = name;
  h.jump_only = true;
  h.pos = pos_of(from.pos);
  Effective defaults;
  for (const auto& [key, value] : doc_.defaults) defaults.emplace(key, &value);
  apply_layer(defaults, h);
  h.vars.clear();
  for (const auto& [key, value] : doc_.defaults)
    if (is_setting(key)) h.origin[key] = diag_.pos(value.loc);
  std::optional<Hops> own;
  try {
    const SshHostConfig r = from.config->resolve(hop.host);
    auto set = [&](const char* key, const SshConfigPos& p) { h.origin[key] = pos_of(p); };
    h.address = r.address();
    set("address", r.hostname ? r.hostname->pos : from.pos);
    if (!hop.user.empty()) h.user = hop.user, set("user", from.pos);
    else if (r.user) h.user = r.user->value, set("user", r.user->pos);
    if (hop.port) h.port = hop.port, set("port", from.pos);
    else if (r.port) h.port = std::stoi(r.port->value), set("port", r.port->pos);
    if (!r.identity_files.empty())
      h.identity = from.config->expand_path(r.identity_files.front(), r, h.user, h.port),
      set("identity", r.identity_files.front().pos);
    if (r.known_hosts)
      h.known_hosts = from.config->expand_path(*r.known_hosts, r, h.user, h.port), set("known_hosts", r.known_hosts->pos);
    if (!r.jumps.empty()) {
      own = Hops{r.jumps, r.proxy_jump->pos, from.config};
      set("jump", r.proxy_jump->pos);
    }
  } catch (const SshConfigError& e) {
    diag_.error(pos_of(e.pos()), fmt::format("{} (jump host '{}', ProxyJump at {})", e.message(), hop.host,
                                             from.pos.str()));
    return std::nullopt;
  }
  const size_t at = hosts_.size();
  hosts_.push_back(std::move(h));
  index_.emplace(name, at);
  hops_.push_back(std::move(own));
  placed_.emplace_back();
  chains_.emplace_back();
  visiting_.push_back(0);
  failed_.push_back(0);
  return at;
}

std::optional<std::vector<size_t>> SshConfigHosts::through(const Hops& hops, size_t owner) {
  std::vector<size_t> c;
  for (size_t k = 0; k < hops.hops.size(); ++k) {
    const auto idx = hop_host(hops.hops[k], hops);
    if (!idx) return std::nullopt;
    if (*idx == owner || std::find(c.begin(), c.end(), *idx) != c.end()) {
      diag_.error(pos_of(hops.pos), fmt::format("ProxyJump of '{}' goes through '{}' twice (a loop): remove it",
                                                hosts_[owner].name, hosts_[*idx].name));
      return std::nullopt;
    }
    if (k == 0) {
      // The first hop is reached its own way: directly unless its config says otherwise.
      if (*idx >= declared_ && !hops_[*idx] && placed_[*idx] && !placed_[*idx]->empty()) {
        diag_.error(pos_of(hops.pos), fmt::format("ProxyJump of '{}' reaches '{}' directly, but elsewhere it is reached "
                                                  "through '{}'; plugbox reaches each jump host one way: make them agree",
                                                  hosts_[owner].name, hosts_[*idx].name,
                                                  hosts_[placed_[*idx]->back()].name));
        return std::nullopt;
      }
      auto own = chain(*idx);
      if (!own) return std::nullopt;
      c = *own;
    } else {
      // The list says this hop is reached through the previous one; plugbox
      // reaches every host one way, so its own way in must agree.
      std::optional<std::vector<size_t>> other;
      if (*idx < declared_ || hops_[*idx]) other = chain(*idx);
      else if (placed_[*idx]) other = placed_[*idx];
      else if (chains_[*idx]) other = chains_[*idx];
      if (other && *other != c) {
        auto describe = [&](const std::vector<size_t>& v) {
          return v.empty() ? std::string("directly") : fmt::format("through '{}'", hosts_[v.back()].name);
        };
        diag_.error(pos_of(hops.pos), fmt::format("ProxyJump of '{}' reaches '{}' {}, but elsewhere it is reached {}; "
                                                  "plugbox reaches each jump host one way: make them agree",
                                                  hosts_[owner].name, hosts_[*idx].name, describe(c), describe(*other)));
        return std::nullopt;
      }
      if (!other) placed_[*idx] = c;
    }
    c.push_back(*idx);
  }
  return c;
}

std::optional<std::vector<size_t>> SshConfigHosts::chain(size_t i) {
  if (chains_[i]) return chains_[i];
  if (failed_[i]) return std::nullopt;  // reported once
  if (visiting_[i]) {
    const auto& at = hops_[i] ? pos_of(hops_[i]->pos) : hosts_[i].pos;
    diag_.error(at, fmt::format("ProxyJump loop: '{}' is reached through itself; break the loop", hosts_[i].name));
    return std::nullopt;
  }
  visiting_[i] = 1;
  std::optional<std::vector<size_t>> out;
  if (i < declared_ && links_.via[i]) {
    out = chain(*links_.via[i]);
    if (out) out->push_back(*links_.via[i]);
  } else if (hops_[i]) {
    const Hops hops = *hops_[i];  // a copy: through() may grow hops_
    out = through(hops, i);
  } else {
    out = placed_[i] ? *placed_[i] : std::vector<size_t>{};
  }
  visiting_[i] = 0;
  chains_[i] = out;
  failed_[i] = !out;
  return out;
}

void SshConfigHosts::apply() {
  for (size_t i = 0; i < declared_; ++i) {
    auto it = effective_[i].find("ssh_config");
    if (it == effective_[i].end() || it->second->text == "false" || hosts_[i].transport == TransportKind::local)
      continue;
    fill(i, *it->second);
  }
  if (!links_.resolved) return;
  chains_.assign(hosts_.size(), std::nullopt);
  visiting_.assign(hosts_.size(), 0);
  failed_.assign(hosts_.size(), 0);
  // chain() appends jump-only hosts: they get their chains in the same loop.
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const auto c = chain(i);
    if (!c) continue;
    std::vector<std::string> names;
    for (size_t j : *c) names.push_back(hosts_[j].name);
    hosts_[i].jump_chain = std::move(names);
  }
}

}  // namespace plugbox::inventory
