#include "tools/docgen/pages.h"

#include "base/build_info.h"
#include "inventory/setting_docs.h"
#include "orchestrator/exit_status.h"
#include "orchestrator/service_keys.h"
#include "server-tools/errors.h"
#include "tools/docgen/man_page.h"

namespace plugbox::docgen {

namespace {

std::string source() { return std::string("plugbox ") + base::release_version(); }

// "plugbox: stage releases ..." -> "stage releases ...": the NAME line.
std::string summary(const CommandDoc& root) {
  std::string s = first_line(root.help);
  if (s.rfind(root.name + ": ", 0) == 0) s = s.substr(root.name.size() + 2);
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string number(orchestrator::ExitStatus s) { return std::to_string(orchestrator::code(s)); }
std::string number(server::ExitStatus s) { return std::to_string(static_cast<int>(s)); }


}  // namespace

std::string plugbox_page(const CommandDoc& plugbox) {
  using orchestrator::ExitStatus;
  std::vector<Section> after{
      {"EXIT STATUS",
       {"The same for every command, decided from the state each host ends in."},
       {{number(ExitStatus::ok), "Done."},
        {number(ExitStatus::failed),
         "Failed, and nothing is left half-way: a deploy rolled back cleanly or staging failed with nothing "
         "switched; a failed prepare, exec, status or gc."},
        {number(ExitStatus::bad_input), "Bad input (a command line, an inventory or a service file): nothing was touched."},
        {number(ExitStatus::incomplete),
         "A host is not where it should be: one that could not be put back, a staged version that could not be "
         "removed, a host a rollback had to reach and could not. The end-of-run table names it."},
        {number(ExitStatus::interrupted),
         "Interrupted (Ctrl-C): nothing new starts and switched hosts are put back; a second Ctrl-C aborts at "
         "once."}},
       ""},
      {"ENVIRONMENT",
       {},
       {{"PLUGBOX_INVENTORY", "The inventory file when -i is not given."},
        {"PLUGBOX_SESSION",
         "\"off\": each step on a host gets its own SSH channel instead of one plugbox-server session per host "
         "and run. \"on\" or unset: sessions. Any other value is refused."},
        {"PLUGBOX_SERVERS",
         "A directory of plugbox-server builds to install on hosts, DIR/ARCH/plugbox-server with ARCH as uname -m "
         "prints it (default: the ones installed with plugbox, in /usr/lib/plugbox/servers)."},
        {"XDG_STATE_HOME", "Where run journals are kept (default ~/.local/state)."},
        {"NO_COLOR", "When set, fleet exec does not colour its host prefixes."}},
       ""},
      {"FILES",
       {},
       {{"./inventory.toml", "The inventory when neither -i nor PLUGBOX_INVENTORY names one; see inventory.toml(5)."},
        {"./plugbox.toml", "The service file when -f does not name one; see plugbox.toml(5)."},
        {"$XDG_STATE_HOME/plugbox/runs/", "One journal per run: each step with each host's command and output."},
        {"/usr/lib/plugbox/servers/ARCH/plugbox-server",
         "The static plugbox-server for hosts of architecture ARCH (x86_64, aarch64), as installed by the Debian "
         "package."}},
       ""},
      {"SEE ALSO", {"plugbox-server(1), inventory.toml(5), plugbox.toml(5)"}, {}, ""},
  };
  const std::vector<std::string> description{
      "plugbox deploys a service to a fleet of hosts over SSH. It stages the new release on every host first, "
      "then switches hosts live in health-gated batches (canary first), through chains of SSH jump hosts, and "
      "when a batch fails it puts the whole fleet back, each host on its own previous version.",
      "The service is described by its plugbox.toml(5), the hosts by an inventory.toml(5). On each host, "
      "plugbox runs plugbox-server(1) as the service user. Every command refuses bad input (exit 2) before it "
      "touches any host."};
  return command_page({"plugbox", 1, summary(plugbox), source()}, description, plugbox, after);
}

std::string plugbox_server_page(const CommandDoc& server) {
  using server::ExitStatus;
  std::vector<Section> after{
      {"EXIT STATUS",
       {},
       {{number(ExitStatus::ok), "Done, or it was already so."},
        {number(ExitStatus::refused),
         "Refused: the request is well formed but this host's state does not allow it (an unknown or staged "
         "version, removing the live version, the lock held by someone else), or a system error while carrying "
         "it out. The reason is printed."},
        {number(ExitStatus::bad_input), "Bad usage or input: the request could never succeed as written. Nothing was touched."}},
       ""},
      {"ENVIRONMENT",
       {},
       {{"HOME", "The service home when --home is not given."},
        {"PLUGBOX_LOCK_OWNER", "The deploy-lock owner when --owner is not given."}},
       ""},
      {"FILES",
       {},
       {{"HOME/deploy/", "The versions, one directory each, and the live link."},
        {"HOME/deploy/live", "The live version: a symbolic link, switched by rename(2) only."},
        {"HOME/deploy/.plugbox/", "The deploy lock, the operation log and one record per version."}},
       ""},
      {"SEE ALSO", {"plugbox(1), inventory.toml(5), plugbox.toml(5)"}, {}, ""},
  };
  const std::vector<std::string> description{
      "plugbox-server is the per-host half of plugbox(1): plugbox runs it over SSH as the service user, one "
      "command per step, or all of a run's steps through one session. It works on the layout under the service "
      "home: HOME/deploy/ holds one directory per version and the live link. Every argument is checked before "
      "the disk is looked at."};
  return command_page({"plugbox-server", 1, summary(server), source()}, description, server, after);
}

std::string inventory_toml_page() {
  const std::string synopsis =
      "[defaults]\n"
      "user = \"shop\"\n"
      "identity = \"~/.ssh/id_ed25519\"\n"
      "\n"
      "[hosts.edge]\n"
      "address = \"203.0.113.10\"\n"
      "[hosts.\"web[01:24]\"]\n"
      "address = \"web{}.eu.internal\"\n"
      "jump = \"edge\"\n"
      "\n"
      "[groups.web]\n"
      "hosts = [\"web[01:24]\"]\n"
      "vars = { home = \"/srv/shop\" }\n";
  const std::string description =
      "The inventory names the hosts plugbox works on, how to reach them (jump chains of SSH hosts) and "
      "their groups. plugbox reads it from -i FILE, else $PLUGBOX_INVENTORY, else ./inventory.toml. Every "
      "problem is reported at once as FILE:LINE:COL, and an inventory with any error stops every command "
      "with exit 2 before anything runs. Unknown keys are errors, and a var whose name looks like a "
      "misspelt setting is refused with a \"did you mean\".";
  std::vector<KeyTable> tables{
      {"Top level", "Only these tables exist at the top level.", &inventory::inventory_tables()},
      {"[groups.NAME]", "A group has only these keys.", &inventory::group_keys()},
      {"Host settings",
       "These may be set in [defaults], in a group's vars, or on a host. Any other key there is a free-form "
       "var (a string, number or boolean).",
       &inventory::setting_docs()},
      {"[hosts.NAME] only", "These belong only to a host's own table.", &inventory::host_only_key_docs()},
  };
  std::vector<Section> after{
      {"PRECEDENCE",
       {"The most specific place that sets a key wins: the host's own table (or the range that declares it), "
        "then the vars of the groups it is in (a child group beats its parents), then [defaults], then the "
        "built-in default. Two groups, neither inside the other, that set a key to different values for the "
        "same host are an error naming both."},
       {},
       ""},
      {"SEE ALSO", {"plugbox(1), plugbox.toml(5)"}, {}, ""},
  };
  return config_page({"inventory.toml", 5, "the hosts and groups plugbox deploys to", source()}, synopsis,
                     description, tables, after);
}

std::string plugbox_toml_page() {
  const std::string synopsis =
      "[service]\n"
      "name = \"shop\"\n"
      "prepare = [\"make dist\"]\n"
      "upload_version = \"dist\"\n"
      "stop = [\"systemctl --user stop shop\"]\n"
      "start = [\"systemctl --user start shop\"]\n"
      "health = \"curl -fsS http://127.0.0.1:8080/health\"\n"
      "\n"
      "[deploy]\n"
      "group = \"web\"\n"
      "batches = [1, \"10%\", \"100%\"]\n";
  const std::string description =
      "The service file, in the service's source tree, says what to prepare and upload, how to stop, start "
      "and check the service on each host, and how to roll it out. plugbox reads it from -f FILE, else "
      "./plugbox.toml; its directory is the source tree. Unknown keys are errors, reported as FILE:LINE:COL "
      "with a \"did you mean\": a misspelt health key would otherwise deploy with no health check.";
  std::vector<KeyTable> tables{
      {"Top level", "", &orchestrator::service_file_tables()},
      {"[service]", "", &orchestrator::service_keys()},
      {"[deploy]", "", &orchestrator::deploy_keys()},
      {"[hooks]", "", &orchestrator::hook_keys()},
  };
  std::vector<Section> after{
      {"ENVIRONMENT",
       {"Every line run on a host (post_upload, stop, start, refresh, health) has these set; prepare has only "
        "the first two."},
       {{"PLUGBOX_SERVICE", "The service name."},
        {"PLUGBOX_VERSION", "The version going live (during a rollback, the old version)."},
        {"PLUGBOX_PREVIOUS", "The version that was live (empty on a first deploy)."},
        {"PLUGBOX_HOST", "The host's inventory name."}},
       ""},
      {"HOOKS",
       {"The [hooks] lines run on the operator's machine, in the source tree, with the command_timeout of "
        "[deploy]; their output goes to stderr. A failing before_deploy stops the deploy before anything is "
        "prepared or sent; the other hooks' failures are reported and change nothing of the run's result. "
        "They have these set (lists are space-separated):"},
       {{"PLUGBOX_SERVICE", "The service name."},
        {"PLUGBOX_VERSION", "A deploy's version; after a rollback, the versions its hosts are live on."},
        {"PLUGBOX_PREVIOUS", "The versions the selected hosts were live on before the run (empty for before_deploy)."},
        {"PLUGBOX_HOSTS", "The selected hosts."},
        {"PLUGBOX_RESULT", "ok, failed, incomplete or interrupted (empty for before_deploy)."},
        {"PLUGBOX_SUMMARY", "The run's one-line summary (empty for before_deploy)."},
        {"PLUGBOX_JOURNAL", "The run's journal directory (empty for before_deploy)."}},
       ""},
      {"SEE ALSO", {"plugbox(1), inventory.toml(5)"}, {}, ""},
  };
  return config_page({"plugbox.toml", 5, "the service file plugbox deploys from", source()}, synopsis, description,
                     tables, after);
}

}  // namespace plugbox::docgen
