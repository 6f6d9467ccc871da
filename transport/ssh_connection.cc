#include "transport/ssh_connection.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/server.h>  // ssh_send_keepalive lives here, but works for clients
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

#include "transport/fd_watch.h"
#include "transport/ssh_host_key.h"
#include "transport/ssh_tunnel.h"

namespace plugbox::transport {

namespace {

// ssh_event_dopoll reads at most 4 KiB per call: about 1 MiB per pass before
// yielding to the other connections.
constexpr int kPassBudget = 256;

void set_nonblocking(int fd) {
  if (fd < 0) return;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

struct Resolution {
  explicit Resolution(Executor ex) : resolver(ex), done(std::make_shared<Notifier>(ex)) {}
  asio::ip::tcp::resolver resolver;
  std::shared_ptr<Notifier> done;
  bool finished = false;
  boost::system::error_code ec;
  std::vector<asio::ip::tcp::endpoint> endpoints;
};

// Asio runs resolutions on one private thread shared by all of them.
Awaitable<void> resolve(std::shared_ptr<Resolution> r, std::string host, std::string port) {
  auto results = co_await r->resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, r->ec));
  for (const auto& e : results) r->endpoints.push_back(e.endpoint());
  r->finished = true;
  r->done->notify();
}

}  // namespace

SshContext::SshContext(Executor e, SshOptions o)
    : ex(e),
      options(std::move(o)),
      scope(std::make_shared<CancelScope>()),
      handshakes(e, std::max(1, options.max_concurrent_handshakes)),
      identities([this](const std::string& m) { warn(m); }) {}

void SshContext::warn(const std::string& message) const {
  if (options.warn)
    options.warn(message);
  else
    std::cerr << "plugbox: warning: " << message << "\n";
}

SshConnection::SshConnection(std::shared_ptr<SshContext> ctx, Endpoint endpoint, std::string host)
    : ctx_(std::move(ctx)),
      endpoint_(std::move(endpoint)),
      host_(std::move(host)),
      changed_(std::make_shared<Notifier>(ctx_->ex)),
      keepalive_(ctx_->ex) {
  ++ctx_->connections_started;
}

SshConnection::~SshConnection() { teardown(); }

Error SshConnection::stopped(const std::error_code& code, const std::string& step) const {
  std::string detail = code == std::errc::timed_out ? "deadline passed (" + endpoint_.describe() + ")"
                                                    : "cancelled (" + endpoint_.describe() + ")";
  return make_error(code, step, host_, detail);
}

