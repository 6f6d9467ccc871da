// The relay (server-tools/relay.h) with the host's fetcher
// (upload/server/relay_fetch.h) and a whole upload through it: each content
// crosses the relay's stdin once, sealed, and every way the relay can fail a
// host ends in that content being asked for directly.
#include "server-tools/relay.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "tests/upload/tree_util.h"
#include "upload/common/relay_format.h"
#include "upload/common/sealed_box.h"
#include "upload/common/stream_format.h"
#include "upload/server/relay_fetch.h"
#include "upload/server/verify_tree.h"

namespace plugbox::server {
namespace {

using namespace plugbox::upload;
using namespace plugbox::upload::testutil;

// A relay on 127.0.0.1 served by a thread; the test writes its stdin.
struct LiveRelay {
  base::UniqueFd listen, in_read, in_write;
  std::string endpoint, error;
  RelayStats stats;
  bool ok = false;
  std::thread thread;

  // `upstream`: a group's relay, fetching from that one (--upstream).
  explicit LiveRelay(std::string upstream = "") {
    listen = bind_relay("127.0.0.1:0", &endpoint);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    in_read = base::UniqueFd(p[0]);
    in_write = base::UniqueFd(p[1]);
    thread = std::thread([this, upstream] { ok = serve_relay(listen.get(), in_read.get(), &stats, &error, upstream); });
    write(encode_relay_hello());
  }
  ~LiveRelay() { stop(); }
  void write(const std::string& bytes) {
    for (std::size_t off = 0; off < bytes.size();) {
      ssize_t w = ::write(in_write.get(), bytes.data() + off, bytes.size() - off);
      REQUIRE(w > 0);
      off += std::size_t(w);
    }
  }
  // Ends its stdin: the relay exits, as when the client is done with the site.
  void stop() {
    in_write.reset();
    if (thread.joinable()) thread.join();
  }
};

// A host's 'K' frame for relay `r`: a fresh token, which `r` gets first on
// its stdin (as SiteRelay::key_frame does over the relay's channel).
std::string admit_host(LiveRelay& r, const SealKey& key) {
  const RelayToken t = new_relay_token();
  r.write(encode_relay_token(t));
  return encode_fan_out_key(std::string_view(reinterpret_cast<const char*>(key.data()), 32), token_bytes(t),
                            r.endpoint);
}

// The client's side of the relay in process (the orchestrator's SiteRelay
// does this over the relay host's SSH channel): tokens and sealed contents
// go into the relay's stdin as they are asked for.
struct InProcessLink : RelayLink {
  LiveRelay& relay;
  SealKey key = new_seal_key();
  std::set<std::string> carried;
  int stop_after = -1;  // end the relay after this many contents were carried
  bool corrupt = false;
  explicit InProcessLink(LiveRelay& r) : relay(r) {}
  std::optional<std::string> key_frame() override { return admit_host(relay, key); }
  void carry(const std::string& id, const BlobStore& store, const BlobStore::Blob& blob) override {
    if (!carried.insert(id).second || !relay.in_write) return;
    std::string sealed = seal(key, id, store.compressed(blob));
    if (corrupt) sealed[sealed.size() / 2] ^= 1;
    relay.write(encode_relay_blob(id, sealed));
    if (stop_after >= 0 && int(carried.size()) >= stop_after) relay.stop();
  }
};

LocalTree tree_of(const fs::path& dist) { return build_manifest(TreeSpec{dist.parent_path(), dist.filename().string(), {}}); }

// The version holds exactly the stored manifest's tree, every content checked.
void require_matches_manifest(const fs::path& version, const Manifest& stored) {
  auto check = verify_tree(version.string(), stored);
  INFO((check.problems.empty() ? "" : check.problems.front()));
  REQUIRE(check.problems.empty());
}

std::string sealed_whole(const SealKey& key, const std::string& content, std::string* id) {
  *id = relay_id(sha256(content), nullptr);
  return seal(key, *id, content);
}

TEST_CASE("a relay serves each admitted host the sealed contents it asks for, waiting for ones still on their way") {
  LiveRelay relay;
  const SealKey key = new_seal_key();
  const RelayToken t1 = new_relay_token(), t2 = new_relay_token();
  relay.write(encode_relay_token(t1) + encode_relay_token(t2));
  std::string id_a = relay_id(sha256("a"), nullptr), id_b;
  relay.write(encode_relay_blob(id_a, seal(key, id_a, "content a")));

  RelayFetcher h1(relay.endpoint, t1, key), h2(relay.endpoint, t2, key);
  std::string why;
  auto a = h1.fetch(id_a, &why);
  INFO(why);
  REQUIRE(a);
  CHECK(*a == "content a");
  // b is asked for before the client has carried it: the answer waits.
  const std::string big(3 << 20, 'b');
  const std::string sealed_b = sealed_whole(key, big, &id_b);
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    relay.write(encode_relay_blob(id_b, sealed_b));
  });
  auto b = h2.fetch(id_b, &why);
  late.join();
  REQUIRE(b);
  CHECK(*b == big);
  CHECK(h2.fetch(id_a, &why) == std::optional<std::string>("content a"));
  relay.stop();
  CHECK(relay.ok);
  CHECK(relay.stats.connections == 2);
  CHECK(relay.stats.fetches == 3);
  CHECK(relay.stats.bytes_stored == 2 * kSealOverhead + 9 + big.size());
}

