// `plugbox-server receive V` through the CLI: the stream a real client would
// send (built by UploadClient from a real tree) on stdin, then the record,
// the stored manifest, dedup from the live version, verify, and refusals.
#include <catch2/catch.hpp>
#include <fcntl.h>

#include <set>

#include <nlohmann/json.hpp>

#include "server-tools/layout.h"
#include "upload/client/blob_store.h"
#include "upload/client/manifest_builder.h"
#include "upload/client/upload_client.h"
#include "tests/server-tools/test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;
namespace up = plugbox::upload;

namespace {

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

// The whole client stream for `dist` when the host lacks exactly `need`
// (hex digests): receive asks first, but a file on stdin cannot wait for the
// answer, so the test precomputes it.
std::string stream_for(const up::LocalTree& tree, const up::BlobStore& blobs, const std::vector<std::string>& need) {
  up::UploadClient c(tree.manifest, blobs);
  std::string s = c.initial_bytes();
  REQUIRE(c.on_line(nlohmann::json{{"need", need}}.dump()));
  std::string chunk;
  while (c.next_chunk(&chunk)) s += chunk;
  return s;
}

std::vector<std::string> all_digests(const up::LocalTree& t) {
  std::set<std::string> d;
  for (const auto& e : t.manifest.entries)
    if (e.type == up::EntryType::file) d.insert(up::to_hex(e.digest));
  return {d.begin(), d.end()};
}

CliResult receive(const fs::path& home, const std::string& v, const std::string& stream, const TempDir& tmp,
                  const std::vector<std::string>& flags = {}) {
  fs::path in = tmp.path() / "stream.bin";
  std::ofstream(in, std::ios::binary) << stream;
  int fd = ::open(in.c_str(), O_RDONLY);
  std::vector<std::string> args{"receive", v};
  args.insert(args.end(), flags.begin(), flags.end());
  CliResult r = cli(home, args, {}, fd);
  ::close(fd);
  return r;
}

}  // namespace

TEST_CASE("receive fills a staged version, records its manifest, and verify re-checks every file") {
  TempDir tmp;
  fs::path home = tmp.path() / "home";
  write(tmp.path() / "src/dist/bin/app", "#!/bin/sh\necho v1\n");
  write(tmp.path() / "src/dist/static/big.txt", std::string(100000, 'x'));
  auto tree = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
  auto blobs = up::BlobStore::build(tree);
  REQUIRE(cli(home, {"init"}).rc == 0);
  const std::string V1 = "2026-11-25T10:00:00";
  REQUIRE(cli(home, {"next-version", "--name", V1}).rc == 0);

  CliResult r = receive(home, V1, stream_for(tree, blobs, all_digests(tree)), tmp);
  INFO(describe(r));
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Catch::Contains("\"done\""));  // stdout carries the protocol
  CHECK_THAT(r.err, Catch::Contains("received " + V1));
  Layout layout(home);
  CHECK(fs::exists(layout.manifest(V1)));
  auto rec = nlohmann::json::parse(slurp(layout.record(V1)));
  CHECK(rec["manifest_digest"] == "sha256:" + up::to_hex(tree.manifest.digest()));
  CHECK(rec["state"] == "staged");
  CHECK(slurp(layout.version_dir(V1) / "bin/app") == "#!/bin/sh\necho v1\n");

  REQUIRE(cli(home, {"seal", V1}).rc == 0);
  REQUIRE(cli(home, {"upgrade-to", V1}).rc == 0);
  CliResult v = cli(home, {"verify", V1});
  INFO(describe(v));
  CHECK(v.rc == 0);
  CHECK_THAT(v.out, Catch::Contains("file contents checked: 4 of 4"));

  SECTION("verify catches a file changed after the upload") {
    write(layout.version_dir(V1) / "bin/app", "#!/bin/sh\necho v9\n");  // same size
    CliResult bad = cli(home, {"verify", V1});
    CHECK(bad.rc == 1);
    CHECK_THAT(bad.out, Catch::Contains("'bin/app' content differs from the manifest"));
  }
  SECTION("a second upload links unchanged files from the live version") {
    write(tmp.path() / "src/dist/bin/app", "#!/bin/sh\necho v2\n");
    auto tree2 = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
    auto blobs2 = up::BlobStore::build(tree2);
    const std::string V2 = "2026-11-25T11:00:00";
    REQUIRE(cli(home, {"next-version", "--name", V2}).rc == 0);
    std::string app_digest = up::to_hex(up::sha256("#!/bin/sh\necho v2\n"));
    CliResult r2 = receive(home, V2, stream_for(tree2, blobs2, {app_digest}), tmp);
    INFO(describe(r2));
    REQUIRE(r2.rc == 0);
    CHECK_THAT(r2.out, Catch::Contains("\"need\":[\"" + app_digest + "\"]"));  // only the changed file
    CHECK_THAT(r2.out, Catch::Contains("\"files_linked\":1"));
    struct stat a, b;
    ::stat((layout.version_dir(V1) / "static/big.txt").c_str(), &a);
    ::stat((layout.version_dir(V2) / "static/big.txt").c_str(), &b);
    CHECK(a.st_ino == b.st_ino);
    // remove drops the manifest with the record.
    REQUIRE(cli(home, {"remove", V2}).rc == 0);
    CHECK_FALSE(fs::exists(layout.manifest(V2)));
  }
  SECTION("a ready or unknown version is refused before reading, and nothing changes") {
    Snapshot before = snapshot(home);
    CliResult ready = receive(home, V1, "", tmp);
    CHECK(ready.rc == 1);
    CHECK_THAT(ready.err, Catch::Contains("is ready (sealed)"));
    CliResult unknown = receive(home, "2026-01-01T00:00:00", "", tmp);
    CHECK(unknown.rc == 1);
    CHECK_THAT(unknown.err, Catch::Contains("does not exist"));
    CliResult bad = receive(home, "yesterday", "", tmp);
    CHECK(bad.rc == 2);
    CHECK(snapshot_diff(before, snapshot(home)).empty());
  }
}

