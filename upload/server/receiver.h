// The server side of the upload (`plugbox-server receive V`): turns a parsed
// stream into exactly the manifest's tree inside the version directory.
//
// Replies are JSON; file names need not be UTF-8, so invalid bytes are
// replaced in messages (error_handler_t::replace) rather than throwing.
//
// Every write is relative to the version directory's fd, walking parents with
// O_NOFOLLOW|O_DIRECTORY, so nothing is ever written outside it, whatever the
// stream says. Directory fds are kept open between files (walking every path
// again was most of the receiver's system time); a directory swapped or moved
// by someone else while the upload runs fails the upload at the end, when
// each one is reopened from V and compared by inode. Nothing is fsynced per
// file: one syncfs when the tree is complete, before the reply `done`. Contents arrive under a temporary name, are checked against the
// manifest's size and SHA-256, and only then renamed into place. Files whose
// digest, mode and mtime match a file of a local ready version are hard-linked
// from it (content matching but metadata differing: copied locally), so only
// contents no version has cross the network.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "upload/common/manifest.h"
#include "upload/common/stream_format.h"

namespace plugbox::upload {

// A ready version on this host whose files may be reused.
struct LocalSource {
  std::string dir;  // the version directory
  Manifest manifest;
};

struct ReceiveStats {
  std::uint64_t files = 0, dirs = 0, symlinks = 0;
  std::uint64_t files_sent = 0;     // contents that came over the stream
  std::uint64_t bytes_sent = 0;     // compressed bytes of those
  std::uint64_t bytes_written = 0;  // uncompressed bytes of those
  std::uint64_t files_linked = 0;   // hard-linked from a local version
  std::uint64_t files_copied = 0;   // copied from a local file or a duplicate
};

class Receiver {
 public:
  // `version_dir` must exist; `reply` gets each JSON line for the client
  // (hello, need, done, error) and must deliver it at once (flush).
  Receiver(std::string version_dir, std::vector<LocalSource> sources,
           std::function<void(const std::string&)> reply);
  ~Receiver();

  bool feed(std::string_view bytes);
  // At EOF. True when the whole tree is in place and verified.
  bool finish();
  const std::string& error() const { return error_; }
  const ReceiveStats& stats() const { return stats_; }
  const Manifest& manifest() const { return manifest_; }

 private:
  struct Impl;
  bool fail(const std::string& msg);

  // The stream's events (StreamParser::Events), in the order they arrive;
  // each returns false with *err set to refuse the upload.
  bool on_manifest(Manifest&& m, std::string* err);
  bool on_file_begin(const Digest& d, std::uint64_t raw, std::string* err);
  bool on_file_data(std::string_view compressed, std::string* err);
  bool on_file_end(std::string* err);
  bool on_end(std::string* err);
  // The steps of on_manifest and on_end.
  bool clear_earlier_attempt(std::string* err);
  bool create_entries(std::string* err);
  bool place_local_contents(std::vector<std::string>* need, std::string* err);
  bool finish_directories(std::string* err);

  std::unique_ptr<Impl> impl_;
  StreamParser parser_;
  Manifest manifest_;
  ReceiveStats stats_;
  std::string error_;
  bool replied_error_ = false;
  std::function<void(const std::string&)> reply_;
};

}  // namespace plugbox::upload
