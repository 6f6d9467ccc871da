// plugbox-server: the per-host tool (docs/DESIGN.md §3). Everything is in server_cli.cc.
#include <iostream>

#include "server-tools/server_cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  plugbox::server::CliEnv env{std::cout, std::cerr, 0, plugbox::server::process_env};
  int rc = plugbox::server::run_server_cli(args, env);
  std::cout.flush();
  return rc;
}