TEST_CASE("receive --create --seal: one command makes the layout and V, fills it and seals it") {
  TempDir tmp;
  fs::path home = tmp.path() / "home";  // does not exist yet: --create lays it out
  write(tmp.path() / "src/dist/bin/app", "#!/bin/sh\necho v1\n");
  write(tmp.path() / "src/dist/static/big.txt", std::string(100000, 'x'));
  auto tree = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
  auto blobs = up::BlobStore::build(tree);
  const std::string V1 = "2026-11-25T10:00:00";
  CliResult r = receive(home, V1, stream_for(tree, blobs, all_digests(tree)), tmp,
                        {"--create", "--seal", "--by", "ops@laptop", "--source-rev", "abc123"});
  INFO(describe(r));
  REQUIRE(r.rc == 0);
  // The host says it created V before anything else, then the protocol.
  CHECK(r.out.rfind("{\"created\":\"" + V1 + "\"}\n", 0) == 0);
  CHECK_THAT(r.out, Catch::Contains("\"done\""));
  CHECK_THAT(r.err, Catch::Contains("created and received " + V1));
  CHECK_THAT(r.err, Catch::Contains("sealed " + V1 + ": ready (100018 bytes)"));
  Layout layout(home);
  auto rec = nlohmann::json::parse(slurp(layout.record(V1)));
  CHECK(rec["state"] == "ready");
  CHECK(rec["by"] == "ops@laptop");
  CHECK(rec["source_rev"] == "abc123");
  CHECK(rec["size_bytes"] == 100018);  // from the manifest: what a walk of V finds
  REQUIRE(cli(home, {"upgrade-to", V1}).rc == 0);
  CliResult v = cli(home, {"verify", V1});
  INFO(describe(v));
  CHECK(v.rc == 0);

  SECTION("--create refuses a version that exists, before reading, and changes nothing") {
    Snapshot before = snapshot(home);
    CliResult again = receive(home, V1, stream_for(tree, blobs, all_digests(tree)), tmp, {"--create"});
    CHECK(again.rc == 1);
    CHECK_THAT(again.out, !Catch::Contains("created"));
    CHECK(snapshot_diff(before, snapshot(home)).empty());
  }
  SECTION("--by without --create is bad usage") {
    CliResult bad = receive(home, "2026-11-25T11:00:00", "", tmp, {"--by", "x"});
    CHECK(bad.rc == 2);
    CHECK_THAT(bad.err, Catch::Contains("add --create"));
  }
  SECTION("a failed upload after --create leaves V staged, and says it was created") {
    const std::string V2 = "2026-11-25T11:00:00";
    std::string s = stream_for(tree, blobs, {});
    CliResult cut = receive(home, V2, s.substr(0, s.size() - 3), tmp, {"--create", "--seal"});
    CHECK(cut.rc == 1);
    CHECK(cut.out.rfind("{\"created\":\"" + V2 + "\"}\n", 0) == 0);
    auto rec2 = nlohmann::json::parse(slurp(layout.record(V2)));
    CHECK(rec2["state"] == "staged");
  }
}

