#include "bench/upload/rsync_run.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "transport/shell_quote.h"

namespace plugbox::bench {

namespace {

using transport::shell_quote;

std::uint64_t number_after(const std::string& text, const std::string& label) {
  auto at = text.find(label);
  if (at == std::string::npos) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = at + label.size(); i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') v = v * 10 + std::uint64_t(c - '0');
    else if (c != ',' && c != ' ') break;  // rsync groups digits with commas
  }
  return v;
}

// The exit status; *peak_rss_kb gets the largest RSS of the shell and
// everything below it that was waited for.
int run_shell(const std::string& line, long* peak_rss_kb) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("bench_upload: fork failed");
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) throw std::runtime_error("bench_upload: waitpid failed");
  *peak_rss_kb = ru.ru_maxrss;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string rsync_command(const RsyncOptions& o, const std::string& remote) {
  std::string c = "rsync -a --delete --mkpath --stats";
  if (!o.link_dest.empty()) c += " --link-dest=" + shell_quote(o.link_dest);
  // LogLevel=VERBOSE makes ssh report the bytes it moved when it exits.
  c += " -e " + shell_quote("ssh -F " + shell_quote(o.ssh_config.string()) + " -o LogLevel=VERBOSE");
  c += " " + shell_quote(o.source.string() + "/") + " " + remote;
  return c;
}

RsyncRun run_rsync(const std::vector<RsyncTarget>& targets, const RsyncOptions& o) {
  namespace fs = std::filesystem;
  const fs::path list = o.work / (o.tag + ".hosts");
  const fs::path script = o.work / (o.tag + ".sh");
  {
    std::ofstream l(list);
    for (std::size_t i = 0; i < targets.size(); ++i)
      l << targets[i].host << ' ' << targets[i].dest << ' '
        << (o.work / (o.tag + "." + targets[i].host + ".log")).string() << '\n';
    // $1 host, $2 dest, $3 log. The exit status goes into the log: xargs
    // only says whether any failed.
    std::ofstream s(script);
    s << rsync_command(o, "\"$1:$2/\"") << " >\"$3\" 2>&1\necho \"rsync-exit $?\" >>\"$3\"\n";
    if (!l || !s) throw std::runtime_error("bench_upload: cannot write " + list.string());
  }
  const std::string line = "exec xargs -P " + std::to_string(targets.size()) + " -L 1 /bin/sh " +
                           shell_quote(script.string()) + " < " + shell_quote(list.string());

  RsyncRun r;
  const CpuTimes before = children_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  long peak_kb = 0;
  const int status = run_shell(line, &peak_kb);
  r.peak_rss_mb = double(peak_kb) / 1024.0;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.client = children_cpu() - before;
  if (status != 0) r.failures.push_back("xargs exit status " + std::to_string(status));

  for (const auto& t : targets) {
    const fs::path log = o.work / (o.tag + "." + t.host + ".log");
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("rsync-exit 0\n") == std::string::npos) {
      auto cut = text.find('\n');
      r.failures.push_back(t.host + ": " + (text.empty() ? "no log" : text.substr(0, cut)) + " (log " +
                           log.string() + ")");
      continue;
    }
    r.stats_sent += number_after(text, "Total bytes sent:");
    r.stats_received += number_after(text, "Total bytes received:");
    if (auto at = text.find("Transferred: sent "); at != std::string::npos) {
      const std::string tl = text.substr(at, text.find('\n', at) - at);
      r.tcp_sent += number_after(tl, "Transferred: sent ");
      r.tcp_received += number_after(tl, ", received ");
    } else {
      r.failures.push_back(t.host + ": ssh did not report its byte counts (log " + log.string() + ")");
    }
  }
  return r;
}

}  // namespace plugbox::bench
