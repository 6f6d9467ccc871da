// A change and its log record succeed or fail together (issue 11): the
// intent is written before the change, the outcome after; an unwritable log
// refuses before anything changes, a lost outcome line does not turn a change
// that happened into a refusal, and the log never holds glued entries.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "server-tools/errors.h"
#include "server-tools/host_record.h"
#include "server-tools/oplog.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

namespace {

std::string live_of(const fs::path& home) { return link_of(home / "deploy/live"); }

// Two ready versions, b live (its previous is a).
void two_deploys(const fs::path& home, const std::string& a, const std::string& b) {
  deploy(home, a);
  deploy(home, b);
}

// Every line of the log parses as a JSON object (nothing torn, nothing glued).
void check_every_line_whole(const fs::path& log) {
  std::istringstream in(slurp(log));
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    INFO("line " << n << ": " << line);
    auto j = nlohmann::json::parse(line, nullptr, false);
    CHECK((!j.is_discarded() && j.is_object()));
  }
  CHECK(slurp(log).back() == '\n');
}

// Clears the fault hook whatever the test does.
struct FaultGuard {
  ~FaultGuard() { set_log_append_fault_for_tests(nullptr); }
};

// A tiny tmpfs mounted on a fresh directory (root only): a disk that fills up.
class TinyDisk {
 public:
  explicit TinyDisk(const fs::path& where, const char* size) : path_(where) {
    fs::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
  }
  ~TinyDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path path_;
  bool mounted_ = false;
};

// Writes `chunk` to `f` (appending) until the disk is full.
void fill(const fs::path& f, const std::string& chunk) {
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  while (::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  ::close(fd);
}

}  // namespace

TEST_CASE("an unwritable log refuses a change before making it", "[oplog][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  two_deploys(home, a, b);
  const fs::path log = home / "deploy/.plugbox/log";
  // The log replaced by a directory: every append fails.
  fs::rename(log, t.path() / "old-log");
  fs::create_directory(log);
  const Snapshot before = snapshot(home);

  CliResult r = cli(home, {"rollback-to"});
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "plugbox-server rollback-to: cannot record rollback-to in " + log.string() +
                     " before making it (open " + log.string() +
                     " to append: Is a directory), so nothing was changed: make " + log.string() +
                     " a writable file with free space, then retry\n");
  CHECK(live_of(home) == b);

  r = cli(home, {"next-version", "--name", vname(3)});
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::StartsWith("plugbox-server next-version: cannot record next-version in " + log.string()));
  CHECK_FALSE(fs::exists(home / "deploy" / vname(3)));

  for (auto args : std::vector<std::vector<std::string>>{{"upgrade-to", a}, {"remove", a}, {"gc", "--keep", "2"}}) {
    r = cli(home, args);
    if (args[0] == "gc") {
      CHECK(r.rc == 0);  // nothing to remove: nothing to record
      continue;
    }
    INFO(describe(r));
    CHECK(r.rc == 1);
    CHECK_THAT(r.err, Catch::Contains("so nothing was changed"));
  }
  CHECK(snapshot_diff(before, snapshot(home)).empty());

  // With the log back, the same command works and is recorded.
  fs::remove(log);
  fs::rename(t.path() / "old-log", log);
  r = cli(home, {"rollback-to"});
  CHECK(r.rc == 0);
  CHECK(live_of(home) == a);
  CHECK(read_changes(log).back()["command"] == "rollback-to");
}