TEST_CASE("a truncated stream leaves the version staged, with the reason on both channels") {
  TempDir tmp;
  fs::path home = tmp.path() / "home";
  write(tmp.path() / "src/dist/f", std::string(300000, 'y'));
  auto tree = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
  auto blobs = up::BlobStore::build(tree);
  REQUIRE(cli(home, {"init"}).rc == 0);
  const std::string V = "2026-11-25T10:00:00";
  REQUIRE(cli(home, {"next-version", "--name", V}).rc == 0);
  std::string s = stream_for(tree, blobs, all_digests(tree));
  CliResult r = receive(home, V, s.substr(0, s.size() - 3), tmp);
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("stays staged"));
  CHECK_THAT(r.out, Catch::Contains("\"error\""));
  auto rec = nlohmann::json::parse(slurp(Layout(home).record(V)));
  CHECK(rec["state"] == "staged");
  CHECK(rec["manifest_digest"].is_null());
  CHECK(cli(home, {"upgrade-to", V}).rc == 1);  // a staged version never goes live
  CliResult again = receive(home, V, s, tmp);   // the retry succeeds
  INFO(describe(again));
  CHECK(again.rc == 0);
}

TEST_CASE("a standalone receive holds the deploy lock while its stream is open", "[issue11][process]") {
  TempDir tmp;
  fs::path home = tmp.path() / "home";
  write(tmp.path() / "src/dist/bin/app", "#!/bin/sh\necho v1\n");
  auto tree = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
  auto blobs = up::BlobStore::build(tree);
  REQUIRE(cli(home, {"init"}).rc == 0);
  for (int i = 1; i <= 3; ++i) deploy(home, vname(i));
  const std::string V = vname(10);

  // receive --create --seal V with its stream not sent yet.
  Child rx(server_argv(home, {"receive", "--create", "--seal", V}), {{"PLUGBOX_LOCK_OWNER", ""}});
  auto first = rx.read_line(std::chrono::seconds(10));
  REQUIRE(first);
  CHECK(*first == "{\"created\":\"" + V + "\"}");
  const std::string owner = "receive " + V + " (pid " + std::to_string(rx.pid()) + ")";

  // gc would remove the staged V: it is refused, naming the receive.
  CliResult gc = cli(home, {"gc", "--keep", "2"});
  INFO(describe(gc));
  CHECK(gc.rc == 1);
  CHECK_THAT(gc.err, Catch::Contains("the deploy lock is held by owner '" + owner + "'"));
  CHECK(fs::is_directory(home / "deploy" / V));
  // Under --wait it waits, and gives up while the receive still runs.
  gc = cli(home, {"gc", "--keep", "2", "--wait", "0.3"});
  CHECK(gc.rc == 1);
  CHECK_THAT(gc.err, Catch::Contains("was not released within 0.3 s"));
  CHECK(fs::is_directory(home / "deploy" / V));
  // Other changes too; readers go on.
  CHECK(cli(home, {"rollback-to"}).rc == 1);
  CliResult st = cli(home, {"status", "--json"});
  REQUIRE(st.rc == 0);
  auto j = nlohmann::json::parse(st.out);
  CHECK(j["lock"]["owner"] == owner);
  CHECK(j["lock"]["pid"] == rx.pid());

  // The stream arrives: V is received and sealed, and the lock is free again.
  rx.write_stdin(stream_for(tree, blobs, all_digests(tree)));
  rx.close_stdin();
  CHECK(rx.wait() == 0);
  CHECK(nlohmann::json::parse(slurp(home / "deploy/.plugbox/versions" / (V + ".json")))["state"] == "ready");
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["lock"].is_null());
  CHECK(cli(home, {"gc", "--keep", "2"}).rc == 0);
  CHECK(fs::is_directory(home / "deploy" / V));
}