TEST_CASE("a token admits one connection, and an unknown one none") {
  LiveRelay relay;
  const SealKey key = new_seal_key();
  const RelayToken t = new_relay_token();
  relay.write(encode_relay_token(t));
  const std::string id = relay_id(sha256("x"), nullptr);
  relay.write(encode_relay_blob(id, seal(key, id, "x")));
  std::string why;
  RelayFetcher first(relay.endpoint, t, key);
  REQUIRE(first.fetch(id, &why));
  RelayFetcher again(relay.endpoint, t, key, std::chrono::milliseconds(300));
  CHECK_FALSE(again.fetch(id, &why));
  CHECK(why.find("timed out") != std::string::npos);
  CHECK(again.gone());
  RelayFetcher stranger(relay.endpoint, new_relay_token(), key, std::chrono::milliseconds(300));
  CHECK_FALSE(stranger.fetch(id, &why));
  relay.stop();
  CHECK(relay.stats.fetches == 1);
}

TEST_CASE("strangers holding connections with unknown tokens are dropped oldest first, and a host is still served") {
  LiveRelay relay;
  const SealKey key = new_seal_key();
  RelayEndpoint ep;
  std::string why;
  REQUIRE(parse_relay_endpoint(relay.endpoint, &ep, &why));
  // More strangers than the relay keeps pending, each sending a whole hello
  // with a token nobody gave it, and then waiting.
  const std::size_t strangers = kRelayMaxPending + 44;
  std::vector<base::UniqueFd> held;
  const std::string hello = std::string(kRelayGetMagic) + std::string(kRelayTokenBytes, 'x');
  for (std::size_t i = 0; i < strangers; ++i) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ep.addr), ep.len) == 0);
    REQUIRE(::send(fd.get(), hello.data(), hello.size(), MSG_NOSIGNAL) == ssize_t(hello.size()));
    held.push_back(std::move(fd));
  }
  const RelayToken t = new_relay_token();
  relay.write(encode_relay_token(t));
  const std::string id = relay_id(sha256("x"), nullptr);
  relay.write(encode_relay_blob(id, seal(key, id, "x")));
  RelayFetcher host(relay.endpoint, t, key);
  auto got = host.fetch(id, &why);
  INFO(why);
  REQUIRE(got);
  CHECK(*got == "x");
  // The first stranger was dropped: its connection reads end of stream.
  timeval tv{5, 0};
  ::setsockopt(held.front().get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  CHECK(::recv(held.front().get(), &c, 1, 0) == 0);
  relay.stop();
  CHECK(relay.ok);
  CHECK(relay.stats.connections == strangers + 1);
  CHECK(relay.stats.refused >= strangers - kRelayMaxPending);
  CHECK(relay.stats.fetches == 1);
}

TEST_CASE("a content damaged at the relay fails its tag, and the relay stays in use for the others") {
  LiveRelay relay;
  const SealKey key = new_seal_key();
  const RelayToken t = new_relay_token();
  relay.write(encode_relay_token(t));
  std::string id_a, id_b;
  std::string bad = sealed_whole(key, "aaaa", &id_a);
  bad[14] ^= 0x40;
  relay.write(encode_relay_blob(id_a, bad));
  relay.write(encode_relay_blob(id_b, sealed_whole(key, "bbbb", &id_b)));
  RelayFetcher f(relay.endpoint, t, key);
  std::string why;
  CHECK_FALSE(f.fetch(id_a, &why));
  CHECK(why == "a content from relay " + relay.endpoint + " failed its AEAD check");
  CHECK_FALSE(f.gone());
  CHECK(f.fetch(id_b, &why) == std::optional<std::string>("bbbb"));
}

