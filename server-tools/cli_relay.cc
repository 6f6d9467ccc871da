// `relay --listen ADDR:PORT`: fan-out's relay (relay.h). stdout says where it
// listens ({"listening":"ADDR:PORT"}) and, when stdin ends, what it served.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "server-tools/cli_command.h"
#include "server-tools/errors.h"
#include "server-tools/relay.h"

namespace plugbox::server {

namespace {

struct RelayCommand : CliCommand {
  std::string listen_, upstream_;

  RelayCommand()
      : CliCommand("relay", "serve a deploy's sealed contents to the hosts of this site over TCP until stdin ends "
                            "(fan-out: upload/PROTOCOL.md)") {}
  void add_options(CLI::App& c) override {
    c.add_option("--listen", listen_, "ADDR:PORT to listen on (numeric; port 0: any free one)")->required();
    c.add_option("--upstream", upstream_,
                 "ADDR:PORT of the site's relay to fetch contents from (with the 'U' token stdin brings), "
                 "instead of getting them on stdin");
  }
  void check_args(const std::string&) override {}
  int run(const CommandContext& ctx) override {
    std::string bound;
    base::UniqueFd fd = bind_relay(listen_, &bound);
    ctx.env.out << nlohmann::json{{"listening", bound}}.dump() << std::endl;
    RelayStats s;
    std::string error;
    const bool ok = serve_relay(fd.get(), ctx.env.stdin_fd, &s, &error, upstream_);
    ctx.env.out << nlohmann::json{{"served",
                                   {{"connections", s.connections},
                                    {"fetches", s.fetches},
                                    {"bytes_served", s.bytes_served},
                                    {"bytes_stored", s.bytes_stored},
                                    {"refused", s.refused},
                                    {"upstream_fetches", s.upstream_fetches},
                                    {"upstream_failure", s.upstream_failure}}}}
                       .dump()
                << std::endl;
    if (!ok) refuse(error);
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_relay_command() { return std::make_unique<RelayCommand>(); }

}  // namespace plugbox::server