Awaitable<Error> SshConnection::connect_direct(OpGuard& guard) {
  auto self = shared_from_this();
  std::vector<asio::ip::tcp::endpoint> candidates;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(endpoint_.address, ec);
  if (!ec) {
    candidates.emplace_back(address, static_cast<unsigned short>(endpoint_.port));
  } else {
    auto r = std::make_shared<Resolution>(ctx_->ex);
    asio::co_spawn(ctx_->ex, resolve(r, endpoint_.address, std::to_string(endpoint_.port)), asio::detached);
    while (!r->finished) {
      if (auto stop = guard.stop_code()) {
        r->resolver.cancel();
        co_return stopped(stop, "resolve");
      }
      co_await guard.wait(r->done);
    }
    if (r->ec || r->endpoints.empty())
      co_return make_error(Errc::resolve_failed, "resolve", host_,
                           fmt::format("{}: {}", endpoint_.address, r->ec ? r->ec.message() : "no addresses"));
    candidates = r->endpoints;
  }

  Error last;
  for (const auto& candidate : candidates) {
    if (auto stop = guard.stop_code()) co_return stopped(stop, "connect");
    base::UniqueFd sock(::socket(candidate.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock) {
      last = make_error(std::error_code(errno, std::generic_category()), "connect", host_, "socket()");
      continue;
    }
    std::string where = fmt::format("{}:{}", candidate.address().to_string(), candidate.port());
    if (::connect(sock.get(), candidate.data(), static_cast<socklen_t>(candidate.size())) != 0) {
      if (errno != EINPROGRESS) {
        last = make_error(std::error_code(errno, std::generic_category()), "connect", host_, where);
        continue;
      }
      FdWatch watch(ctx_->ex, ::dup(sock.get()));
      bool writable = false;
      while (!writable) {
        watch.arm_write([&writable, n = changed_] {
          writable = true;
          n->notify();
        });
        co_await guard.wait(changed_);
        if (auto stop = guard.stop_code()) co_return stopped(stop, "connect");
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = make_error(std::error_code(err, std::generic_category()), "connect", host_, where);
        continue;
      }
    }
    int one = 1;
    ::setsockopt(sock.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_ = std::move(sock);
    co_return Error{};
  }
  co_return last;
}

Awaitable<Error> SshConnection::connect_via(std::shared_ptr<SshConnection> parent, OpGuard& guard) {
  auto self = shared_from_this();
  SshTunnel::Opened opened = co_await SshTunnel::open(parent, endpoint_.address, endpoint_.port, host_, guard);
  if (opened.error) co_return opened.error;
  tunnel_ = opened.tunnel;
  fd_ = tunnel_->take_inner();
  co_return Error{};
}

Awaitable<Error> SshConnection::open(std::shared_ptr<SshConnection> parent, OpGuard& guard) {
  // No co_await inside ?: — g++ 12 destroys the temporaries of such an
  // expression twice.
  Error err;
  if (parent)
    err = co_await connect_via(std::move(parent), guard);
  else
    err = co_await connect_direct(guard);
  if (!err) err = co_await handshake(guard);
  co_return err;
}

Awaitable<Error> SshConnection::handshake(OpGuard& guard) {
  auto self = shared_from_this();
  AsyncSemaphore::Permit permit;
  if (auto ec = co_await ctx_->handshakes.acquire(guard, &permit)) co_return stopped(ec, "handshake");
  // Counted while the permit is held, for tests of the cap.
  struct InFlight {
    SshContext& c;
    explicit InFlight(SshContext& ctx) : c(ctx) { c.handshakes_peak = std::max(c.handshakes_peak, ++c.handshakes_in_flight); }
    ~InFlight() { --c.handshakes_in_flight; }
  } in_flight(*ctx_);

  session_ = ssh_new();
  if (!session_) co_return make_error(Errc::handshake_failed, "handshake", host_, "ssh_new failed");
  ssh_set_counters(session_, &socket_counter_, nullptr);
  const SshOptions& o = ctx_->options;
  std::string known_hosts = known_hosts_file(endpoint_);
  int port = endpoint_.port;
  int verbosity = o.libssh_log_verbosity;
  int no = 0;
  struct Opt {
    ssh_options_e key;
    const void* value;
    const char* what;
  };
  std::vector<Opt> opts = {
      // Nothing implicit: no ~/.ssh/config, the known_hosts we were given.
      {SSH_OPTIONS_PROCESS_CONFIG, &no, "process-config"},
      {SSH_OPTIONS_HOST, endpoint_.address.c_str(), "host"},
      {SSH_OPTIONS_PORT, &port, "port"},
      {SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str(), "known_hosts"},
      {SSH_OPTIONS_LOG_VERBOSITY, &verbosity, "log verbosity"},
      {SSH_OPTIONS_COMPRESSION, "no", "compression"},
  };
  if (!endpoint_.user.empty()) opts.push_back({SSH_OPTIONS_USER, endpoint_.user.c_str(), "user"});
  if (!o.ciphers.empty()) {
    opts.push_back({SSH_OPTIONS_CIPHERS_C_S, o.ciphers.c_str(), "ciphers"});
    opts.push_back({SSH_OPTIONS_CIPHERS_S_C, o.ciphers.c_str(), "ciphers"});
  }
  if (!o.key_exchange.empty()) opts.push_back({SSH_OPTIONS_KEY_EXCHANGE, o.key_exchange.c_str(), "key exchange"});
  for (const auto& opt : opts)
    if (ssh_options_set(session_, opt.key, opt.value) != SSH_OK)
      co_return make_error(Errc::handshake_failed, "handshake", host_,
                           fmt::format("option {}: {}", opt.what, ssh_get_error(session_)));
  ssh_set_blocking(session_, 0);

  watch_ = std::make_unique<FdWatch>(ctx_->ex, ::dup(fd_.get()));
  int fd = fd_.get();
  if (ssh_options_set(session_, SSH_OPTIONS_FD, &fd) != SSH_OK)
    co_return make_error(Errc::handshake_failed, "handshake", host_, ssh_get_error(session_));
  // From the first ssh_connect on, the socket is libssh's (ssh_free closes it).
  fd_.release();

  uint64_t seen = generation_;
  for (;;) {
    int rc = ssh_connect(session_);
    // libssh makes the socket blocking once it sees it connected; one slow
    // peer would then stall every connection on the loop.
    set_nonblocking(ssh_get_fd(session_));
    if (rc == SSH_OK) break;
    if (rc == SSH_ERROR)
      co_return make_error(Errc::handshake_failed, "handshake", host_,
                           fmt::format("{}: {}", endpoint_.describe(), ssh_get_error(session_)));
    co_await wait(&guard, seen);
    if (auto stop = guard.stop_code()) co_return stopped(stop, "handshake");
  }

  if (auto e = verify_host_key(session_, endpoint_, host_)) co_return e;
  if (auto e = co_await authenticate(guard)) co_return e;

  event_ = ssh_event_new();
  if (!event_ || ssh_event_add_session(event_, session_) != SSH_OK)
    co_return make_error(Errc::handshake_failed, "handshake", host_, "could not add the session to an event");
  established_ = true;
  last_rx_ = Clock::now();
  start_keepalive();
  after_io();
  co_return Error{};
}

Awaitable<Error> SshConnection::authenticate(OpGuard& guard) {
  std::vector<std::string> tried;
  std::string last_error;
  // One attempt loop for either kind of credential; false = not accepted.
  auto attempt = [&](auto call) -> Awaitable<std::optional<bool>> {
    uint64_t seen = generation_;
    for (;;) {
      int rc = call();
      if (rc == SSH_AUTH_SUCCESS) co_return true;
      if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL) co_return false;
      if (rc == SSH_AUTH_ERROR) {
        last_error = ssh_get_error(session_);
        co_return false;
      }
      co_await wait(&guard, seen);
      if (guard.stopped()) co_return std::nullopt;
    }
  };
  for (const auto& id : ctx_->identities.keys_for(endpoint_.identity)) {
    tried.push_back(id.path);
    auto call = [&] { return ssh_userauth_publickey(session_, nullptr, id.key.get()); };
    std::optional<bool> ok = co_await attempt(call);
    if (!ok) co_return stopped(guard.stop_code(), "auth");
    if (*ok) co_return Error{};
    if (!ssh_is_connected(session_)) break;
  }
  const char* agent = std::getenv("SSH_AUTH_SOCK");
  if (agent && *agent && ssh_is_connected(session_)) {
    tried.push_back("ssh-agent");
    auto call = [&] { return ssh_userauth_agent(session_, nullptr); };
    std::optional<bool> ok = co_await attempt(call);
    if (!ok) co_return stopped(guard.stop_code(), "auth");
    if (*ok) co_return Error{};
  }
  std::string user = endpoint_.user;
  if (user.empty()) user = std::getenv("USER") ? std::getenv("USER") : "(local user)";
  std::string offered = tried.empty() ? "no key (no identity file could be loaded and no ssh-agent is running)"
                                      : fmt::format("{}", fmt::join(tried, ", "));
  std::string detail = fmt::format(
      "{} accepted none of: {} for user {}. Add the public key to ~{}/.ssh/authorized_keys on the host, "
      "or fix `user`/`identity` in the inventory",
      endpoint_.describe(), offered, user, user);
  if (!last_error.empty()) detail += " (" + last_error + ")";
  co_return make_error(Errc::auth_failed, "auth", host_, detail);
}

Awaitable<void> SshConnection::wait(OpGuard* guard, uint64_t& seen) {
  auto self = shared_from_this();
  after_io();
  if (generation_ == seen) {
    if (guard)
      co_await guard->wait(changed_);
    else
      co_await changed_->wait();
  }
  seen = generation_;
}

void SshConnection::note_progress(bool force) {
  if (socket_counter_.in_bytes != seen_in_bytes_) {
    seen_in_bytes_ = socket_counter_.in_bytes;
    last_rx_ = Clock::now();
    force = true;
  }
  if (force) {
    ++generation_;
    changed_->notify();
  }
}

void SshConnection::post_pass() {
  if (pass_posted_ || !established_) return;
  pass_posted_ = true;
  std::weak_ptr<SshConnection> weak = weak_from_this();
  asio::post(ctx_->ex, [weak] {
    if (auto s = weak.lock()) {
      s->pass_posted_ = false;
      s->pass(false);
    }
  });
}

void SshConnection::after_io() {
  if (!session_) return;
  // A call outside the pass that read packets may have fed channels whose
  // owners are not coroutines (tunnels): give them a pass.
  if (socket_counter_.in_bytes != seen_in_bytes_ && !in_pass_) post_pass();
  if (!in_pass_) check_session();  // that call may have met the end of the connection
  note_progress(false);
  if (!watch_ || !watch_->is_open() || failure_) return;
  std::weak_ptr<SshConnection> weak = weak_from_this();
  if (!watch_->read_armed())
    watch_->arm_read(
        [weak] {
          if (auto self = weak.lock()) self->on_ready(true);
        },
        std::exchange(trust_edge_, false));
  if ((ssh_get_status(session_) & SSH_WRITE_PENDING) && !watch_->write_armed())
    watch_->arm_write([weak] {
      if (auto self = weak.lock()) self->on_ready(false);
    });
}

void SshConnection::on_ready(bool readable) {
  if (!session_ || failure_) return;
  if (!established_) {
    // The coroutine driving the handshake makes the libssh calls.
    changed_->notify();
    return;
  }
  pass(readable);
}

void SshConnection::pass(bool readable) {
  if (!session_ || failure_) return;
  auto self = shared_from_this();
  ++in_pass_;
  int rounds = 0;
  bool nothing = false, yield = false;
  for (;;) {
    int rc = ssh_event_dopoll(event_, 0);
    if (rc == SSH_AGAIN) {
      nothing = rounds == 0;
      break;
    }
    if (rc == SSH_ERROR) break;
    if (++rounds >= kPassBudget) {
      yield = true;
      break;
    }
  }
  check_session();
  const uint64_t read_by_dopoll = socket_counter_.in_bytes;
  if (!failure_) {
    ++iterating_users_;
    for (size_t i = 0; i < users_.size(); ++i)
      if (users_[i]) users_[i]->after_pass();
    --iterating_users_;
    if (!iterating_users_) std::erase(users_, nullptr);
  }
  // Tunnels earlier in the list may have been fed by a later one's calls.
  if (socket_counter_.in_bytes != read_by_dopoll) yield = true;
  // Whatever the pass did (packets in, output flushed) may be what someone waits for.
  note_progress(rounds > 0);
  --in_pass_;
  if (close_pending_ && !in_pass_) {
    teardown();
    return;
  }
  if (failure_) return;
  if (yield) {
    // Let other connections run; come back for the rest.
    post_pass();
    return;
  }
  // Readable but nothing for libssh: someone else read it already. Park on
  // the edge instead of polling again, so a stale readiness cannot spin.
  trust_edge_ = readable && nothing;
  after_io();
}

void SshConnection::check_session() {
  if (!session_ || failure_ || !established_) return;
  int status = ssh_get_status(session_);
  if ((status & (SSH_CLOSED | SSH_CLOSED_ERROR)) || !ssh_is_connected(session_))
    fail(make_error(Errc::connection_lost, "session", host_,
                    fmt::format("{}: {}", endpoint_.describe(), ssh_get_error(session_))));
}

void SshConnection::attach(ChannelUser* user) { users_.push_back(user); }

void SshConnection::detach(ChannelUser* user) {
  auto it = std::find(users_.begin(), users_.end(), user);
  if (it == users_.end()) return;
  if (iterating_users_)
    *it = nullptr;
  else
    users_.erase(it);
}

void SshConnection::fail(Error why) {
  if (failure_) return;
  failure_ = std::move(why);
  keepalive_.cancel();
  if (watch_) watch_->close();
  ++iterating_users_;
  for (size_t i = 0; i < users_.size(); ++i)
    if (users_[i]) users_[i]->on_connection_failed();
  --iterating_users_;
  if (!iterating_users_) std::erase(users_, nullptr);
  changed_->notify();
}

void SshConnection::close(Error why) {
  fail(std::move(why));
  if (in_pass_) {
    close_pending_ = true;  // freeing the session under ssh_event_dopoll's feet would be fatal
    return;
  }
  teardown();
}

void SshConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  keepalive_.cancel();
  auto users = std::move(users_);
  users_.clear();
  for (auto* u : users)
    if (u) u->on_connection_closing();
  if (watch_) watch_->close();
  if (event_) {
    if (session_) ssh_event_remove_session(event_, session_);
    ssh_event_free(event_);
    event_ = nullptr;
  }
  if (session_) {
    ssh_free(session_);
    session_ = nullptr;
  }
  fd_.reset();
  // Our session is gone: now the parent's channel can go too.
  tunnel_.reset();
  changed_->notify();
}