TEST_CASE("a relay that cannot listen, or a bad listen argument, is one line") {
  std::string bound;
  LiveRelay relay;
  CHECK_THROWS_WITH(bind_relay(relay.endpoint, &bound),
                    Catch::Contains("relay: cannot listen on " + relay.endpoint) &&
                        Catch::Contains("fan_out = \"off\""));
  CHECK_THROWS_WITH(bind_relay("web01:7447", &bound), "relay --listen: 'web01' is not a numeric IPv4 address");
}

// Whole uploads through the relay (the receiver's 'K' and 'R' frames).
struct Trees {
  TempDir t;
  LocalTree tree;
  Trees() {
    for (int i = 0; i < 6; ++i) write_file(t.path / "dist" / ("f" + std::to_string(i)), std::string(5000 + i, char('a' + i)));
    write_file(t.path / "dist/small", "s");
    tree = tree_of(t.path / "dist");
    fs::create_directories(t.path / "v1");
  }
};

TEST_CASE("an upload through the relay fetches every content from it, verified, and sends none over the stream") {
  Trees tr;
  LiveRelay relay;
  InProcessLink link(relay);
  auto blobs = BlobStore::lazy(tr.tree);
  auto r = pump(tr.tree, blobs, tr.t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::content, &link);
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  require_matches_manifest(tr.t.path / "v1", r.stored);
  CHECK(r.result->files_sent == 7);
  CHECK(r.result->files_fetched == 7);
  CHECK(r.result->fetches_failed == 0);
  CHECK(r.result->bytes_sent == 0);  // no content crossed the stream itself
  CHECK(r.result->bytes_fetched == blobs.compressed_bytes() + 7 * kSealOverhead);
  CHECK(link.carried.size() == 7);
}

TEST_CASE("a relay that dies mid-transfer, or serves damaged contents, costs only direct resends") {
  Trees tr;
  LiveRelay relay;
  InProcessLink link(relay);
  SECTION("it dies after three contents") { link.stop_after = 3; }
  SECTION("every content it serves is damaged") { link.corrupt = true; }
  auto blobs = BlobStore::lazy(tr.tree);
  auto r = pump(tr.tree, blobs, tr.t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::content, &link);
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  require_matches_manifest(tr.t.path / "v1", r.stored);
  CHECK(r.result->files_sent == 7);
  CHECK(r.result->fetches_failed == 7 - r.result->files_fetched);
  CHECK(r.result->fetches_failed >= 4);
  if (link.corrupt) CHECK(r.result->files_fetched == 0);
}

// A relay at an endpoint nothing listens on.
struct Unreachable : RelayLink {
  std::string endpoint;
  std::set<std::string> carried;
  std::optional<std::string> key_frame() override {
    const SealKey k = new_seal_key();
    return encode_fan_out_key(std::string_view(reinterpret_cast<const char*>(k.data()), 32),
                              token_bytes(new_relay_token()), endpoint);
  }
  void carry(const std::string& id, const BlobStore&, const BlobStore::Blob&) override { carried.insert(id); }
};

std::string closed_endpoint() {
  LiveRelay gone;  // its port, closed when it goes
  return gone.endpoint;
}

TEST_CASE("a relay no host can reach: every content is resent directly, after one failed connect") {
  Trees tr;
  Unreachable link;
  link.endpoint = closed_endpoint();
  auto blobs = BlobStore::lazy(tr.tree);
  auto r = pump(tr.tree, blobs, tr.t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::content, &link);
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  require_matches_manifest(tr.t.path / "v1", r.stored);
  CHECK(r.result->files_fetched == 0);
  CHECK(r.result->fetches_failed == 7);
}

// A protocol-2 upload of the test tree into v1 through `link`: it must
// succeed, whatever the relay did, with the tree verified.
PumpResult pump_v2(Trees& tr, RelayLink* link) {
  auto blobs = BlobStore::lazy(tr.tree);
  blobs.add_manifest(tr.tree.manifest);
  auto r = pump(tr.tree, blobs, tr.t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::content, link, 2);
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  require_matches_manifest(tr.t.path / "v1", r.stored);
  return r;
}

