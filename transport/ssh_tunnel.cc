#include "transport/ssh_tunnel.h"

#include <errno.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "transport/fd_watch.h"

namespace plugbox::transport {

namespace {

// libssh says "Channel opening failure: channel 44 error (2) Connection
// refused"; the reason at the end is what the operator needs.
std::string open_failure(const std::string& message) {
  auto paren = message.find(") ", message.find("error ("));
  if (message.rfind("Channel opening failure", 0) == 0 && paren != std::string::npos) return message.substr(paren + 2);
  return message;
}

constexpr size_t kDownCap = 1 << 20;   // bytes waiting for the inner side
constexpr size_t kChunk = 64 * 1024;   // one read from the inner side
constexpr int kUpRounds = 16;          // reads per service, then yield
}  // namespace

SshTunnel::SshTunnel(std::shared_ptr<SshConnection> parent, std::string host)
    : parent_(std::move(parent)), host_(std::move(host)) {}

SshTunnel::~SshTunnel() {
  if (ch_) {
    ssh_remove_channel_callbacks(ch_, &callbacks_);
    if (parent_->session()) {
      if (ssh_channel_is_open(ch_)) ssh_channel_close(ch_);
      ssh_channel_free(ch_);
    }
    ch_ = nullptr;
    parent_->after_io();  // let the pass send the close
  }
  parent_->detach(this);
  outer_.reset();
}

Awaitable<SshTunnel::Opened> SshTunnel::open(std::shared_ptr<SshConnection> parent, std::string address, int port,
                                             std::string host, OpGuard& guard) {
  Opened result;
  auto failed = [&](std::error_code code, std::string detail) {
    result.tunnel.reset();
    result.error = make_error(code, "connect", host, std::move(detail));
    return result;
  };
  const std::string via = fmt::format("through {} to {}:{}", parent->host(), address, port);
  if (!parent->alive()) co_return failed(make_error_code(Errc::tunnel_failed), via + ": " + parent->failure().message());
  auto t = std::make_shared<SshTunnel>(parent, host);
  t->ch_ = ssh_channel_new(parent->session());
  if (!t->ch_) co_return failed(make_error_code(Errc::tunnel_failed), via + ": " + ssh_get_error(parent->session()));
  ssh_callbacks_init(&t->callbacks_);
  t->callbacks_.userdata = t.get();
  t->callbacks_.channel_data_function = &SshTunnel::on_data;
  t->callbacks_.channel_eof_function = &SshTunnel::on_eof;
  t->callbacks_.channel_close_function = &SshTunnel::on_close;
  ssh_set_channel_callbacks(t->ch_, &t->callbacks_);
  parent->attach(t.get());
  result.tunnel = t;

  uint64_t seen = parent->generation();
  for (;;) {
    if (!parent->alive() || !t->ch_)
      co_return failed(make_error_code(Errc::tunnel_failed), via + ": " + parent->failure().message());
    int rc = ssh_channel_open_forward(t->ch_, address.c_str(), port, "127.0.0.1", 0);
    parent->after_io();
    if (rc == SSH_OK) break;
    if (rc == SSH_ERROR)
      co_return failed(make_error_code(Errc::tunnel_failed), via + ": " + open_failure(ssh_get_error(parent->session())));
    co_await parent->wait(&guard, seen);
    if (auto stop = guard.stop_code()) co_return failed(stop, via);
  }

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    co_return failed(std::error_code(errno, std::generic_category()), "socketpair");
  t->outer_ = std::make_unique<FdWatch>(parent->context().ex, sv[0]);
  t->inner_.reset(sv[1]);
  t->service();
  co_return result;
}

int SshTunnel::on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user) {
  auto* t = static_cast<SshTunnel*>(user);
  if (is_stderr) return static_cast<int>(len);  // direct-tcpip has no stderr
  // libssh hands us everything it holds for the channel, declined bytes first.
  const char* p = static_cast<const char*>(data);
  size_t taken = 0;
  if (t->down_pending() == 0 && t->outer_ && t->outer_->is_open() && !t->outer_shut_) {
    ssize_t n = ::send(t->outer_->native(), p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) taken = static_cast<size_t>(n);
  }
  size_t room = t->down_pending() < kDownCap ? kDownCap - t->down_pending() : 0;
  size_t keep = std::min<size_t>(len - taken, room);
  t->down_.append(p + taken, keep);
  taken += keep;
  t->leftover_ = taken < len;
  t->dirty_ = true;
  return static_cast<int>(taken);
}

void SshTunnel::on_eof(ssh_session, ssh_channel, void* user) {
  auto* t = static_cast<SshTunnel*>(user);
  t->remote_eof_ = true;
  t->dirty_ = true;
}

void SshTunnel::on_close(ssh_session, ssh_channel, void* user) {
  auto* t = static_cast<SshTunnel*>(user);
  t->remote_eof_ = true;
  t->dirty_ = true;
}

