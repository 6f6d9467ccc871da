#include "inventory/ssh_config.h"

#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::all;
using plugbox::inventory::test::ssh_g;
using plugbox::inventory::test::TempDir;

namespace {

// OpenSSH expands "~" and %d with the password database's home, not $HOME.
SshConfigEnv passwd_env() {
  const passwd* pw = getpwuid(getuid());
  REQUIRE(pw);
  return SshConfigEnv{pw->pw_dir, pw->pw_name};
}

void write(const std::filesystem::path& p, std::string text, const std::filesystem::path& dir) {
  for (size_t at; (at = text.find("@DIR@")) != std::string::npos;) text.replace(at, 5, dir.string());
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

// Compares what the resolver found for `host` with what OpenSSH prints,
// modelling OpenSSH's defaults for what the config leaves unset. Returns the
// resolved config for further checks.
SshHostConfig same_as_ssh(const SshConfig& cfg, const std::filesystem::path& file, const std::string& host) {
  INFO("host " << host);
  const SshConfigEnv env = passwd_env();
  const SshHostConfig r = cfg.resolve(host);
  const auto g = ssh_g(file, host);
  CHECK(all(g, "hostname") == std::vector<std::string>{r.address()});
  const std::string user = r.user ? r.user->value : env.local_user;
  CHECK(all(g, "user") == std::vector<std::string>{user});
  const int port = r.port ? std::stoi(r.port->value) : 22;
  CHECK(all(g, "port") == std::vector<std::string>{std::to_string(port)});
  if (!r.identity_files.empty()) {
    std::vector<std::string> ids;
    for (const auto& s : r.identity_files) ids.push_back(s.value);
    CHECK(all(g, "identityfile") == ids);
  } else {
    CHECK(all(g, "identityfile").front() == "~/.ssh/id_rsa");  // OpenSSH's default list
  }
  const auto kh = all(g, "userknownhostsfile");
  REQUIRE(kh.size() == 1);
  CHECK(first_word(kh[0]) ==
        (r.known_hosts ? cfg.expand_path(*r.known_hosts, r, user, port) : env.home + "/.ssh/known_hosts"));
  if (r.jumps.empty()) {
    CHECK(all(g, "proxyjump").empty());
  } else {
    CHECK(all(g, "proxyjump") == std::vector<std::string>{r.proxy_jump->value});
    CHECK(all(g, "proxyjump") == std::vector<std::string>{to_string(r.jumps)});
  }
  return r;
}

std::string error_of(const SshConfig& cfg, const std::string& host) {
  try {
    cfg.resolve(host);
  } catch (const SshConfigError& e) {
    return e.what();
  }
  return "";
}

std::string load_error(const std::filesystem::path& p) {
  try {
    SshConfig::load(p, passwd_env());
  } catch (const SshConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("aliases: HostName, User, Port, IdentityFile, UserKnownHostsFile as ssh -G", "[ssh_config]") {
  TempDir d;
  const auto f = d.path() / "config";
  write(f, R"(# comment
Host web01 Web02
  HostName %h.Example.COM
  User alice
  Port 2201
  IdentityFile ~/.ssh/id_%h_%r
  IdentityFile /keys/deploy
  IdentityFile /keys/deploy
  UserKnownHostsFile ~/kh/%h_%p_%r other
Host db
  hostname=10.0.0.5
  USER = "bob smith"
  port=2202
  identityfile "/keys/with space"
)",
        d.path());
  const SshConfig cfg = SshConfig::load(f, passwd_env());
  const auto web01 = same_as_ssh(cfg, f, "web01");
  CHECK(web01.address() == "web01.example.com");
  CHECK(web01.hostname->pos.str() == f.string() + ":3");
  CHECK(web01.identity_files.size() == 2);
  CHECK(cfg.expand_path(web01.identity_files[0], web01, "alice", 2201) ==
        passwd_env().home + "/.ssh/id_web01.example.com_alice");
  same_as_ssh(cfg, f, "Web02");
  same_as_ssh(cfg, f, "WEB01");  // Host patterns are case-sensitive: not matched
  const auto db = same_as_ssh(cfg, f, "db");
  CHECK(db.user->value == "bob smith");
  CHECK(db.port->pos.line == 13);
  const auto other = same_as_ssh(cfg, f, "other");
  CHECK_FALSE(other.hostname);
  CHECK(other.identity_files.empty());
}

TEST_CASE("Host patterns: wildcards, negation, first value wins", "[ssh_config]") {
  TempDir d;
  const auto f = d.path() / "config";
  write(f, R"(Host web?? !web99
  User web-user
Host *.prod db*
  Port 2300
Host web0* *.prod
  IdentityFile /keys/web
  User second
Host *
  User fallback
  Port 22
  IdentityFile /keys/default
)",
        d.path());
  const SshConfig cfg = SshConfig::load(f, passwd_env());
  CHECK(same_as_ssh(cfg, f, "web01").user->value == "web-user");
  CHECK(same_as_ssh(cfg, f, "web99").user->value == "fallback");
  CHECK(same_as_ssh(cfg, f, "web001").user->value == "second");
  CHECK(same_as_ssh(cfg, f, "x.prod").port->value == "2300");
  CHECK(same_as_ssh(cfg, f, "db7").identity_files.size() == 1);
  same_as_ssh(cfg, f, "anything");
}

TEST_CASE("Match host, originalhost, user, localuser, all, and negation", "[ssh_config]") {
  TempDir d;
  const auto f = d.path() / "config";
  write(f, R"(Host alias
  HostName Real.Example
Match host real.example user carol
  Port 3300
Host alias
  User carol
Match host real.example user carol
  Port 3301
Match originalhost ALIAS
  IdentityFile /keys/orig
Match !host real.* localuser )" + passwd_env().local_user +
            R"(
  IdentityFile /keys/not-real
Match localuser nobody-here
  User nobody
Match all
  UserKnownHostsFile /kh/%h
)",
        d.path());
  const SshConfig cfg = SshConfig::load(f, passwd_env());
  const auto a = same_as_ssh(cfg, f, "alias");
  CHECK(a.port->value == "3301");  // the first Match ran before User was set
  CHECK(a.port->pos.line == 8);
  CHECK(a.identity_files.size() == 1);
  const auto o = same_as_ssh(cfg, f, "other");
  CHECK(o.identity_files.at(0).value == "/keys/not-real");
  CHECK_FALSE(o.user);
}

