// plugbox-docgen OUTDIR: writes the man pages and shell completions of the
// plugbox package into OUTDIR, from the very command lines the binaries parse
// (cli_app.h, server_app.h) and the key tables the configuration readers
// validate against. A build step (tools/docgen/CMakeLists.txt); not installed.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "orchestrator/cli_app.h"
#include "server-tools/server_app.h"
#include "tools/docgen/completion.h"
#include "tools/docgen/pages.h"

namespace {

void write(const std::filesystem::path& file, const std::string& text) {
  // Written beside, then renamed: an interrupted run never leaves half a page
  // that the build would take as up to date.
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: plugbox-docgen OUTDIR\n";
    return 2;
  }
  try {
    const std::filesystem::path out = argv[1];
    std::filesystem::create_directories(out);

    CLI::App client;
    plugbox::cli::GlobalOptions opts;
    plugbox::cli::build_app(client, opts);
    const auto plugbox = plugbox::docgen::describe(client, "plugbox");

    CLI::App server;
    plugbox::server::ServerGlobalOptions global;
    const auto commands = plugbox::server::server_commands();
    plugbox::server::build_server_app(server, global, commands);
    const auto plugbox_server = plugbox::docgen::describe(server, "plugbox-server");

    write(out / "plugbox.1", plugbox::docgen::plugbox_page(plugbox));
    write(out / "plugbox-server.1", plugbox::docgen::plugbox_server_page(plugbox_server));
    write(out / "inventory.toml.5", plugbox::docgen::inventory_toml_page());
    write(out / "plugbox.toml.5", plugbox::docgen::plugbox_toml_page());
    write(out / "plugbox.bash", plugbox::docgen::bash_completion(plugbox));
    write(out / "_plugbox", plugbox::docgen::zsh_completion(plugbox));
  } catch (const std::exception& e) {
    std::cerr << "plugbox-docgen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
