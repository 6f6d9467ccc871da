#include "server-tools/relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "server-tools/errors.h"
#include "upload/common/relay_format.h"
#include "upload/common/stream_format.h"
#include "upload/common/wire.h"

namespace plugbox::server {

namespace {

using Blob = std::shared_ptr<const std::string>;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// One host's connection: its token first, then ids, answered in order once
// the relay has each content. Output is a queue of shared blobs, so serving
// one content to twenty hosts holds it in memory once.
struct Conn {
  base::UniqueFd fd;
  std::string in;
  bool admitted = false;
  std::deque<std::string> wanted;
  struct Out {
    std::string head;  // 'Y' + size
    Blob body;
    std::size_t off = 0;  // over head then body
  };
  std::deque<Out> out;
  bool dead = false;
};

// The stdin stream's incremental parser.
struct Feed {
  std::string buf;
  bool hello = false;
  std::string cur_id;
  std::uint64_t cur_left = 0;
  std::string cur;
};

}  // namespace

base::UniqueFd bind_relay(const std::string& listen, std::string* bound) {
  upload::RelayEndpoint ep;
  std::string why, text = listen;
  // `auto`: the address this host's SSH connection came in on, which the
  // other hosts behind the same jump host reach whatever the inventory
  // calls this one (a name the static server could not resolve).
  if (text.rfind("auto:", 0) == 0) {
    const char* conn = std::getenv("SSH_CONNECTION");  // "client port server port"
    std::istringstream in(conn ? conn : "");
    std::string client, cport, server;
    if (!(in >> client >> cport >> server))
      bad_input("relay --listen auto: needs $SSH_CONNECTION (run over SSH), or give the address");
    text = (server.find(':') != std::string::npos ? "[" + server + "]" : server) + text.substr(4);
  }
  if (!upload::parse_relay_endpoint(text, &ep, &why)) bad_input("relay --listen: " + why);
  base::UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) sys_fail("relay: socket", errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ep.addr), ep.len) != 0 || ::listen(fd.get(), 128) != 0)
    refuse("relay: cannot listen on " + text + ": " + std::strerror(errno) +
           " (fan_out_port must be free on the relay host; fan_out = \"off\" sends every host its own copy)");
  sockaddr_storage got{};
  socklen_t got_len = sizeof got;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&got), &got_len);
  *bound = upload::relay_endpoint_text(got);
  set_nonblocking(fd.get());
  return fd;
}