TEST_CASE("protocol 2 fetches the manifest itself from the relay: the stream carries neither manifest nor contents") {
  Trees tr;
  LiveRelay relay;
  InProcessLink link(relay);
  auto r = pump_v2(tr, &link);
  CHECK(r.result->manifest_fetched);
  CHECK(r.result->files_fetched == 7);
  CHECK(r.result->bytes_sent == 0);
  CHECK(link.carried.size() == 8);  // the 7 contents and the manifest
  CHECK(link.carried.count(relay_id(sha256(tr.tree.manifest.encode()), nullptr)) == 1);
}

TEST_CASE("protocol 2: a relay that dies mid-transfer costs only direct resends, each after the count of those fetched before it") {
  Trees tr;
  LiveRelay relay;
  InProcessLink link(relay);
  link.stop_after = 3;  // the manifest and two contents
  auto r = pump_v2(tr, &link);
  CHECK(r.result->manifest_fetched);
  CHECK(r.result->files_sent == 7);
  CHECK(r.result->files_fetched <= 2);
  CHECK(r.result->fetches_failed == 7 - r.result->files_fetched);
}

TEST_CASE("protocol 2: a manifest the relay cannot serve is sent over the stream, and so is everything after it") {
  Trees tr;
  LiveRelay relay;
  InProcessLink damaging(relay);
  damaging.corrupt = true;
  Unreachable unreachable;
  unreachable.endpoint = closed_endpoint();
  RelayLink* link = nullptr;
  std::set<std::string>* carried = nullptr;
  SECTION("the relay cannot be reached") {
    link = &unreachable;
    carried = &unreachable.carried;
  }
  SECTION("the relay damages it") {
    link = &damaging;
    carried = &damaging.carried;
  }
  auto r = pump_v2(tr, link);
  CHECK_FALSE(r.result->manifest_fetched);
  CHECK(r.result->files_fetched == 0);
  CHECK(r.result->fetches_failed == 0);  // no content was even tried through it
  CHECK(r.result->files_sent == 7);
  CHECK(carried->size() == 1);  // only the manifest was carried
}

