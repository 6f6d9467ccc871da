#include "orchestrator/site_relay.h"

#include <deque>
#include <set>

#include "orchestrator/host_conn.h"
#include "transport/notifier.h"
#include "upload/common/relay_format.h"
#include "upload/common/sealed_box.h"
#include "upload/common/stream_format.h"

namespace plugbox::orchestrator {

struct SiteRelay::State {
  explicit State(transport::Executor ex) : wake(ex), changed(ex) {}
  transport::Notifier wake;     // the stdin source: something to send, or closing
  transport::Notifier changed;  // listening, or ended
  upload::SealKey key = upload::new_seal_key();
  std::deque<std::string> tokens;  // token frames not sent yet
  struct Pending {
    std::string id;
    const upload::BlobStore* store;
    const upload::BlobStore::Blob* blob;
  };
  std::deque<Pending> blobs;  // not sent yet: read back from the store only when sent
  std::set<std::string> carried;   // every id ever queued
  bool hello_sent = false, closing = false, listening = false, ended = false;
  std::string endpoint, why, out_buf;
  nlohmann::json served;
  std::uint64_t bytes = 0;
};

namespace {

// A free coroutine holding the state by shared_ptr (a capturing lambda's
// captures would die with the std::function).
transport::Awaitable<std::optional<std::string>> next_relay_piece(std::shared_ptr<SiteRelay::State> st) {
  for (;;) {
    std::string out;
    if (!st->hello_sent) {
      st->hello_sent = true;
      out = upload::encode_relay_hello();
    }
    while (!st->tokens.empty()) {
      out += st->tokens.front();
      st->tokens.pop_front();
    }
    // One content per piece: the channel's backpressure paces the sealing.
    if (!st->blobs.empty() && out.empty()) {
      const SiteRelay::State::Pending p = st->blobs.front();
      st->blobs.pop_front();
      std::string compressed, err;
      if (!p.store->read(*p.blob, 0, p.blob->size, &compressed, &err)) {
        // The hosts waiting for it would wait in vain: end the relay, and
        // they fetch everything else directly.
        if (st->why.empty()) st->why = "fan-out stopped: " + err;
        st->closing = true;
        co_return std::nullopt;
      }
      out = upload::encode_relay_blob(p.id, upload::seal(st->key, p.id, compressed));
    }
    if (!out.empty()) {
      st->bytes += out.size();
      co_return out;
    }
    if (st->closing || st->ended) co_return std::nullopt;
    co_await st->wake.wait();
  }
}

transport::Awaitable<void> run_relay(std::shared_ptr<SiteRelay::State> st, HostConn* host, std::string listen,
                                     std::string upstream) {
  transport::ExecOptions o;
  o.capture_stderr = true;
  o.on_stdout = [st](std::string_view data) {
    st->out_buf.append(data);
    for (std::size_t nl; (nl = st->out_buf.find('\n')) != std::string::npos;) {
      auto j = nlohmann::json::parse(st->out_buf.substr(0, nl), nullptr, false);
      st->out_buf.erase(0, nl + 1);
      if (!j.is_object()) continue;
      if (j.contains("listening") && j["listening"].is_string()) {
        st->endpoint = j["listening"];
        st->listening = true;
      }
      if (j.contains("served")) st->served = j["served"];
    }
    st->changed.notify();
  };
  o.stdin_source = [st]() { return next_relay_piece(st); };
  transport::ExecResult r = co_await host->relay(listen, upstream, std::move(o));
  if (!r.ok() && st->why.empty()) {
    const std::string err = r.err.substr(0, r.err.find('\n'));
    st->why = "relay on " + host->name() + " " + (err.empty() ? r.describe() : err);
  }
  st->ended = true;
  st->changed.notify();
  st->wake.notify();
}

}  // namespace

std::string relay_listen_arg(int port) { return "auto:" + std::to_string(port); }

SiteRelay::SiteRelay(std::string site) : site_(std::move(site)) {}
SiteRelay::~SiteRelay() = default;

transport::Awaitable<bool> SiteRelay::start(HostConn& host, int port, double timeout_s, SiteRelay* upstream) {
  auto ex = co_await transport::asio::this_coro::executor;
  st_ = std::make_shared<State>(ex);
  host_ = host.name();
  upstream_ = upstream;
  std::string upstream_at;
  if (upstream) {
    if (!upstream->st_ || !upstream->st_->listening) {
      st_->why = "its upstream relay is not there";
      st_->ended = true;  // nothing was started: finish() has nothing to wait for
      co_return false;
    }
    upstream_at = upstream->endpoint();
    st_->key = upstream->st_->key;  // hosts open what the upstream sealed
    // Its own token at the upstream: first on its stdin, before any host's.
    const upload::RelayToken t = upload::new_relay_token();
    st_->tokens.push_back(upload::encode_relay_upstream_token(t));
    upstream->st_->tokens.push_back(upload::encode_relay_token(t));
    upstream->st_->wake.notify();
  }
  transport::asio::co_spawn(ex, run_relay(st_, &host, relay_listen_arg(port), upstream_at), transport::asio::detached);
  transport::asio::steady_timer timer(
      ex, std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(timeout_s)));
  auto st = st_;
  timer.async_wait([st](boost::system::error_code) { st->changed.notify(); });
  while (!st->listening && !st->ended && transport::Clock::now() < timer.expiry()) co_await st->changed.wait();
  timer.cancel();
  if (st->listening && !st->ended) co_return true;
  if (st->why.empty()) st->why = "relay on " + host.name() + " did not start listening within " +
                                 std::to_string(int(timeout_s)) + " s";
  st->closing = true;
  st->wake.notify();
  co_return false;
}

std::optional<std::string> SiteRelay::key_frame() {
  if (!st_ || !st_->listening || st_->ended || st_->closing) return std::nullopt;
  const upload::RelayToken t = upload::new_relay_token();
  st_->tokens.push_back(upload::encode_relay_token(t));
  st_->wake.notify();
  return upload::encode_fan_out_key(
      std::string_view(reinterpret_cast<const char*>(st_->key.data()), st_->key.size()), upload::token_bytes(t),
      st_->endpoint);
}

void SiteRelay::carry(const std::string& id, const upload::BlobStore& store, const upload::BlobStore::Blob& blob) {
  if (upstream_) return upstream_->carry(id, store, blob);  // it fetches from there
  if (!st_ || st_->ended || st_->closing || !st_->carried.insert(id).second) return;
  st_->blobs.push_back({id, &store, &blob});
  st_->wake.notify();
}

transport::Awaitable<void> SiteRelay::finish(double timeout_s) {
  if (!st_) co_return;
  auto st = st_;
  st->closing = true;
  st->wake.notify();
  auto ex = co_await transport::asio::this_coro::executor;
  transport::asio::steady_timer timer(
      ex, std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(timeout_s)));
  timer.async_wait([st](boost::system::error_code) { st->changed.notify(); });
  while (!st->ended && transport::Clock::now() < timer.expiry()) co_await st->changed.wait();
  timer.cancel();
}

const std::string& SiteRelay::why() const {
  static const std::string none;
  return st_ ? st_->why : none;
}
std::uint64_t SiteRelay::bytes_to_relay() const { return st_ ? st_->bytes : 0; }
const std::string& SiteRelay::endpoint() const {
  static const std::string none;
  return st_ ? st_->endpoint : none;
}
nlohmann::json SiteRelay::served() const { return st_ ? st_->served : nlohmann::json(); }

}  // namespace plugbox::orchestrator