void SshConnection::start_keepalive() {
  auto interval = ctx_->options.keepalive_interval;
  if (interval.count() <= 0 || ctx_->options.keepalive_count_max <= 0) return;
  keepalive_.expires_after(interval);
  std::weak_ptr<SshConnection> weak = weak_from_this();
  keepalive_.async_wait([weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->keepalive_tick();
  });
}

void SshConnection::keepalive_tick() {
  if (!alive()) return;
  note_progress(false);
  const auto interval = ctx_->options.keepalive_interval;
  const auto silent = Clock::now() - last_rx_;
  // A healthy idle server answers each tick's request within a round trip,
  // so it is never silent much longer than one interval; count_max more
  // intervals of silence mean it is gone.
  if (silent >= interval * (ctx_->options.keepalive_count_max + 1)) {
    fail(make_error(Errc::keepalive_timeout, "keepalive", host_,
                    fmt::format("{} sent nothing for {} s", endpoint_.describe(),
                                std::chrono::duration_cast<std::chrono::seconds>(silent).count())));
    return;
  }
  if (silent >= interval / 2) {
    // A keepalive@openssh.com request wants a reply. libssh keeps one global
    // request in flight: the first call collects the previous reply, the
    // second sends a new request (if the old one was answered).
    auto self = shared_from_this();
    ++in_pass_;
    ssh_send_keepalive(session_);
    ssh_send_keepalive(session_);
    --in_pass_;
    check_session();
    if (close_pending_) {
      teardown();
      return;
    }
    after_io();
  }
  start_keepalive();
}

}  // namespace plugbox::transport