namespace {

// Uploads `tree` into V through the real binary as a client would (the need
// line answered): returns the digests the host asked for.
std::vector<std::string> upload_via_binary(const fs::path& home, const std::string& v, const up::LocalTree& tree,
                                           const up::BlobStore& blobs) {
  Child rx(server_argv(home, {"receive", "--create", "--seal", v}), {{"PLUGBOX_LOCK_OWNER", ""}});
  up::UploadClient c(tree.manifest, blobs);
  rx.write_stdin(c.initial_bytes());
  std::vector<std::string> need;
  for (;;) {
    auto line = rx.read_line(std::chrono::seconds(20));
    REQUIRE(line);
    const auto j = nlohmann::json::parse(*line);
    if (!j.contains("need")) continue;
    need = j["need"].get<std::vector<std::string>>();
    REQUIRE(c.on_line(*line));
    break;
  }
  std::string chunk;
  while (c.next_chunk(&chunk)) rx.write_stdin(chunk);
  rx.close_stdin();
  INFO(rx.drain_stderr());
  REQUIRE(rx.wait() == 0);
  return need;
}

std::string digest_of(const up::LocalTree& t, const std::string& path_suffix) {
  for (const auto& e : t.manifest.entries)
    if (e.type == up::EntryType::file && e.path.ends_with(path_suffix)) return up::to_hex(e.digest);
  return "";
}

}  // namespace

TEST_CASE("a file changed in place (size and mtime put back) is never linked into a new version",
          "[issue11][process]") {
  TempDir tmp;
  fs::path home = tmp.path() / "home";
  write(tmp.path() / "src/dist/bin/app", "#!/bin/sh\necho v1\n");
  write(tmp.path() / "src/dist/static/big.txt", std::string(100000, 'x'));
  auto tree = up::build_manifest(up::TreeSpec{tmp.path() / "src", std::string("dist"), {}});
  auto blobs = up::BlobStore::build(tree);
  const std::string V1 = vname(1), V2 = vname(2), V3 = vname(3);
  CHECK(upload_via_binary(home, V1, tree, blobs).size() == 2);
  REQUIRE(cli(home, {"upgrade-to", V1}).rc == 0);
  CHECK(fs::is_regular_file(home / "deploy/.plugbox/versions" / (V1 + ".stamps")));

  // Changed in place, same size, its mtime put back (touch -d).
  const fs::path big = home / "deploy" / V1 / "static/big.txt";
  struct stat before;
  REQUIRE(::stat(big.c_str(), &before) == 0);
  {
    int fd = ::open(big.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "CORRUPT", 7, 500) == 7);
    ::close(fd);
  }
  timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, big.c_str(), times, 0) == 0);
  struct stat after;
  REQUIRE(::stat(big.c_str(), &after) == 0);
  REQUIRE(after.st_size == before.st_size);
  REQUIRE(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  // A release with the original content: the host asks for big.txt's content
  // (and only that), links the unchanged file, and V2 verifies.
  auto need = upload_via_binary(home, V2, tree, blobs);
  CHECK(need == std::vector<std::string>{digest_of(tree, "big.txt")});
  CHECK(slurp(home / "deploy" / V2 / "static/big.txt") == std::string(100000, 'x'));
  struct stat a1, a2;
  REQUIRE(::stat((home / "deploy" / V1 / "bin/app").c_str(), &a1) == 0);
  REQUIRE(::stat((home / "deploy" / V2 / "bin/app").c_str(), &a2) == 0);
  CHECK(a1.st_ino == a2.st_ino);
  CliResult v = cli(home, {"verify", V2});
  INFO(describe(v));
  CHECK(v.rc == 0);
  CHECK(cli(home, {"verify", V1}).rc != 0);  // the edit itself is still V1's problem

  // Link counts changing (V1 removed: every shared inode gets a new ctime) do
  // not cost a resend: an unchanged file whose stamp no longer matches is
  // hashed and, still matching, linked.
  REQUIRE(cli(home, {"upgrade-to", V2}).rc == 0);
  REQUIRE(cli(home, {"remove", V1}).rc == 0);
  CHECK(upload_via_binary(home, V3, tree, blobs).empty());
  CHECK(cli(home, {"verify", V3}).rc == 0);
}
