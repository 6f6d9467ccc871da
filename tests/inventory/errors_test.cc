// Bad inventories: each one gives exactly the diagnostics listed, message,
// line and column ("inv.toml:LINE:COL: message"), and nothing is loaded.
#include <catch2/catch.hpp>

#include "tests/inventory/support.h"

using plugbox::inventory::test::problems;

namespace {
struct Bad {
  const char* kind;
  const char* toml;
  std::vector<std::string> expected;
};
}  // namespace

TEST_CASE("bad inventories: every problem, with its line and column", "[errors]") {
  const Bad cases[] = {
      // --- TOML itself
      {"TOML syntax error", "[hosts.a]\naddress = \"10.0.0.1\n",
       {"inv.toml:2:20: TOML syntax error: Error while parsing string: unescaped control characters other than TAB "
        "(U+0009) are explicitly prohibited"}},
      {"a host declared twice is a TOML error", "[hosts.a]\n[hosts.b]\n[hosts.a]\n",
       {"inv.toml:3:1: TOML syntax error: Error while parsing table header: cannot redefine existing table 'hosts.a'"}},

      // --- unknown keys
      {"unknown top-level key", "[host.web1]\naddress = \"x\"\n",
       {"inv.toml:1:2: unknown key 'host' (an inventory has [defaults], [hosts.NAME] and [groups.NAME]); did you "
        "mean 'hosts'?"}},
      {"unknown key in a group", "[groups.web]\nmembers = [\"a\"]\n",
       {"inv.toml:1:9: warning: group 'web' has no hosts and no children",
        "inv.toml:2:1: unknown key 'members' in group 'web' (a group has hosts, children and vars)"}},
      {"a setting written directly in a group", "[groups.web]\nhome = \"/srv\"\n",
       {"inv.toml:1:9: warning: group 'web' has no hosts and no children",
        "inv.toml:2:1: unknown key 'home' in group 'web': a group's settings go in its vars: vars = { home = ... }"}},
      {"a misspelt setting in a host", "[hosts.db]\nadress = \"10.0.0.1\"\n",
       {"inv.toml:2:1: unknown key 'adress' in host 'db'; did you mean 'address'? (a free-form var may not look like "
        "a setting: rename it)"}},
      {"a misspelt setting in [defaults]", "[defaults]\nknown-hosts = \"/k\"\n",
       {"inv.toml:2:1: unknown key 'known-hosts' in [defaults]; did you mean 'known_hosts'? (a free-form var may "
        "not look like a setting: rename it)"}},
      {"an ssh_config name in a group's vars", "[groups.g]\nvars = { hostname = \"x\" }\n",
       {"inv.toml:1:9: warning: group 'g' has no hosts and no children",
        "inv.toml:2:10: unknown key 'hostname' in the vars of group 'g'; did you mean 'address'? (a free-form var "
        "may not look like a setting: rename it)"}},

      // --- wrong value types
      {"port as a string", "[hosts.a]\nport = \"22\"\n",
       {"inv.toml:2:8: 'port' of host 'a' must be an integer from 1 to 65535, not a string"}},
      {"port out of range", "[defaults]\nport = 70000\n",
       {"inv.toml:2:8: 'port' of [defaults] is 70000; it must be from 1 to 65535"}},
      {"address not a string", "[hosts.a]\naddress = 10\n",
       {"inv.toml:2:11: 'address' of host 'a' must be a string, not an integer"}},
      {"empty user", "[hosts.a]\nuser = \"\"\n", {"inv.toml:2:8: 'user' of host 'a' is empty"}},
      {"user with an @", "[hosts.a]\nuser = \"shop@web1\"\n",
       {"inv.toml:2:8: 'user' of host 'a' is 'shop@web1': a user name has no '@' or ':'"}},
      {"jump not a name or list", "[hosts.a]\njump = 3\n",
       {"inv.toml:2:8: 'jump' of host 'a' must be a host name or a list of host names (outermost first), not an "
        "integer"}},
      {"jump list holding a table", "[hosts.b]\n[hosts.a]\njump = [\"b\", { x = 1 }]\n",
       {"inv.toml:3:14: 'jump' of host 'a' lists a table; it must list host names"}},
      {"empty jump list", "[hosts.a]\njump = []\n",
       {"inv.toml:2:8: 'jump' of host 'a' is an empty list; remove it to connect directly"}},
      {"group hosts not a list", "[groups.g]\nhosts = \"a\"\n",
       {"inv.toml:2:9: 'hosts' of group 'g' must be a list of host names, not a string"}},
      {"group children holding a number", "[groups.g]\nchildren = [1]\n",
       {"inv.toml:2:13: 'children' of group 'g' must list group names, not an integer"}},
      {"group vars not a table", "[groups.g]\nvars = [\"home\"]\n",
       {"inv.toml:1:9: warning: group 'g' has no hosts and no children",
        "inv.toml:2:8: 'vars' of group 'g' must be a table (vars = { home = \"/srv/app\" }), not an array"}},
      {"a var holding an array", "[hosts.a]\ntags = [\"x\"]\n",
       {"inv.toml:2:8: var 'tags' of host 'a' must be a string, number or boolean, not an array"}},
      {"hosts as an array", "hosts = [\"a\"]\n",
       {"inv.toml:1:9: 'hosts' must be a table of hosts ([hosts.NAME]), not an array"}},
      {"a host that is not a table", "[hosts]\nweb1 = \"10.0.0.1\"\n",
       {"inv.toml:2:8: host 'web1' must be a table, not a string: write [hosts.web1] and its settings below it"}},
      {"a date as a var", "[hosts.a]\nsince = 2024-01-01\n",
       {"inv.toml:2:9: var 'since' of host 'a' must be a string, number or boolean, not a date"}},

      // --- bad values
      {"host_key_check misspelt", "[defaults]\nhost_key_check = \"accept_new\"\n",
       {"inv.toml:2:18: 'host_key_check' of [defaults] is \"accept_new\"; it must be \"strict\", \"accept-new\" or "
        "\"off\"; did you mean 'accept-new'?"}},
      {"transport misspelt", "[hosts.a]\ntransport = \"lcoal\"\n",
       {"inv.toml:2:13: 'transport' of host 'a' is \"lcoal\"; it must be \"ssh\" or \"local\"; did you mean "
        "'local'?"}},
      {"identity with ~user", "[hosts.a]\nidentity = \"~bob/.ssh/id\"\n",
       {"inv.toml:2:12: 'identity' of host 'a' is '~bob/.ssh/id': only '~' and '~/' are expanded; write the full "
        "path"}},
      {"address with a space", "[hosts.a]\naddress = \"10.0.0.1 \"\n",
       {"inv.toml:2:11: 'address' of host 'a' contains a space: '10.0.0.1 '"}},
      {"address in [defaults]", "[defaults]\naddress = \"x\"\n",
       {"inv.toml:2:1: 'address' can only be set on a host ([hosts.NAME]), not in [defaults]"}},
      {"jump in a group's vars", "[groups.g]\nvars = { jump = \"edge\" }\n",
       {"inv.toml:1:9: warning: group 'g' has no hosts and no children",
        "inv.toml:2:10: 'jump' can only be set on a host ([hosts.NAME]), not in the vars of group 'g'"}},
      {"an SSH host's home must be absolute", "[defaults]\nhome = \"srv/app\"\n[hosts.a]\n",
       {"inv.toml:2:8: home 'srv/app' must be an absolute path: it is a directory on an SSH host"}},
      {"a bad group name", "[groups.\"web servers\"]\n",
       {"inv.toml:1:13: group name 'web servers' contains ' '; names use letters, digits, '.', '_' and '-'"}},

      // --- ranges
      {"reversed range", "[hosts.\"web[24:01]\"]\n",
       {"inv.toml:1:12: reversed range 'web[24:01]': the start is after the end; write web[01:24]"}},
      {"empty range", "[hosts.\"web[]\"]\n",
       {"inv.toml:1:12: empty range in host name 'web[]'; write web[START:END], e.g. web[01:24]"}},
      {"range without an end", "[groups.g]\nhosts = [\"web[1:]\"]\n",
       {"inv.toml:2:17: range 'web[1:]' has no end; write web[START:END], e.g. web[01:24]"}},
      {"padded bounds of different widths", "[hosts.\"web[01:100]\"]\n",
       {"inv.toml:1:12: zero-padded range 'web[01:100]' needs bounds of the same width; write web[001:100]"}},
      {"letters as bounds", "[hosts.\"web[a:f]\"]\n",
       {"inv.toml:1:13: range bound 'a' in 'web[a:f]' is not a number; write web[START:END], e.g. web[01:24]"}},
      {"two ranges in one name", "[hosts.\"r[1:2]n[1:2]\"]\n",
       {"inv.toml:1:16: host name 'r[1:2]n[1:2]' has more than one range; only one is allowed"}},
      {"a bad character in a host name", "[hosts.\"web/1\"]\n",
       {"inv.toml:1:12: host name 'web/1' contains '/'; names use letters, digits, '.', '_' and '-'"}},
      {"overlapping ranges", "[hosts.\"web[01:10]\"]\n[hosts.\"web[05:12]\"]\n",
       {"inv.toml:2:8: host 'web05' (and 5 more) of 'web[05:12]' is already declared by 'web[01:10]' at "
        "inv.toml:1:8; each host is declared once"}},
      {"a plain host inside a range", "[hosts.\"web[1:3]\"]\n[hosts.web2]\n",
       {"inv.toml:2:8: host 'web2' is already declared by 'web[1:3]' at inv.toml:1:8; each host is declared once"}},
      {"{} in the address of a plain host", "[hosts.a]\naddress = \"a{}.internal\"\n",
       {"inv.toml:2:11: the address of host 'a' has '{}' but the host name has no range to number it, e.g. "
        "[hosts.\"a[1:3]\"]"}},
      {"{} in a home shared by many hosts", "[defaults]\nhome = \"/srv/{}\"\n",
       {"inv.toml:2:8: '{}' in the home of [defaults] is not replaced: only a range host's own address and home are "
        "numbered"}},

      // --- jumps
      {"unknown jump host", "[hosts.bastion-eu]\n[hosts.\"web[1:3]\"]\njump = \"bastoin-eu\"\n",
       {"inv.toml:3:8: host 'web[1:3]' jumps through unknown host 'bastoin-eu'; did you mean 'bastion-eu'?"}},
      {"self-jump", "[hosts.a]\njump = \"a\"\n",
       {"inv.toml:2:8: host 'a' jumps through itself; remove 'a' from its jump"}},
      {"two-host jump cycle", "[hosts.alpha]\njump = \"beta\"\n[hosts.beta]\njump = \"alpha\"\n",
       {"inv.toml:2:8: jump cycle: alpha -> beta -> alpha (each jumps through the next)"}},
      {"three-host jump cycle", "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"c\"\n[hosts.c]\njump = \"a\"\n",
       {"inv.toml:2:8: jump cycle: a -> b -> c -> a (each jumps through the next)"}},
      {"a cycle through a jump list, which also contradicts a hop's own jump",
       "[hosts.a]\njump = [\"c\", \"b\"]\n[hosts.b]\n[hosts.c]\njump = \"a\"\n",
       {"inv.toml:2:9: the jump list of host 'a' starts at 'c', so it is reached directly, but its own jump (at "
        "inv.toml:5:8) reaches it through 'a'; a host has one way in: make them agree",
        "inv.toml:2:14: jump cycle: a -> b -> c -> a (each jumps through the next)"}},
      {"a jump list naming a host twice", "[hosts.e]\n[hosts.a]\njump = [\"e\", \"e\"]\n",
       {"inv.toml:3:14: the jump list of host 'a' names 'e' twice"}},
      {"a jump list disagreeing with a hop's own jump",
       "[hosts.e]\n[hosts.m]\njump = \"e\"\n[hosts.a]\njump = [\"m\"]\n",
       {"inv.toml:5:9: the jump list of host 'a' starts at 'm', so it is reached directly, but its own jump (at "
        "inv.toml:3:8) reaches it through 'e'; a host has one way in: make them agree"}},

      // --- groups
      {"a group naming an unknown host", "[hosts.web01]\n[groups.web]\nhosts = [\"web01\", \"wbe01\"]\n",
       {"inv.toml:3:19: group 'web' lists unknown host 'wbe01'; did you mean 'web01'?"}},
      {"a group range reaching past the hosts", "[hosts.\"w[1:2]\"]\n[groups.g]\nhosts = [\"w[1:4]\"]\n",
       {"inv.toml:3:10: group 'g' lists 'w[1:4]', but w3 (and 1 more) are not declared in [hosts]"}},
      {"a group listing a host twice", "[hosts.a]\n[groups.g]\nhosts = [\"a\", \"a\"]\n",
       {"inv.toml:3:15: group 'g' lists host 'a' more than once (first at inv.toml:3:10)"}},
      {"an unknown child group", "[groups.web]\n[groups.prod]\nchildren = [\"wbe\"]\n",
       {"inv.toml:1:9: warning: group 'web' has no hosts and no children",
        "inv.toml:3:13: group 'prod' has unknown child group 'wbe'; did you mean 'web'?"}},
      {"a group that is its own child", "[hosts.a]\n[groups.g]\nhosts = [\"a\"]\nchildren = [\"g\"]\n",
       {"inv.toml:4:13: group 'g' lists itself as a child"}},
      {"a cycle among group children",
       "[hosts.a]\n[groups.x]\nhosts = [\"a\"]\nchildren = [\"y\"]\n[groups.y]\nchildren = [\"x\"]\n",
       {"inv.toml:4:13: group cycle: x -> y -> x (each lists the next as a child); a group cannot contain itself"}},
      {"two unrelated groups setting one key",
       "[hosts.a]\n[groups.eu]\nhosts = [\"a\"]\nvars = { home = \"/srv/eu\" }\n[groups.canary]\nhosts = "
       "[\"a\"]\nvars = { home = \"/srv/canary\" }\n",
       {"inv.toml:7:17: groups 'eu' and 'canary' both set 'home' for host 'a': \"/srv/eu\" (at inv.toml:4:17) and "
        "\"/srv/canary\"; neither group is inside the other, so neither wins: make one a child of the other, or set "
        "'home' on the host"}},

      // --- local transport
      {"a local host without a home", "[hosts.box]\ntransport = \"local\"\n",
       {"inv.toml:1:8: host 'box' has transport = \"local\" but no home: set home = \"DIR\", the directory that "
        "stands for the host on this machine"}},
      {"a local host with a jump", "[hosts.e]\n[hosts.box]\ntransport = \"local\"\nhome = \"/tmp/box\"\njump = "
                                   "\"e\"\n",
       {"inv.toml:5:8: host 'box' has transport = \"local\": it cannot have a jump"}},
      {"jumping through a local host", "[hosts.box]\ntransport = \"local\"\nhome = \"/tmp/box\"\n[hosts.a]\njump = "
                                       "\"box\"\n",
       {"inv.toml:5:8: 'box' has transport = \"local\": no host can jump through it"}},
  };
  STATIC_REQUIRE(sizeof(cases) / sizeof(cases[0]) >= 25);
  for (const auto& c : cases) {
    INFO(c.kind << "\n" << c.toml);
    CHECK(problems(c.toml) == c.expected);
  }
}

TEST_CASE("every problem in a file is reported, in file order, and nothing loads", "[errors]") {
  const char* toml = R"([defaults]
port = "22"
[hosts."web[24:01]"]
[hosts.a]
jump = "nope"
[groups.g]
hosts = ["b"]
)";
  try {
    plugbox::inventory::test::parse(toml);
    FAIL("a bad inventory loaded");
  } catch (const plugbox::inventory::InventoryError& e) {
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics()) got.push_back(d.str());
    CHECK(got == std::vector<std::string>{
                     "inv.toml:2:8: 'port' of [defaults] must be an integer from 1 to 65535, not a string",
                     "inv.toml:3:12: reversed range 'web[24:01]': the start is after the end; write web[01:24]",
                     "inv.toml:5:8: host 'a' jumps through unknown host 'nope'",
                     "inv.toml:7:10: group 'g' lists unknown host 'b'; did you mean 'a'?",
                 });
    CHECK(std::string(e.what()) == got.front());
  }
}