TEST_CASE("Include: globs, inside a Host block, nested", "[ssh_config]") {
  TempDir d;
  const auto f = d.path() / "config";
  write(f, R"(Include @DIR@/conf.d/*.conf
Host inner
  Include @DIR@/only-inner
Host *
  Include @DIR@/missing-*.conf
  User tail
)",
        d.path());
  write(d.path() / "conf.d" / "10-web.conf", "Host web1\n  HostName 10.1.0.1\n  Include @DIR@/nested\n", d.path());
  write(d.path() / "conf.d" / "20-db.conf", "Host db1 web1\n  Port 2400\n  User from-20\n", d.path());
  write(d.path() / "nested", "User nested-user\nHost never\n  Port 1\n", d.path());
  // Lines before the first Host follow the Include's block: this Port applies to inner only.
  write(d.path() / "only-inner", "Port 2500\nHost *\n  HostName inner.example\n", d.path());
  const SshConfig cfg = SshConfig::load(f, passwd_env());
  const auto web1 = same_as_ssh(cfg, f, "web1");
  CHECK(web1.user->value == "nested-user");
  CHECK(web1.user->pos.file == (d.path() / "nested").string());
  CHECK(web1.port->pos.file == (d.path() / "conf.d" / "20-db.conf").string());
  const auto inner = same_as_ssh(cfg, f, "inner");
  CHECK(inner.port->value == "2500");
  CHECK(inner.address() == "inner.example");
  CHECK(same_as_ssh(cfg, f, "db1").user->value == "from-20");
  CHECK_FALSE(same_as_ssh(cfg, f, "x").port);
}

TEST_CASE("a relative Include is under ~/.ssh", "[ssh_config]") {
  TempDir d;
  write(d.path() / ".ssh" / "extra", "Host h\n  User from-extra\n", d.path());
  write(d.path() / "config", "Include extra\n", d.path());
  const SshConfig cfg = SshConfig::load(d.path() / "config", SshConfigEnv{d.path().string(), "me"});
  CHECK(cfg.resolve("h").user->value == "from-extra");
}