TEST_CASE("protocol 2 without a relay sends the manifest compressed, protocol 1 as before") {
  Trees tr;
  auto blobs = BlobStore::lazy(tr.tree);
  blobs.add_manifest(tr.tree.manifest);
  const std::uint32_t protocol = GENERATE(1u, 2u);
  UploadClient client(tr.tree.manifest, blobs, nullptr, protocol);
  const std::string first = client.initial_bytes();
  const std::string plain = encode_manifest(tr.tree.manifest);
  CHECK(first.substr(0, 12) == encode_hello(protocol));
  if (protocol == 1) CHECK(first.substr(12) == plain);
  if (protocol == 2) CHECK(first.size() - 12 < plain.size());  // compressed (this tree's paths repeat)
  std::vector<std::string> lines;
  Receiver rx((tr.t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
  REQUIRE(rx.feed(first));
  REQUIRE(lines.size() == 1);
  const auto need = nlohmann::json::parse(lines[0]);
  CHECK(need[protocol == 1 ? "need" : "need_at"].size() == 7);
  CHECK(rx.manifest().entries.size() == tr.tree.manifest.entries.size());
}

// A group's relay (--upstream) in front of the site's: hosts get tokens and
// the address of the group's relay, contents go to the site's.
struct GroupLink : RelayLink {
  LiveRelay& site;
  LiveRelay& group;
  SealKey key = new_seal_key();
  std::set<std::string> carried;
  GroupLink(LiveRelay& s, LiveRelay& g) : site(s), group(g) {
    const RelayToken t = new_relay_token();
    site.write(encode_relay_token(t));
    group.write(encode_relay_upstream_token(t));
  }
  std::optional<std::string> key_frame() override { return admit_host(group, key); }
  void carry(const std::string& id, const BlobStore& store, const BlobStore::Blob& blob) override {
    if (carried.insert(id).second && site.in_write) site.write(encode_relay_blob(id, seal(key, id, store.compressed(blob))));
  }
};

TEST_CASE("a group's relay fetches each content from the site's relay once, and serves every host of its group") {
  Trees tr;
  LiveRelay site;
  LiveRelay group(site.endpoint);
  GroupLink link(site, group);
  auto blobs = BlobStore::lazy(tr.tree);
  blobs.add_manifest(tr.tree.manifest);
  for (const char* v : {"v1", "v2"}) {
    INFO(v);
    fs::create_directories(tr.t.path / v);
    auto r = pump(tr.tree, blobs, tr.t.path / v, {}, nullptr, SIZE_MAX, LinkRule::content, &link, 2);
    INFO(r.client_error << " / " << r.server_error);
    REQUIRE(r.ok);
    require_matches_manifest(tr.t.path / v, r.stored);
    CHECK(r.result->manifest_fetched);
    CHECK(r.result->files_fetched == 7);
  }
  group.stop();
  site.stop();
  CHECK(group.ok);
  CHECK(group.stats.fetches == 16);           // 2 hosts x (7 contents + the manifest)
  CHECK(group.stats.upstream_fetches == 8);   // each once
  CHECK(site.stats.fetches == 8);             // all to the group's relay
  CHECK(group.stats.upstream_failure.empty());
}

TEST_CASE("a group's relay whose upstream is gone cuts its hosts off, and they are sent everything directly") {
  Trees tr;
  LiveRelay group(closed_endpoint());
  LiveRelay site;  // gets the carried contents, but the group's relay looks elsewhere
  GroupLink link(site, group);
  auto r = pump_v2(tr, &link);
  CHECK_FALSE(r.result->manifest_fetched);
  CHECK(r.result->files_fetched == 0);
  CHECK(r.result->files_sent == 7);
  group.stop();
  CHECK(group.stats.upstream_failure.find("connect to upstream") == 0);
}

TEST_CASE("fan-out frames out of order are refused") {
  Trees tr;
  std::vector<std::string> lines;
  Receiver rx((tr.t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
  REQUIRE(rx.feed(encode_hello() + encode_manifest(tr.tree.manifest)));
  const Digest d = tr.tree.manifest.entries.back().digest;
  SECTION("a fetch before the key") {
    CHECK_FALSE(rx.feed(encode_relay_fetch(d, 1, 10, nullptr)));
    CHECK(rx.error() == "upload asked for a relay fetch before sending the fan-out key");
  }
  SECTION("a second key") {
    const std::string key = encode_fan_out_key(std::string(32, 'k'), std::string(32, 't'), "127.0.0.1:1");
    REQUIRE(rx.feed(key));
    CHECK_FALSE(rx.feed(key));
    CHECK(rx.error() == "upload sent a second fan-out key");
  }
}

TEST_CASE("protocol 2's manifest fetch is refused out of place, and in protocol 1") {
  Trees tr;
  std::vector<std::string> lines;
  Receiver rx((tr.t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
  const std::string fetch = encode_manifest_fetch(sha256("m"), 1, 10);
  SECTION("before the key") {
    CHECK_FALSE(rx.feed(encode_hello(2) + fetch));
    CHECK(rx.error() == "upload asked for a manifest fetch before sending the fan-out key");
  }
  SECTION("in protocol 1") {
    CHECK_FALSE(rx.feed(encode_hello(1) + fetch));
    CHECK(rx.error() == "upload stream: expected the manifest, got frame 'X'");
  }
  SECTION("a second one, after the first failed") {
    const std::string key = encode_fan_out_key(std::string(32, 'k'), std::string(32, 't'), closed_endpoint());
    REQUIRE(rx.feed(encode_hello(2) + key + fetch));
    REQUIRE(lines.size() == 1);
    CHECK(nlohmann::json::parse(lines[0]).contains("resend_manifest"));
    CHECK_FALSE(rx.feed(fetch));
    CHECK(rx.error() == "upload stream: a second manifest fetch, or one after the manifest's frames began");
  }
}

}  // namespace
}  // namespace plugbox::server

namespace plugbox::server {
namespace {

TEST_CASE("a server whose need line does not say fan_out (older than fan-out) is sent its contents directly") {
  Trees tr;
  LiveRelay relay;
  InProcessLink link(relay);
  auto blobs = BlobStore::lazy(tr.tree);
  UploadClient client(tr.tree.manifest, blobs, &link);
  nlohmann::json need = nlohmann::json::array();
  for (const auto& e : tr.tree.manifest.entries)
    if (e.type == EntryType::file) need.push_back(to_hex(e.digest));
  REQUIRE(client.on_line(nlohmann::json{{"need", need}}.dump()));
  std::string chunk, all;
  while (client.next_chunk(&chunk)) all += chunk;
  CHECK(link.carried.empty());
  CHECK(all[0] == char(kFileBegin));
}

}  // namespace
}  // namespace plugbox::server
