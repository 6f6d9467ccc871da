// The fleet's text files as strings: sshd_config, known_hosts lines, the
// OpenSSH client config, and an inventory.toml read back with toml++.
#include "tests/harness/fleet_files.h"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <toml++/toml.h>

using namespace plugbox::testing;

namespace {

RunningHost make_host(std::string name, std::string address, int port, std::string behind,
                      std::vector<std::string> groups = {}, bool is_jump = false) {
  RunningHost h;
  h.name = std::move(name);
  h.address = std::move(address);
  h.port = port;
  h.behind = std::move(behind);
  h.groups = std::move(groups);
  h.is_jump = is_jump;
  h.home = "/tmp/f/hosts/" + h.name + "/home";
  return h;
}

const ClientSide kClient{"plugbox-test", "/tmp/f/client_key", "/tmp/f/known_hosts"};

std::vector<RunningHost> sample_fleet() {
  return {make_host("b1", "198.18.1.2", 22022, "", {}, true),
          make_host("b2", "198.18.1.6", 22022, "b1", {}, true),
          make_host("web01", "127.0.1.1", 22022, "b1", {"web"}),
          make_host("deep", "127.0.1.2", 22022, "b2", {"web", "db"}),
          make_host("solo", "127.0.1.3", 22, "")};
}

// Where the n-th (0-based) occurrence of a whole line starts; npos if none.
size_t line_index(const std::string& text, const std::string& line, int nth = 0) {
  size_t pos = 0;
  for (int i = 0; i <= nth; ++i, ++pos) {
    pos = text.find("\n" + line + "\n", pos);
    if (pos == std::string::npos) return pos;
  }
  return pos - 1;
}

}  // namespace

TEST_CASE("sshd_config: listen address, quoted paths, HOME, key-only login of the test user, extra lines first") {
  SshdPaths p{"/tmp/f/hosts/web01/host_key", "/tmp/f/authorized_keys", "/tmp/f/hosts/web01/home"};
  const std::string c = sshd_config("127.0.1.1", 22022, p, {"MaxSessions 3", "ClientAliveInterval 1"});
  for (const char* line :
       {"ListenAddress 127.0.1.1:22022", "HostKey \"/tmp/f/hosts/web01/host_key\"",
        "AuthorizedKeysFile \"/tmp/f/authorized_keys\"", "SetEnv \"HOME=/tmp/f/hosts/web01/home\"",
        "AllowUsers plugbox-test", "UsePAM no", "StrictModes no", "PidFile none", "PasswordAuthentication no",
        "AuthenticationMethods publickey", "LogLevel VERBOSE", "MaxStartups 1000", "MaxSessions 1000",
        "AllowTcpForwarding yes"}) {
    INFO(line);
    CHECK(line_index(c, line) != std::string::npos);
  }
  // sshd keeps the first value of a keyword: the caller's lines must come first.
  CHECK(line_index(c, "MaxSessions 3") < line_index(c, "MaxSessions 1000"));
  CHECK(line_index(c, "ClientAliveInterval 1") < line_index(c, "ListenAddress 127.0.1.1:22022"));
  // sshd keeps the LAST MaxStartups: the caller's is then the only one.
  const std::string d = sshd_config("127.0.1.1", 22022, p, {" maxstartups=10:30:100"});
  CHECK(line_index(d, " maxstartups=10:30:100") != std::string::npos);
  CHECK(line_index(d, "MaxStartups 1000") == std::string::npos);

  SshdPaths bad{"/tmp/a\"b", "/tmp/x", "/tmp/y"};
  CHECK_THROWS_WITH(sshd_config("127.0.0.1", 1, bad, {}),
                    "path unusable in an ssh config (has '\"', '%' or a newline): /tmp/a\"b");
  SshdPaths percent{"/tmp/%u", "/tmp/x", "/tmp/y"};
  CHECK_THROWS_AS(sshd_config("127.0.0.1", 1, percent, {}), std::invalid_argument);
}

TEST_CASE("sshd_config: the caller's SetEnv values join the harness's one SetEnv line, before HOME") {
  SshdPaths p{"/k", "/a", "/h"};
  const std::string c =
      sshd_config("127.0.0.1", 1, p, {"SetEnv FOO=bar", "  setenv=A=1 B=2", "SetEnvironmentish x", "X11Forwarding no"});
  CHECK(line_index(c, "SetEnv FOO=bar A=1 B=2 \"HOME=/h\"") != std::string::npos);
  CHECK(c.find("setenv=") == std::string::npos);
  CHECK(line_index(c, "SetEnvironmentish x") != std::string::npos);  // not SetEnv: passed through
  CHECK(line_index(c, "X11Forwarding no") < line_index(c, "X11Forwarding no", 1));
  size_t count = 0;
  for (size_t pos = 0; (pos = c.find("\nSetEnv ", pos)) != std::string::npos; ++pos) ++count;
  CHECK(count == 1);
}

