#include "orchestrator/service_keys.h"

namespace plugbox::orchestrator {

const std::vector<base::ConfigKey>& service_file_tables() {
  static const std::vector<base::ConfigKey> keys{
      {"service", "table", "", "What the service is and how it is prepared, uploaded, stopped, started and checked. Required."},
      {"deploy", "table", "", "How `plugbox deploy` rolls the service out: its group, batches and timeouts."},
      {"hooks", "table", "", "Shell lines run here, on the operator's machine, around deploys and rollbacks: notifications and gates."},
  };
  return keys;
}

const std::vector<base::ConfigKey>& service_keys() {
  static const std::vector<base::ConfigKey> keys{
      {"name", "string", "",
       "The service name: lowercase letters, digits, '-' and '_', starting with a letter. Required. It is the "
       "default SSH user and names the default home, /home/NAME."},
      {"prepare", "array of strings", "[]",
       "Shell lines run here, in order, in the service's source tree, before anything is uploaded "
       "(PLUGBOX_SERVICE and PLUGBOX_VERSION are set)."},
      {"upload_version", "string", "",
       "One directory of the source tree that becomes the version directory on every host. Set either this or "
       "upload."},
      {"upload", "array of strings", "",
       "Paths of the source tree copied into the version directory, each under its last component. Globs are "
       "not expanded. Set either this or upload_version."},
      {"exact_mtimes", "boolean", "false",
       "Each version's files keep exactly the mtimes they had here. Off (the default), a host hard-links a file "
       "whose content and mode a previous version already has, and it keeps the mtime that content had when it "
       "first arrived: a build that rewrites every file (`cp -r`, `npm ci`) then costs disk and writes only for "
       "what changed. On, a file with a new mtime is copied, so N versions of such a build take N copies."},
      {"post_upload", "array of strings", "[]", "Shell lines run on each host in the new version directory once it is uploaded, before it is sealed."},
      {"stop", "array of strings", "[]", "Shell lines run on each host, in the service home, to stop the live version."},
      {"start", "array of strings", "[]", "Shell lines run on each host, in the service home, to start the version just switched to."},
      {"refresh", "array of strings", "[]",
       "If it has lines, a deploy runs them instead of stop and start once the service runs (a reload). A first "
       "deploy uses start and every rollback uses stop and start."},
      {"health", "string", "",
       "A shell line run on each host after start or refresh; a host is healthy when it exits 0. No key: no "
       "health check."},
  };
  return keys;
}

// The defaults are DeployConfig's (service_config.h); service_keys_test.cc
// checks they agree.
const std::vector<base::ConfigKey>& deploy_keys() {
  static const std::vector<base::ConfigKey> keys{
      {"group", "string", "", "The inventory group `plugbox deploy` and `plugbox rollback` target."},
      {"batches", "array of integers and percentage strings", "[1, \"100%\"]",
       "Batch sizes: a number of hosts or a percentage of the selected hosts (rounded up, at least one host). "
       "The last size repeats. The first batch is the canary."},
      {"max_fail", "integer", "0", "Failed hosts tolerated in each batch before the whole fleet is rolled back (0 to 1000000)."},
      {"keep", "integer", "5", "Versions `plugbox fleet gc` keeps without --keep (2 to 1000000)."},
      {"health_retries", "integer", "10", "Attempts of the health command after a switch (1 to 10000)."},
      {"health_interval", "number of seconds", "2", "Seconds between health attempts (0 to 3600)."},
      {"health_timeout", "number of seconds", "10", "Seconds one health attempt may take (0.1 to 3600)."},
      {"command_timeout", "number of seconds", "300", "Seconds any other command on a host may take (1 to 86400)."},
      {"connect_timeout", "number of seconds", "30", "Seconds to reach a host through its whole jump chain (1 to 3600)."},
      {"fan_out", "\"auto\" or \"off\"", "\"auto\"",
       "auto: hosts behind the same jump chain fetch what they lack from a relay on one of them (each content "
       "crosses the link to the site once, sealed with a key of this deploy); off: each host is sent its own copy."},
      {"fan_out_port", "integer", "7447",
       "The TCP port fan-out's relay listens on; hosts of a site must reach each other on it (1 to 65535)."},
  };
  return keys;
}

const std::vector<base::ConfigKey>& hook_keys() {
  static const std::vector<base::ConfigKey> keys{
      {"before_deploy", "string", "",
       "A shell line run before a deploy prepares anything; if it fails (or outlasts command_timeout) the deploy "
       "stops there and no host is touched. A gate: a change freeze, an approval."},
      {"after_deploy", "string", "", "A shell line run after a deploy that succeeded."},
      {"on_failure", "string", "",
       "A shell line run after a deploy or rollback that did not succeed (PLUGBOX_RESULT says how it ended)."},
      {"after_rollback", "string", "", "A shell line run after a rollback, whatever its result."},
  };
  return keys;
}

}  // namespace plugbox::orchestrator