TEST_CASE("a change whose outcome cannot be recorded still exits 0, with a warning", "[oplog][issue11]") {
  TempDir t;
  FaultGuard fg;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  two_deploys(home, a, b);
  const fs::path log = home / "deploy/.plugbox/log";
  // Intent lines go through; outcome lines fail as on a disk that just filled up.
  set_log_append_fault_for_tests([](const std::string& line) -> std::optional<int> {
    if (line.find("\"phase\":\"done\"") != std::string::npos) return ENOSPC;
    return std::nullopt;
  });
  const std::string warning_start = ": warning: the change was made, but its outcome could not be recorded in " +
                                    log.string() + " (append to " + log.string() + ": No space left on device)";

  CliResult r = cli(home, {"rollback-to"});
  INFO(describe(r));
  CHECK(r.rc == 0);
  CHECK(r.out == "live: " + b + " -> " + a + "\n");
  CHECK_THAT(r.err, Catch::StartsWith("plugbox-server rollback-to" + warning_start));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(live_of(home) == a);

  r = cli(home, {"next-version", "--name", c});
  CHECK(r.rc == 0);
  CHECK(r.out == c + "\n");
  CHECK_THAT(r.err, Catch::StartsWith("plugbox-server next-version" + warning_start));
  CHECK(fs::is_directory(home / "deploy" / c));

  // The log holds the intents, unanswered: it never claims an outcome.
  set_log_append_fault_for_tests(nullptr);
  auto lines = read_log(log);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[lines.size() - 2]["command"] == "rollback-to");
  CHECK(lines[lines.size() - 2]["phase"] == "intent");
  CHECK(lines[lines.size() - 2]["detail"] == nlohmann::json{{"from", b}, {"to", a}});
  CHECK(lines.back()["command"] == "next-version");
  CHECK(lines.back()["phase"] == "intent");
  CHECK(read_changes(log).back()["command"] == "upgrade-to");
  check_every_line_whole(log);
}

TEST_CASE("each change logs its intent, then its outcome with the same op", "[oplog][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  two_deploys(home, a, b);
  const fs::path log = home / "deploy/.plugbox/log";
  REQUIRE(cli(home, {"rollback-to"}).rc == 0);
  auto lines = read_log(log);
  REQUIRE(lines.size() >= 2);
  const auto& intent = lines[lines.size() - 2];
  const auto& done = lines.back();
  CHECK(intent["phase"] == "intent");
  CHECK(done["phase"] == "done");
  CHECK(intent["op"] == done["op"]);
  CHECK(intent["command"] == "rollback-to");
  CHECK(done["detail"] == nlohmann::json{{"from", b}, {"to", a}});
  // A change that fails after its intent says so.
  fs::remove_all(home / "deploy/.plugbox/tmp");
  { std::ofstream(home / "deploy/.plugbox/tmp") << "in the way"; }
  CliResult r = cli(home, {"upgrade-to", b});
  CHECK(r.rc == 1);
  lines = read_log(log);
  CHECK(lines.back()["phase"] == "failed");
  CHECK(lines.back()["command"] == "upgrade-to");
  CHECK(lines.back()["detail"]["error"].get<std::string>().find("mkdir") != std::string::npos);
  CHECK(lines.back()["op"] == lines[lines.size() - 2]["op"]);
}

TEST_CASE("a torn last line is skipped by readers and never glued to the next entry", "[oplog][issue11]") {
  TempDir t;
  const auto f = t.path() / "log";
  Actor a = Actor::of_this_process("");
  append_log(f, {"seal", {vname(1)}, {}}, a);
  { std::ofstream(f, std::ios::app) << "{\"time\": \"2026-11-25T21:4"; }  // cut short by a full disk
  append_log(f, {"remove", {vname(1)}, {}}, a);
  const std::string text = slurp(f);
  CHECK(text.find("21:4\n{") != std::string::npos);  // the next entry starts on its own line
  auto lines = read_log(f);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["command"] == "seal");
  CHECK(lines[1]["command"] == "remove");
}

TEST_CASE("a full disk: the change is refused, the log is left as it was, then works once there is space",
          "[oplog][issue11][root]") {
  TempDir t;
  TinyDisk disk(t.path() / "disk", "512k");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (not root?): skipped");
    return;
  }
  const fs::path home = t.path() / "disk/home";
  must(cli(home, {"init"}));
  const std::string a = vname(1), b = vname(2);
  two_deploys(home, a, b);
  const fs::path log = home / "deploy/.plugbox/log";
  // The log's last page gets 40 bytes free (less than any line), then the
  // disk is filled: the next line's write is cut short at 40 bytes.
  const auto size = fs::file_size(log);
  const std::size_t pad = (4096 - 40 - size % 4096 + 4096) % 4096;
  REQUIRE(pad >= 2);
  { std::ofstream(log, std::ios::app) << std::string(pad - 1, 'x') << "\n"; }
  fill(t.path() / "disk/filler", std::string(4096, 'f'));
  fill(t.path() / "disk/filler", "f");
  const std::string log_before = slurp(log);

  CliResult r = cli(home, {"rollback-to"});
  INFO(describe(r));
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("cannot record rollback-to in " + log.string()));
  CHECK_THAT(r.err, Catch::Contains("No space left on device"));
  CHECK(live_of(home) == b);
  CHECK(slurp(log) == log_before);  // the short write was cut back off

  fs::remove(t.path() / "disk/filler");
  r = cli(home, {"rollback-to"});
  CHECK(r.rc == 0);
  CHECK(live_of(home) == a);
  auto changes = read_changes(log);
  CHECK(changes.back()["command"] == "rollback-to");
}