void SshTunnel::after_pass() {
  bool flushed = parent_->session() && !(ssh_get_status(parent_->session()) & SSH_WRITE_PENDING);
  if (dirty_ || (waiting_window_ && ch_ && ssh_channel_window_size(ch_) > 0) || (waiting_flush_ && flushed))
    service();
}

bool SshTunnel::flush_down() {
  while (down_pending() > 0) {
    ssize_t n = ::send(outer_->native(), down_.data() + down_off_, down_pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      down_off_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    return false;  // the inner connection is gone
  }
  if (down_off_ == down_.size()) {
    // Its memory too: a tunnel lives as long as its host's connection.
    std::string().swap(down_);
    down_off_ = 0;
  } else if (down_off_ > kDownCap) {
    down_.erase(0, down_off_);
    down_off_ = 0;
  }
  return true;
}

void SshTunnel::pull_leftover() {
  char buf[32 * 1024];
  while (leftover_ && down_pending() < kDownCap) {
    // The channel buffer is not empty, so this reads it without processing
    // packets (no callback runs underneath us), and grows the window.
    int n = ssh_channel_read_nonblocking(ch_, buf, sizeof buf, 0);
    if (n <= 0) {
      leftover_ = false;
      break;
    }
    down_.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) leftover_ = false;
  }
}

void SshTunnel::shut_outer() {
  if (outer_ && outer_->is_open()) {
    ::shutdown(outer_->native(), SHUT_RDWR);
    outer_->close();
  }
  outer_shut_ = true;
}

void SshTunnel::service() {
  if (!ch_ || !outer_ || !outer_->is_open() || in_service_) return;
  auto self = shared_from_this();
  in_service_ = true;
  dirty_ = false;
  waiting_window_ = false;
  waiting_flush_ = false;
  std::weak_ptr<SshTunnel> weak = self;
  auto again = [weak] {
    if (auto t = weak.lock()) t->service();
  };

  // Channel -> inner connection.
  bool inner_alive = flush_down();
  if (inner_alive && leftover_) {
    pull_leftover();
    inner_alive = flush_down();
  }
  if (!inner_alive) {
    outer_eof_ = true;  // nobody reads: close the channel below
    up_.clear();
    up_off_ = 0;
  } else if (down_pending() > 0) {
    outer_->arm_write(again);
  } else if (remote_eof_ && !leftover_ && !down_eof_sent_) {
    ::shutdown(outer_->native(), SHUT_WR);  // the inner session reads EOF
    down_eof_sent_ = true;
  }

  // Inner connection -> channel.
  ssh_session ps = parent_->session();
  for (int round = 0; round < kUpRounds && !outer_eof_ && ps; ++round) {
    if (up_off_ == up_.size()) {
      if (ssh_get_status(ps) & SSH_WRITE_PENDING) {
        waiting_flush_ = true;  // the pass flushes first, then calls us
        break;
      }
      up_.resize(kChunk);
      ssize_t n = ::recv(outer_->native(), up_.data(), kChunk, MSG_DONTWAIT);
      if (n > 0) {
        up_.resize(static_cast<size_t>(n));
        up_off_ = 0;
      } else {
        up_.clear();
        up_off_ = 0;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          outer_eof_ = true;
        } else {
          outer_->arm_read(again);
        }
        break;
      }
    }
    uint32_t window = ssh_channel_window_size(ch_);
    if (window == 0) {
      waiting_window_ = true;
      break;
    }
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(up_.size() - up_off_, window));
    int w = ssh_channel_write(ch_, up_.data() + up_off_, n);
    if (!ch_) break;  // the parent went away underneath
    if (w < 0) {
      outer_eof_ = true;  // the channel is closed: drop the rest
      up_.clear();
      up_off_ = 0;
      break;
    }
    up_off_ += static_cast<size_t>(w);
    if (up_off_ == up_.size()) {
      up_.clear();
      up_off_ = 0;
    }
    if (w == 0) {
      waiting_window_ = true;
      break;
    }
  }
  if (up_off_ == up_.size()) {
    std::string().swap(up_);  // drained: kChunk per tunnel held for nothing otherwise
    up_off_ = 0;
  }
  if (ch_ && outer_eof_ && up_off_ == up_.size() && !sent_eof_ && ssh_channel_is_open(ch_)) {
    ssh_channel_send_eof(ch_);
    sent_eof_ = true;
  }
  in_service_ = false;
  parent_->after_io();
}

void SshTunnel::on_connection_failed() {
  // The inner session reads EOF and fails in turn.
  shut_outer();
}

void SshTunnel::on_connection_closing() {
  ch_ = nullptr;  // ssh_free() frees it
  shut_outer();
}

}  // namespace plugbox::transport
