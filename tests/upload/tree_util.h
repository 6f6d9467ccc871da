// Test helpers: temp dirs, tree snapshots (type, mode, mtime, size, content
// digest or link target, inode) and an in-process client<->receiver pump.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "upload/client/blob_store.h"
#include "upload/client/manifest_builder.h"
#include "upload/server/receiver.h"
#include "upload/client/upload_client.h"

namespace plugbox::upload::testutil {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pbx-upload-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    // Read-only dirs from a test must not stop the cleanup.
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
};

inline void write_file(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  ::chmod(p.c_str(), mode);
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Node {
  char type;  // f d l
  unsigned mode;
  long long mtime;
  std::string content;  // file content digest, or link target
  ino_t ino;
  bool operator==(const Node& o) const {
    return type == o.type && (type == 'l' || mode == o.mode) && (type == 'd' || mtime == o.mtime) && content == o.content;
  }
};

// Every entry below root except the chain's top-level links.
inline std::map<std::string, Node> snapshot(const fs::path& root) {
  std::map<std::string, Node> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (rel == "previous" || rel == "next") continue;
    struct stat st;
    ::lstat(it->path().c_str(), &st);
    Node n{};
    n.mode = st.st_mode & 07777;
    n.mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    n.ino = st.st_ino;
    if (S_ISLNK(st.st_mode)) {
      n.type = 'l';
      n.content = fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      n.type = 'd';
    } else {
      n.type = 'f';
      n.content = to_hex(sha256(read_file(it->path())));
    }
    out[rel] = n;
  }
  return out;
}

struct PumpResult {
  bool ok = false;
  std::string client_error, server_error;
  ReceiveStats stats;
  Manifest stored;  // the receiver's manifest(): what the host would store
  std::optional<UploadResult> result;
};

// Runs one upload in process. `mangle` may alter the client's bytes (tests of
// corruption); `cut_after` stops the stream after that many bytes (interrupted).
inline PumpResult pump(const LocalTree& tree, const BlobStore& blobs, const fs::path& version_dir,
                       std::vector<LocalSource> sources,
                       std::function<void(std::string&)> mangle = nullptr, size_t cut_after = SIZE_MAX,
                       LinkRule rule = LinkRule::content, RelayLink* relay = nullptr,
                       std::uint32_t protocol = 1) {
  PumpResult r;
  UploadClient client(tree.manifest, blobs, relay, protocol);
  std::vector<std::string> lines;
  Receiver rx(version_dir.string(), std::move(sources), [&](const std::string& l) { lines.push_back(l); }, rule);
  size_t sent = 0;
  auto send = [&](std::string bytes) {
    if (mangle) mangle(bytes);
    if (sent >= cut_after) return false;
    if (sent + bytes.size() > cut_after) bytes.resize(cut_after - sent);
    sent += bytes.size();
    return rx.feed(bytes);
  };
  auto drain = [&] {
    bool ok = true;
    for (auto& l : lines) ok = client.on_line(l) && ok;
    lines.clear();
    return ok;
  };
  bool ok = send(client.initial_bytes());
  ok = drain() && ok;
  std::string chunk;
  // The receiver answers each patch (and fetch) as its last byte arrives: a client
  // waiting for answers has them after the drain.
  while (ok && (client.need_known() || client.may_send())) {
    if (client.next_chunk(&chunk, 256 * 1024)) ok = send(chunk);
    else if (!client.waiting() || lines.empty()) break;
    ok = drain() && ok;
  }
  if (sent < cut_after) ok = rx.finish() && ok;
  else rx.finish();
  drain();
  r.ok = ok && client.done();
  r.client_error = client.error();
  r.server_error = rx.error();
  r.stats = rx.stats();
  r.stored = rx.manifest();
  r.result = client.result();
  return r;
}

}  // namespace plugbox::upload::testutil
