#include "server-tools/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>


#include <cerrno>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server-tools/errors.h"
#include "server-tools/hold.h"
#include "server-tools/version_name.h"

namespace fs = std::filesystem;

namespace plugbox::server {

std::string LockHolder::describe() const {
  return "owner '" + owner + "' (host " + (host.empty() ? "?" : host) + ", pid " +
         std::to_string(pid) + ", since " + (since.empty() ? "?" : since) + ")";
}

std::string LockHolder::to_json_line() const {
  nlohmann::json j{{"owner", owner}, {"host", host}, {"pid", pid}, {"since", since}};
  return j.dump() + "\n";
}

std::optional<LockHolder> LockHolder::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  LockHolder h;
  if (auto it = j.find("owner"); it != j.end() && it->is_string()) h.owner = *it;
  if (auto it = j.find("host"); it != j.end() && it->is_string()) h.host = *it;
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) h.pid = *it;
  if (auto it = j.find("since"); it != j.end() && it->is_string()) h.since = *it;
  if (h.owner.empty()) return std::nullopt;
  return h;
}

namespace {

base::UniqueFd open_lock_file(const fs::path& p, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  base::UniqueFd fd(::open(p.c_str(), flags, 0644));
  if (!fd && !create && (errno == EACCES || errno == EROFS))
    fd.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));  // flock works on any open fd
  if (!fd) sys_fail("open " + p.string(), errno);
  return fd;
}

int flock_op(Flock::Mode mode) { return mode == Flock::Mode::shared ? LOCK_SH : LOCK_EX; }

std::string read_fd(int fd) {
  std::string out;
  char buf[1024];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

LockHolder read_holder(const fs::path& lock_file) {
  std::string text;
  if (base::UniqueFd fd(::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC)); fd) text = read_fd(fd.get());
  if (auto h = LockHolder::from_json(text)) return *h;
  LockHolder unknown;
  unknown.owner = "(unknown)";
  return unknown;
}

std::string lock_refusal(const LockHolder& h, std::chrono::milliseconds waited) {
  std::string msg = "the deploy lock is held by " + h.describe();
  if (waited.count() > 0)
    msg += " and was not released within " + (std::ostringstream() << waited.count() / 1000.0).str() + " s";
  // Read by people running plugbox-server and, relayed, by plugbox users, who
  // have neither --wait nor --owner: advice both can follow.
  msg += ": another deploy or command is changing this home; retry once it has finished (`plugbox fleet "
         "status` shows who holds each host's lock)";
  return msg;
}

// Called under the oplock, which `hold` and `release` take to change the hold.
void refuse_if_held(const Layout& layout) {
  if (auto why = hold_refusal(read_hold(layout), std::chrono::system_clock::now())) refuse(*why);
}

// Runs `attempt` under the exclusive oplock until it returns a value or the
// wait runs out; the oplock is dropped between attempts so that the holder's
// own commands can run meanwhile.
template <class T, class F>
T poll_under_oplock(const Layout& layout, std::chrono::milliseconds wait, F attempt) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    Flock op = Flock::acquire(layout.oplock(), Flock::Mode::exclusive);
    LockHolder holder;
    if (std::optional<T> got = attempt(op, holder)) return std::move(*got);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) refuse(lock_refusal(holder, wait));
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50), deadline - now));
  }
}

}  // namespace

Flock Flock::acquire(const fs::path& p, Mode mode, bool create) {
  base::UniqueFd fd = open_lock_file(p, create);
  while (::flock(fd.get(), flock_op(mode)) != 0) {
    if (errno != EINTR) sys_fail("flock " + p.string(), errno);
  }
  return Flock(std::move(fd));
}

std::optional<Flock> Flock::try_acquire(const fs::path& p, Mode mode, bool create) {
  base::UniqueFd fd = open_lock_file(p, create);
  while (::flock(fd.get(), flock_op(mode) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    if (errno != EINTR) sys_fail("flock " + p.string(), errno);
  }
  return Flock(std::move(fd));
}

LockHolder this_process_holder(std::string owner) {
  LockHolder h;
  h.owner = std::move(owner);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) h.host = host;
  h.pid = static_cast<long>(::getpid());
  h.since = utc_timestamp(std::chrono::system_clock::now());
  return h;
}

std::optional<std::string> owner_problem(const std::string& owner) {
  if (owner.empty()) return std::string("the owner id is empty");
  if (owner.size() > 200) return std::string("the owner id is longer than 200 characters");
  for (unsigned char c : owner)
    if (c < 0x20 || c == 0x7f) return std::string("the owner id holds a control character");
  if (owner == "(unknown)") return std::string("'(unknown)' is reserved");
  return std::nullopt;
}

