// Who runs a command, and the names it leaves on hosts: the deployer
// (user@machine, recorded with each version), the lock owner id, and a new
// deploy's version name.
#pragma once

#include <string>

namespace plugbox::cli {

// $USER (else the passwd entry) @ this machine's host name.
std::string whoami();
// The lock owner id of one run: "plugbox-USER@MACHINE-PID-KIND-NAME"
// (kind "" for deploys): unique per process and run, so a host's lock and
// log say which run of whom held it.
std::string owner_id(const std::string& kind, const std::string& run_name);
// The version name for a new deploy: the current UTC second, unless a deploy
// from here already used it (two deploys in a row within one second), in
// which case the next second: the name must be new on every host, and the
// host refuses one that exists.
std::string fresh_version();

}  // namespace plugbox::cli