bool serve_relay(int listen_fd, int in_fd, RelayStats* stats, std::string* error, const std::string& upstream) {
  // Fault injection for the fan-out tests (tests/orchestrator/e2e): a relay
  // that dies after N fetches (mid-transfer), that damages every Nth
  // content it serves, or every content but the first N it was given (the
  // first is the manifest, which protocol 2 carries before any content).
  // Read from the environment, which only sshd's SetEnv of the test fleets
  // sets.
  std::uint64_t exit_after = 0, corrupt_every = 0, corrupt_after = 0;
  if (const char* f = std::getenv("PLUGBOX_RELAY_FAULT")) {
    const std::string fault = f;
    auto num = [&](const char* prefix) -> std::uint64_t {
      return fault.rfind(prefix, 0) == 0 ? std::strtoull(fault.c_str() + std::strlen(prefix), nullptr, 10) : 0;
    };
    exit_after = num("exit-after:");
    corrupt_every = num("corrupt-every:");
    corrupt_after = num("corrupt-after:");
  }
  std::set<std::string> spared;  // corrupt-after: the first N ids given
  std::map<std::string, Blob> blobs;
  std::set<std::string> tokens;  // not used yet: each admits one connection
  std::vector<std::unique_ptr<Conn>> conns;
  Feed feed;
  bool accept_paused = false;
  // --upstream: one connection to the upstream relay, made at the first
  // content a host asks for; ids asked there, answered in order.
  struct Up {
    std::string token;  // from stdin's 'U'
    base::UniqueFd fd;
    bool dead = false;
    std::string out, in;
    std::deque<std::string> asked;
    std::set<std::string> asked_set;
  } up;
  auto up_fail = [&](const std::string& why) {
    if (!up.dead && stats->upstream_failure.empty()) stats->upstream_failure = why;
    up.dead = true;
    up.fd.reset();
  };
  // Blocking connect (5 s at most), as a host's fetch does: it happens once.
  auto up_connect = [&]() -> bool {
    upload::RelayEndpoint ep;
    std::string why;
    if (!upload::parse_relay_endpoint(upstream, &ep, &why)) return up_fail("upstream " + why), false;
    base::UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return up_fail(std::string("upstream socket: ") + std::strerror(errno)), false;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ep.addr), ep.len) != 0) {
      if (errno != EINPROGRESS) return up_fail("connect to upstream " + upstream + ": " + std::strerror(errno)), false;
      pollfd p{fd.get(), POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, 5000) != 1 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        return up_fail("connect to upstream " + upstream + ": " + (err ? std::strerror(err) : "timed out after 5 s")),
               false;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    up.fd = std::move(fd);
    up.out = std::string(upload::kRelayGetMagic) + up.token;
    return true;
  };
  // Asks the upstream for `id` once; false when it cannot be had there.
  auto up_ask = [&](const std::string& id) -> bool {
    if (up.asked_set.count(id)) return !up.dead;
    if (up.dead || up.token.empty()) return false;
    if (!up.fd && !up_connect()) return false;
    up.asked.push_back(id);
    up.asked_set.insert(id);
    up.out += id;
    return true;
  };
  std::string readbuf(256 * 1024, '\0');

  // Parses what stdin brought; false on a bad stream.
  auto parse = [&]() -> bool {
    std::size_t pos = 0;
    if (!feed.hello) {
      if (feed.buf.size() < upload::kRelayMagic.size() + 4) return true;
      if (std::string_view(feed.buf).substr(0, upload::kRelayMagic.size()) != upload::kRelayMagic)
        return *error = "relay: stdin is not a relay stream", false;
      upload::wire::Reader r(std::string_view(feed.buf).substr(upload::kRelayMagic.size(), 4));
      std::uint32_t v = 0;
      r.u32(&v);
      if (v != upload::kRelayVersion) return *error = "relay: stream version " + std::to_string(v) + " unknown", false;
      pos = upload::kRelayMagic.size() + 4;
      feed.hello = true;
    }
    while (feed.buf.size() - pos >= 5) {
      upload::wire::Reader r(std::string_view(feed.buf).substr(pos, 5));
      std::uint8_t kind = 0;
      std::uint32_t n = 0;
      r.u8(&kind);
      r.u32(&n);
      if (n > upload::kMaxFramePayload) return *error = "relay: frame too long", false;
      if (feed.buf.size() - pos - 5 < n) break;
      std::string_view p(feed.buf.data() + pos + 5, n);
      pos += 5 + n;
      if (kind == upload::kRelayToken && n == upload::kRelayTokenBytes && feed.cur_left == 0) {
        tokens.emplace(p);
      } else if (kind == upload::kRelayUpstreamToken && n == upload::kRelayTokenBytes && !upstream.empty() &&
                 up.token.empty()) {
        up.token.assign(p);
      } else if (kind == upload::kRelayBlob && n == upload::kRelayIdBytes + 8 && feed.cur_left == 0) {
        upload::wire::Reader br(p.substr(upload::kRelayIdBytes));
        std::uint64_t size = 0;
        br.u64(&size);
        if (size == 0 || size > upload::kMaxRelayBlob) return *error = "relay: bad content size", false;
        feed.cur_id.assign(p.substr(0, upload::kRelayIdBytes));
        feed.cur_left = size;
        feed.cur.clear();
        feed.cur.reserve(size);
      } else if (kind == upload::kRelayData && feed.cur_left >= n && n > 0) {
        feed.cur.append(p);
        feed.cur_left -= n;
        if (feed.cur_left == 0) {
          stats->bytes_stored += feed.cur.size();
          if (spared.size() < corrupt_after) spared.insert(feed.cur_id);
          blobs[feed.cur_id] = std::make_shared<const std::string>(std::move(feed.cur));
          feed.cur = std::string();
        }
      } else {
        return *error = "relay: unexpected frame '" + std::string(1, char(kind)) + "'", false;
      }
    }
    feed.buf.erase(0, pos);
    return true;
  };

  // Moves a connection's complete requests into answers, as far as the
  // relay has the contents.
  auto advance = [&](Conn& c) {
    const std::size_t hello = upload::kRelayGetMagic.size() + upload::kRelayTokenBytes;
    if (!c.admitted) {
      if (c.in.size() < hello) return;
      if (std::string_view(c.in).substr(0, upload::kRelayGetMagic.size()) != upload::kRelayGetMagic) {
        c.dead = true;
        ++stats->refused;
        return;
      }
      auto t = tokens.find(c.in.substr(upload::kRelayGetMagic.size(), upload::kRelayTokenBytes));
      if (t == tokens.end()) return;  // its token may still be on its way (stdin); at EOF: refused
      tokens.erase(t);
      c.admitted = true;
      c.in.erase(0, hello);
    }
    // Every whole id at once, then one erase: erasing each from the front
    // moved the rest of the buffer once per id.
    // A group's relay asks its upstream for each new id it lacks, once.
    std::size_t at = 0;
    for (; c.in.size() - at >= upload::kRelayIdBytes; at += upload::kRelayIdBytes) {
      c.wanted.emplace_back(c.in.substr(at, upload::kRelayIdBytes));
      if (!upstream.empty() && !blobs.count(c.wanted.back()) && !up_ask(c.wanted.back())) {
        c.dead = true;  // its host fetches that content (and the rest) directly
        return;
      }
    }
    c.in.erase(0, at);
    while (!c.wanted.empty()) {
      auto b = blobs.find(c.wanted.front());
      if (b == blobs.end()) break;
      Conn::Out o;
      o.head.push_back('Y');
      upload::wire::put_u64(o.head, b->second->size());
      o.body = b->second;
      if ((corrupt_every && (stats->fetches + 1) % corrupt_every == 0) ||
          (corrupt_after && !spared.count(c.wanted.front()))) {
        auto bad = std::make_shared<std::string>(*b->second);
        (*bad)[bad->size() / 2] ^= 0x20;
        o.body = std::move(bad);
      }
      if (exit_after && stats->fetches >= exit_after) ::_exit(3);
      c.out.push_back(std::move(o));
      c.wanted.pop_front();
      ++stats->fetches;
      stats->bytes_served += b->second->size();
    }
  };

  auto flush = [&](Conn& c) {
    while (!c.out.empty()) {
      auto& o = c.out.front();
      const std::size_t total = o.head.size() + o.body->size();
      const char* p = o.off < o.head.size() ? o.head.data() + o.off : o.body->data() + (o.off - o.head.size());
      const std::size_t n = o.off < o.head.size() ? o.head.size() - o.off : total - o.off;
      ssize_t w = ::send(c.fd.get(), p, n, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (w <= 0) {
        c.dead = true;
        return;
      }
      o.off += std::size_t(w);
      if (o.off == total) c.out.pop_front();
    }
  };

  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({in_fd, POLLIN, 0});
    // Out of descriptors, a readable listening socket would wake poll for
    // ever: it is left out until a connection closes.
    fds.push_back({accept_paused ? -1 : listen_fd, POLLIN, 0});
    for (auto& c : conns) fds.push_back({c->fd.get(), short(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
    const std::size_t up_at = fds.size();
    if (up.fd) fds.push_back({up.fd.get(), short(POLLIN | (up.out.empty() ? 0 : POLLOUT)), 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return *error = std::string("relay: poll: ") + std::strerror(errno), false;
    }
    if (fds[0].revents) {
      ssize_t n = ::read(in_fd, readbuf.data(), readbuf.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return true;  // the client is done with the site (or gone): so are we
      feed.buf.append(readbuf.data(), std::size_t(n));
      if (!parse()) return false;
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE) accept_paused = true;
          break;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Conn>();
        c->fd = base::UniqueFd(fd);
        conns.push_back(std::move(c));
        ++stats->connections;
      }
      std::size_t pending = 0;
      for (auto& c : conns) pending += !c->admitted && !c->dead;
      for (auto it = conns.begin(); pending > kRelayMaxPending; ++it)  // oldest first
        if (!(*it)->admitted && !(*it)->dead) {
          (*it)->dead = true;
          ++stats->refused;
          --pending;
        }
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = *conns[i];
      const short re = i + 2 < fds.size() && fds[i + 2].fd == c.fd.get() ? fds[i + 2].revents : 0;
      if (re & POLLIN) {
        ssize_t n = ::recv(c.fd.get(), readbuf.data(), readbuf.size(), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) c.dead = true;
        if (n > 0) c.in.append(readbuf.data(), std::size_t(n));
        if (c.in.size() > 64 * upload::kRelayIdBytes * 1024) c.dead = true;  // not a host of ours
      } else if (re & (POLLERR | POLLHUP)) {
        c.dead = true;
      }
    }
    if (up.fd && up_at < fds.size() && fds[up_at].revents) {
      const short re = fds[up_at].revents;
      if (re & POLLOUT && !up.out.empty()) {
        ssize_t w = ::send(up.fd.get(), up.out.data(), up.out.size(), MSG_NOSIGNAL);
        if (w > 0) up.out.erase(0, std::size_t(w));
        else if (w < 0 && errno != EAGAIN && errno != EINTR) up_fail(std::string("upstream: ") + std::strerror(errno));
      }
      if (up.fd && re & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(up.fd.get(), readbuf.data(), readbuf.size(), 0);
        if (n > 0) up.in.append(readbuf.data(), std::size_t(n));
        else if (n == 0) up_fail("the upstream relay closed the connection");
        else if (errno != EAGAIN && errno != EINTR) up_fail(std::string("upstream: ") + std::strerror(errno));
      }
      // Whole answers, in the order asked: 'Y' u64 size, then the content.
      std::size_t at = 0;
      while (up.in.size() - at >= 9 && !up.asked.empty()) {
        upload::wire::Reader r(std::string_view(up.in).substr(at, 9));
        std::uint8_t y = 0;
        std::uint64_t size = 0;
        r.u8(&y);
        r.u64(&size);
        if (y != 'Y' || size > upload::kMaxRelayBlob) {
          up_fail("the upstream relay sent something that is not an answer");
          break;
        }
        if (up.in.size() - at - 9 < size) break;
        blobs[up.asked.front()] = std::make_shared<const std::string>(up.in.substr(at + 9, size));
        stats->bytes_stored += size;
        ++stats->upstream_fetches;
        up.asked.pop_front();
        at += 9 + size;
      }
      up.in.erase(0, at);
    }
    for (auto& c : conns) {
      if (c->dead) continue;
      if (up.dead && !c->wanted.empty() && !blobs.count(c->wanted.front())) {
        c->dead = true;  // what it waits for will not come: its host fetches it directly
        continue;
      }
      advance(*c);
      flush(*c);
    }
    if (std::erase_if(conns, [](const auto& c) { return c->dead; }) > 0) accept_paused = false;
  }
}

}  // namespace plugbox::server