TEST_CASE("a full disk: a next-version that cannot write its record leaves no version behind",
          "[oplog][faults][root]") {
  TempDir t;
  TinyDisk disk(t.path() / "disk", "512k");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (not root?): skipped");
    return;
  }
  const fs::path home = t.path() / "disk/home";
  must(cli(home, {"init"}));
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  const fs::path log = home / "deploy/.plugbox/log";
  // Room in the log's last page for the intent and outcome lines, none
  // anywhere else: the mkdir takes no page, the record's write finds none.
  const auto size = fs::file_size(log);
  const std::size_t pad = (4096 - 2048 - size % 4096 + 4096) % 4096;
  if (pad > 1) {
    std::ofstream(log, std::ios::app) << std::string(pad - 1, 'x') << "\n";
  }
  fill(t.path() / "disk/filler", std::string(4096, 'f'));
  fill(t.path() / "disk/filler", "f");

  CliResult r = cli(home, {"next-version", "--name", b});
  INFO(describe(r));
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("No space left on device"));
  CHECK_FALSE(fs::exists(home / "deploy" / b));
  CHECK_FALSE(fs::exists(home / "deploy/.plugbox/versions" / (b + ".json")));
  CliResult st = cli(home, {"status", "--json"});
  CHECK(st.rc == 0);
  CHECK_THAT(st.out, !Catch::Contains(b));

  // Once there is space the same name is free to take.
  fs::remove(t.path() / "disk/filler");
  must(cli(home, {"next-version", "--name", b}));
  CHECK(fs::is_directory(home / "deploy" / b));
}

TEST_CASE("a full disk: the host record is still written, into the space its spare reserved",
          "[host_record][faults][root]") {
  TempDir t;
  TinyDisk disk(t.path() / "disk", "512k");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (not root?): skipped");
    return;
  }
  const fs::path home = t.path() / "disk/home";
  must(cli(home, {"init"}));
  const Layout layout(home);
  HostRecord rec;
  rec.run = vname(1);
  rec.kind = "deploy";
  rec.to = vname(1);
  rec.state = "switching";
  rec.service_stopped = true;
  write_host_record(layout, rec);
  REQUIRE(fs::file_size(layout.host_record_spare()) >= 64 * 1024);

  fill(t.path() / "disk/filler", std::string(4096, 'f'));
  fill(t.path() / "disk/filler", "f");
  // The disk is full indeed: a plain file of one page cannot be written.
  {
    std::ofstream probe(t.path() / "disk/probe");
    probe << std::string(4096, 'p');
    probe.flush();
    CHECK_FALSE(probe.good());
  }
  fs::remove(t.path() / "disk/probe");

  rec.state = "switched";
  rec.service_stopped = false;
  write_host_record(layout, rec);
  auto back = read_host_record(layout);
  REQUIRE(back);
  CHECK(back->state == "switched");
  CHECK_FALSE(back->service_stopped);
  CHECK(fs::is_empty(layout.tmp()));  // no half-written temporary left behind

  // Without a spare (and the freed space taken again) a write fails as it
  // always did, and the record is left as it was.
  fs::remove(layout.host_record_spare());
  fill(t.path() / "disk/filler", std::string(4096, 'f'));
  fill(t.path() / "disk/filler", "f");
  rec.state = "failed";
  CHECK_THROWS_AS(write_host_record(layout, rec), ServerError);
  CHECK(read_host_record(layout)->state == "switched");
  CHECK(fs::is_empty(layout.tmp()));

  // With space again, the next write makes a new spare.
  fs::remove(t.path() / "disk/filler");
  write_host_record(layout, rec);
  CHECK(read_host_record(layout)->state == "failed");
  CHECK(fs::file_size(layout.host_record_spare()) >= 64 * 1024);
}