std::optional<LockHolder> probe_txn_lock(const Layout& layout) {
  if (kind_of(layout.txn_lock()) == FileKind::absent) return std::nullopt;
  if (Flock::try_acquire(layout.txn_lock(), Flock::Mode::exclusive, /*create=*/false)) return std::nullopt;
  LockHolder h = read_holder(layout.txn_lock());
  h.owner = "a switch transaction still running for " + h.owner;
  return h;
}

std::optional<HeldLock> take_txn_lock(const Layout& layout, const MutationGuard&, const std::string& owner) {
  auto t = Flock::try_acquire(layout.txn_lock(), Flock::Mode::exclusive);
  if (!t) return std::nullopt;
  LockHolder me = this_process_holder(owner);
  const std::string line = me.to_json_line();
  if (::ftruncate(t->fd(), 0) != 0) sys_fail("truncate " + layout.txn_lock().string(), errno);
  if (::pwrite(t->fd(), line.data(), line.size(), 0) != static_cast<ssize_t>(line.size()))
    sys_fail("write " + layout.txn_lock().string(), errno);
  return HeldLock(std::move(*t), std::move(me));
}

MutationGuard acquire_for_mutation(const Layout& layout, const LockRequest& req) {
  return poll_under_oplock<MutationGuard>(
      layout, req.wait, [&](Flock& op, LockHolder& holder) -> std::optional<MutationGuard> {
        if (!req.past_hold) refuse_if_held(layout);
        if (!req.in_txn)
          if (auto t = probe_txn_lock(layout)) {
            holder = *t;
            return std::nullopt;
          }
        if (auto d = Flock::try_acquire(layout.lock(), Flock::Mode::exclusive))
          return MutationGuard(std::move(op), std::move(d), std::nullopt);
        holder = read_holder(layout.lock());
        if (!req.owner.empty() && holder.owner == req.owner)
          return MutationGuard(std::move(op), std::nullopt, holder);
        return std::nullopt;
      });
}

HeldLock acquire_deploy_lock(const Layout& layout, const LockRequest& req) {
  return poll_under_oplock<HeldLock>(
      layout, req.wait, [&](Flock&, LockHolder& holder) -> std::optional<HeldLock> {
        refuse_if_held(layout);
        if (auto t = probe_txn_lock(layout)) {
          holder = *t;
          return std::nullopt;
        }
        auto d = Flock::try_acquire(layout.lock(), Flock::Mode::exclusive);
        if (!d) {
          holder = read_holder(layout.lock());
          return std::nullopt;
        }
        LockHolder me = this_process_holder(req.owner);
        const std::string line = me.to_json_line();
        // Written while we still hold the oplock: whoever reads it next sees it whole.
        if (::ftruncate(d->fd(), 0) != 0) sys_fail("truncate " + layout.lock().string(), errno);
        if (::pwrite(d->fd(), line.data(), line.size(), 0) != static_cast<ssize_t>(line.size()))
          sys_fail("write " + layout.lock().string(), errno);
        return HeldLock(std::move(*d), std::move(me));
      });
}

HeldLock::~HeldLock() {
  // Clear the holder info first: once the flock is gone a stale line could
  // only mislead (readers trust the flock, but people read the file too).
  if (lock_ && lock_->fd() >= 0) {
    // A failure changes nothing that matters: the flock is released either way.
    [[maybe_unused]] int rc = ::ftruncate(lock_->fd(), 0);
  }
}

std::optional<LockHolder> probe_deploy_lock(const Layout& layout) {
  if (kind_of(layout.lock()) == FileKind::absent) return std::nullopt;
  if (Flock::try_acquire(layout.lock(), Flock::Mode::exclusive, /*create=*/false))
    return std::nullopt;
  return read_holder(layout.lock());
}

CommandLock hold_deploy_lock_for_command(const Layout& layout, const LockRequest& req,
                                         const std::string& fallback_owner) {
  if (!req.owner.empty()) {
    Flock op = Flock::acquire(layout.oplock(), Flock::Mode::shared);
    if (auto h = probe_deploy_lock(layout); h && h->owner == req.owner) return CommandLock{std::nullopt, req};
  }
  const LockRequest mine{req.owner.empty() ? fallback_owner : req.owner, req.wait};
  CommandLock out{acquire_deploy_lock(layout, mine), mine};
  return out;
}

}  // namespace plugbox::server
