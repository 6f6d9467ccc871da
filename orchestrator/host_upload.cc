#include "orchestrator/host_upload.h"

#include <memory>

#include "transport/notifier.h"

namespace plugbox::orchestrator {

namespace {

struct UploadState {
  UploadState(const upload::Manifest& m, const upload::BlobStore& b, upload::RelayLink* relay,
              std::uint32_t protocol, transport::Executor ex)
      : client(m, b, relay, protocol), wake(std::move(ex)) {}
  upload::UploadClient client;
  transport::Notifier wake;
  std::string line_buf;
  bool sent_initial = false;
  bool ended = false;  // the command has exited
  std::uint64_t wire_bytes = 0;
};

// The stdin source: a free coroutine holding the state by shared_ptr, since
// a capturing coroutine lambda's captures would die with the std::function.
transport::Awaitable<std::optional<std::string>> next_piece(std::shared_ptr<UploadState> st) {
  if (!st->sent_initial) {
    st->sent_initial = true;
    std::string first = st->client.initial_bytes();
    if (first.empty()) co_return std::nullopt;  // the manifest cannot be read back: error() says why
    st->wire_bytes += first.size();
    co_return first;
  }
  // The contents follow only once the host has said which it lacks (or, its
  // fetch from the relay failed, the manifest goes first).
  while (!st->client.may_send() && st->client.error().empty() && !st->ended) co_await st->wake.wait();
  if (!st->client.error().empty() || st->ended) co_return std::nullopt;
  std::string chunk;
  // Patches sent and not answered yet: the end frame waits for the host's
  // answers (a `resend` puts a content back in the queue).
  // 64 KiB: a chunk lives on in the session's frames until the channel has
  // taken it, on every uploading host at once (transport/session_mux.cc).
  while (!st->client.next_chunk(&chunk, 64 * 1024)) {
    if (!st->client.waiting() || !st->client.error().empty() || st->ended) co_return std::nullopt;
    co_await st->wake.wait();
  }
  st->wire_bytes += chunk.size();
  co_return chunk;
}

}  // namespace

transport::Awaitable<HostUploadResult> upload_to_host(transport::Session& session, transport::Command receive,
                                                      const upload::Manifest& manifest, const upload::BlobStore& blobs,
                                                      transport::Deadline deadline, upload::RelayLink* relay,
                                                      std::uint32_t protocol) {
  auto ex = co_await transport::asio::this_coro::executor;
  auto st = std::make_shared<UploadState>(manifest, blobs, relay, protocol, ex);
  transport::ExecOptions o;
  o.capture_stderr = true;
  o.deadline = deadline;
  o.on_stdout = [st](std::string_view data) {
    st->line_buf.append(data);
    for (size_t nl; (nl = st->line_buf.find('\n')) != std::string::npos;) {
      std::string line = st->line_buf.substr(0, nl);
      st->line_buf.erase(0, nl + 1);
      if (!line.empty()) st->client.on_line(line);
    }
    // A `need` of 2000 digests is a 130 KB line: its buffer would otherwise
    // stay for the rest of the upload, on every uploading host at once.
    if (st->line_buf.empty()) std::string().swap(st->line_buf);
    st->wake.notify();
  };
  o.stdin_source = [st]() { return next_piece(st); };
  transport::ExecResult r = co_await session.exec(std::move(receive), std::move(o));
  st->ended = true;
  st->wake.notify();
  HostUploadResult out;
  out.wire_bytes = st->wire_bytes;
  out.created = st->client.created();
  out.fetch_failure = st->client.fetch_failure();
  out.cut_off = bool(r.error);
  if (r.ok() && st->client.done()) {
    out.ok = true;
    out.stats = *st->client.result();
    co_return out;
  }
  if (!st->client.error().empty()) out.error = st->client.error();
  else if (!r.err.empty()) out.error = "upload: " + r.err.substr(0, r.err.find('\n'));
  else out.error = "upload: receive " + r.describe();
  co_return out;
}

}  // namespace plugbox::orchestrator