TEST_CASE("known_hosts lines use OpenSSH's host form: bare for port 22, [addr]:port otherwise") {
  CHECK(known_hosts_line("127.0.1.1", 22022, "ssh-ed25519 AAAAC3") == "[127.0.1.1]:22022 ssh-ed25519 AAAAC3");
  CHECK(known_hosts_line("198.18.1.2", 22, "ssh-ed25519 AAAAC3") == "198.18.1.2 ssh-ed25519 AAAAC3");
}

TEST_CASE("a public key line loses its comment and newline - anything else is refused") {
  CHECK(public_key_without_comment("ssh-ed25519 AAAAC3Nza host web01\n") == "ssh-ed25519 AAAAC3Nza");
  CHECK(public_key_without_comment("ssh-ed25519 AAAAC3Nza\n") == "ssh-ed25519 AAAAC3Nza");
  CHECK(public_key_without_comment("ssh-ed25519 AAAAC3Nza") == "ssh-ed25519 AAAAC3Nza");
  CHECK_THROWS_AS(public_key_without_comment(""), std::invalid_argument);
  CHECK_THROWS_AS(public_key_without_comment("ssh-ed25519"), std::invalid_argument);
  CHECK_THROWS_AS(public_key_without_comment("ssh-ed25519 \n"), std::invalid_argument);
}

TEST_CASE("the OpenSSH client config names every host, jumps through the immediate jump host only") {
  const std::string c = ssh_client_config(sample_fleet(), kClient);
  CHECK(c.find("\nHost b1\n  HostName 198.18.1.2\n  Port 22022\nHost b2\n") != std::string::npos);
  CHECK(c.find("\nHost b2\n  HostName 198.18.1.6\n  Port 22022\n  ProxyJump b1\n") != std::string::npos);
  CHECK(c.find("\nHost deep\n  HostName 127.0.1.2\n  Port 22022\n  ProxyJump b2\n") != std::string::npos);
  CHECK(c.find("\nHost solo\n  HostName 127.0.1.3\n  Port 22\nHost *\n") != std::string::npos);
  // Defaults come last: ssh keeps the first value, so per-host blocks win.
  const auto star = c.find("\nHost *\n");
  REQUIRE(star != std::string::npos);
  for (const char* line : {"  User plugbox-test", "  IdentityFile \"/tmp/f/client_key\"", "  IdentitiesOnly yes",
                           "  UserKnownHostsFile \"/tmp/f/known_hosts\"", "  GlobalKnownHostsFile /dev/null",
                           "  StrictHostKeyChecking yes", "  BatchMode yes", "  ServerAliveInterval 5",
                           "  ServerAliveCountMax 3"}) {
    INFO(line);
    CHECK(c.find("\n" + std::string(line) + "\n", star) != std::string::npos);
  }
}

TEST_CASE("inventory.toml reads back with the defaults, every host's address/port/home/jump and the groups") {
  const std::string text = inventory_toml(sample_fleet(), kClient, {"server = \"/opt/pb/plugbox-server\""});
  toml::table t;
  try {
    t = toml::parse(text);
  } catch (const toml::parse_error& e) {
    FAIL("not TOML: " << e.what() << "\n" << text);
  }
  CHECK(t["defaults"]["user"].value_or(std::string()) == "plugbox-test");
  CHECK(t["defaults"]["identity"].value_or(std::string()) == "/tmp/f/client_key");
  CHECK(t["defaults"]["known_hosts"].value_or(std::string()) == "/tmp/f/known_hosts");
  CHECK(t["defaults"]["host_key_check"].value_or(std::string()) == "strict");
  CHECK(t["defaults"]["server"].value_or(std::string()) == "/opt/pb/plugbox-server");

  auto hosts = t["hosts"].as_table();
  REQUIRE(hosts);
  CHECK(hosts->size() == 5);
  for (const auto& h : sample_fleet()) {
    INFO(h.name);
    auto ht = t["hosts"][h.name];
    CHECK(ht["address"].value_or(std::string()) == h.address);
    CHECK(ht["port"].value_or(0) == h.port);
    CHECK(ht["home"].value_or(std::string()) == h.home);
    CHECK(ht["jump"].value_or(std::string("(none)")) == (h.behind.empty() ? "(none)" : h.behind));
  }
  auto members = [&](const char* group) {
    std::vector<std::string> out;
    if (auto arr = t["groups"][group]["hosts"].as_array())
      for (const auto& e : *arr) out.push_back(e.value_or(std::string()));
    return out;
  };
  CHECK(members("all") == std::vector<std::string>{"b1", "b2", "web01", "deep", "solo"});
  CHECK(members("leaves") == std::vector<std::string>{"web01", "deep", "solo"});
  CHECK(members("web") == std::vector<std::string>{"web01", "deep"});
  CHECK(members("db") == std::vector<std::string>{"deep"});
}

TEST_CASE("toml_string escapes what TOML requires and reads back unchanged") {
  const std::string nasty = "a\"b\\c\nd\te\x01" "f\x7f" "/é";
  auto t = toml::parse("k = " + toml_string(nasty) + "\n");
  CHECK(t["k"].value_or(std::string()) == nasty);
  CHECK(toml_string("plain") == "\"plain\"");
}
