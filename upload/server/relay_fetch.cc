#include "upload/server/relay_fetch.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "upload/common/wire.h"

namespace plugbox::upload {

namespace {
constexpr std::chrono::milliseconds kConnectTimeout{5000};
}  // namespace

RelayFetcher::RelayFetcher(std::string endpoint, RelayToken token, SealKey key, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), token_(token), key_(key), timeout_(timeout) {}

bool RelayFetcher::connect(std::string* why) {
  RelayEndpoint ep;
  if (!parse_relay_endpoint(endpoint_, &ep, why)) return false;
  base::UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return *why = std::string("socket: ") + std::strerror(errno), false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ep.addr), ep.len) != 0) {
    if (errno != EINPROGRESS) return *why = "connect " + endpoint_ + ": " + std::strerror(errno), false;
    pollfd p{fd.get(), POLLOUT, 0};
    int r;
    // A firewall that drops the port costs each host of the site this once.
    const auto connect_wait = std::min<std::chrono::milliseconds>(timeout_, kConnectTimeout);
    do r = ::poll(&p, 1, int(connect_wait.count()));
    while (r < 0 && errno == EINTR);
    if (r == 0) return *why = "connect " + endpoint_ + ": timed out", false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (r < 0 || err != 0) return *why = "connect " + endpoint_ + ": " + std::strerror(err ? err : errno), false;
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  timeval tv{long(timeout_.count() / 1000), long(timeout_.count() % 1000) * 1000};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string hello(kRelayGetMagic);
  hello += token_bytes(token_);
  if (::send(fd.get(), hello.data(), hello.size(), MSG_NOSIGNAL) != ssize_t(hello.size()))
    return *why = "relay " + endpoint_ + ": " + std::strerror(errno), false;
  fd_ = std::move(fd);
  return true;
}

bool RelayFetcher::read_n(char* p, std::size_t n, std::string* why) {
  while (n > 0) {
    ssize_t r = ::recv(fd_.get(), p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return *why = "relay " + endpoint_ + " closed the connection", false;
    if (r < 0)
      return *why = "relay " + endpoint_ + ": " + (errno == EAGAIN ? std::string("timed out") : std::strerror(errno)),
             false;
    p += r;
    n -= std::size_t(r);
  }
  return true;
}

std::optional<std::string> RelayFetcher::fetch(std::string_view id, std::string* why) {
  if (gone_) return *why = "relay " + endpoint_ + " is gone", std::nullopt;
  auto failed = [&]() -> std::optional<std::string> {
    gone_ = true;
    fd_.reset();
    return std::nullopt;
  };
  if (!fd_ && !connect(why)) return failed();
  if (::send(fd_.get(), id.data(), id.size(), MSG_NOSIGNAL) != ssize_t(id.size()))
    return *why = "relay " + endpoint_ + ": " + std::strerror(errno), failed();
  char head[9];
  if (!read_n(head, sizeof head, why)) return failed();
  wire::Reader r(std::string_view(head + 1, 8));
  std::uint64_t size = 0;
  r.u64(&size);
  if (head[0] != 'Y' || size > kMaxRelayBlob) return *why = "relay " + endpoint_ + " answered out of protocol", failed();
  std::string sealed(size, '\0');
  if (!read_n(sealed.data(), size, why)) return failed();
  bytes_ += size;
  std::string plain;
  // A bad tag is this content's problem only (the relay's copy was damaged
  // or replaced): the relay stays in use for the others.
  if (!open_sealed(key_, id, sealed, &plain))
    return *why = "a content from relay " + endpoint_ + " failed its AEAD check", std::nullopt;
  return plain;
}

}  // namespace plugbox::upload
