#include "inventory/settings.h"

#include <catch2/catch.hpp>

using namespace plugbox::inventory;

TEST_CASE("the settings are the ones docs/DESIGN.md §4 lists", "[settings]") {
  CHECK(setting_names() == std::vector<std::string>{"user", "port", "identity", "home", "server", "server_install", "known_hosts",
                                                     "host_key_check", "transport", "ssh_config"});
  CHECK(is_setting("known_hosts"));
  CHECK_FALSE(is_setting("address"));  // host-only, not a setting of [defaults] or a group
  CHECK(host_only_keys() == std::vector<std::string>{"address", "jump"});
}

TEST_CASE("a var that looks like a misspelt setting is caught, and plain vars are not", "[settings]") {
  CHECK(misspelt_setting("adress") == "address");
  CHECK(misspelt_setting("jmup") == "jump");
  CHECK(misspelt_setting("jmpu") == "");  // two edits on a short word: could be anything
  CHECK(misspelt_setting("jumps") == "jump");
  CHECK(misspelt_setting("Port") == "port");
  CHECK(misspelt_setting("known-hosts") == "known_hosts");
  CHECK(misspelt_setting("host_key_chek") == "host_key_check");
  CHECK(misspelt_setting("hostname") == "address");
  CHECK(misspelt_setting("ProxyJump") == "jump");
  CHECK(misspelt_setting("username") == "user");
  for (const char* plain : {"region", "role", "tier", "datacenter", "zone", "app_port", "env", "rack", "name"}) {
    INFO(plain);
    CHECK(misspelt_setting(plain) == "");
  }
}

TEST_CASE("paths: ~ is $HOME, relative paths are relative to the inventory", "[settings]") {
  ReadContext ctx{"/etc/fleet", "/home/op", "op"};
  std::string why;
  CHECK(expand_path("~", ctx, &why) == "/home/op");
  CHECK(expand_path("~/.ssh/id", ctx, &why) == "/home/op/.ssh/id");
  CHECK(expand_path("keys/../k", ctx, &why) == "/etc/fleet/k");
  CHECK(expand_path("/abs/k", ctx, &why) == "/abs/k");
  CHECK_FALSE(expand_path("~bob/k", ctx, &why));
  CHECK(why == "only '~' and '~/' are expanded; write the full path");
  ReadContext no_home{"/etc/fleet", "", "op"};
  CHECK_FALSE(expand_path("~/k", no_home, &why));
  CHECK(why == "'~' cannot be expanded: $HOME is not set");
}

TEST_CASE("apply_layer sets the fields and keeps the rest as vars", "[settings]") {
  Value port{"2222", {}}, hkc{"accept-new", {}}, tr{"local", {}}, region{"eu", {}}, user{"shop", {}},
      install{"false", {}};
  std::map<std::string_view, const Value*> layer{{"port", &port},     {"host_key_check", &hkc}, {"transport", &tr},
                                                 {"region", &region}, {"user", &user},         {"server_install", &install}};
  Host h;
  apply_layer(layer, h);
  CHECK(h.port == 2222);
  CHECK(h.host_key_check == HostKeyCheck::accept_new);
  CHECK(h.transport == TransportKind::local);
  CHECK(h.user == "shop");
  CHECK(h.vars == std::map<std::string, std::string>{{"region", "eu"}});
  CHECK_FALSE(h.server_install);
  CHECK(h.server.empty());  // untouched default: plugbox's own installed server
}