TEST_CASE("ProxyJump: several hops, users and ports, none", "[ssh_config]") {
  TempDir d;
  const auto f = d.path() / "config";
  write(f, R"(Host gw1 gw2
  ProxyJump none
Host app
  ProxyJump ops@gw1:2222,gw2,[fd00::1]:2022
Host direct
  ProxyJump NONE
Host *
  ProxyJump gw1
)",
        d.path());
  const SshConfig cfg = SshConfig::load(f, passwd_env());
  const auto app = same_as_ssh(cfg, f, "app");
  CHECK(app.jumps == std::vector<SshJumpHop>{{"ops", "gw1", 2222}, {"", "gw2", 0}, {"", "fd00::1", 2022}});
  CHECK(same_as_ssh(cfg, f, "gw1").jumps.empty());
  const auto direct = same_as_ssh(cfg, f, "direct");
  CHECK(direct.jumps.empty());
  CHECK(direct.proxy_jump->value == "NONE");
  CHECK(same_as_ssh(cfg, f, "other").jumps == std::vector<SshJumpHop>{{"", "gw1", 0}});
}

TEST_CASE("bad inputs name the file and line and the fix", "[ssh_config]") {
  TempDir d;
  CHECK(load_error(d.path() / "nope") ==
        (d.path() / "nope").string() + ":0: cannot read ssh config " + (d.path() / "nope").string() +
            ": No such file or directory");

  const auto f = d.path() / "config";
  write(f, "Host a\n  ProxyCommand ssh -W %h:%p gw\nHost b\n  ProxyCommand none\n", d.path());
  SshConfig cfg = SshConfig::load(f, passwd_env());
  CHECK(error_of(cfg, "a") == f.string() + ":2: plugbox does not support ProxyCommand (for host 'a'): use ProxyJump, "
                                           "or set the host's jump in the inventory");
  CHECK(error_of(cfg, "b").empty());
  CHECK(error_of(cfg, "c").empty());  // an inactive ProxyCommand concerns other hosts only

  write(f, "Host x\nMatch exec \"true\"\n  User u\n", d.path());
  CHECK(error_of(SshConfig::load(f, passwd_env()), "x").rfind(f.string() + ":2: plugbox does not support 'Match exec'", 0) == 0);
  write(f, "Match final\n", d.path());
  CHECK(error_of(SshConfig::load(f, passwd_env()), "x").rfind(f.string() + ":1: plugbox does not support 'Match final'", 0) == 0);

  write(f, "Host x\n\nMatch hots web\n", d.path());
  CHECK(error_of(SshConfig::load(f, passwd_env()), "x") ==
        f.string() + ":3: unknown Match criterion 'hots': use host, originalhost, user, localuser or all");

  // A bad Port fails for every host, as in OpenSSH (which refuses it too).
  write(f, "Host elsewhere\n  Port 70000\n", d.path());
  CHECK(error_of(SshConfig::load(f, passwd_env()), "x") == f.string() + ":2: bad Port '70000': use a number from 1 to 65535");
  CHECK(std::system(("ssh -F '" + f.string() + "' -G x >/dev/null 2>&1").c_str()) != 0);

  write(f, "Host x\n  ProxyJump gw:port\n", d.path());
  CHECK(error_of(SshConfig::load(f, passwd_env()), "x").rfind(f.string() + ":2: bad ProxyJump 'gw:port'", 0) == 0);

  write(f, "Host x\n  IdentityFile /k/%C\n", d.path());
  SshConfig c2 = SshConfig::load(f, passwd_env());
  const auto x = c2.resolve("x");
  try {
    c2.expand_path(x.identity_files[0], x, "u", 22);
    FAIL("no error");
  } catch (const SshConfigError& e) {
    CHECK(std::string(e.what()).rfind(f.string() + ":2: plugbox does not support '%C' in a path", 0) == 0);
  }

  write(f, "Include @DIR@/config\n", d.path());
  CHECK(load_error(f).find("too many nested Includes") != std::string::npos);
  write(f, "Host x\n  User \"unterminated\n", d.path());
  CHECK(load_error(f) == f.string() + ":2: unterminated quote: close it or remove it");
}
