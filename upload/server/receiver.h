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
// file: one syncfs when the tree is complete, before the reply `done`.
// Contents arrive under a temporary name, are checked against the
// manifest's size and SHA-256, and only then renamed into place. Files whose
// digest and mode match a file of a local ready version (or an earlier file
// of the same upload) are hard-linked from it, keeping that file's mtime,
// which the stored manifest then records (LinkRule); content matching but the
// mode differing: copied locally. So only contents no version has cross the
// network, and N versions of an unchanged tree take one copy of it on disk
// whatever the build did to its mtimes. A local file is trusted to hold
// its manifest's content only while its inode and ctime are those stamped
// when its version was received; otherwise (changed in place, or a link
// count change of our own: linking and gc touch ctime too) it is hashed once
// and used only if it still matches, else its content is asked for.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "upload/common/manifest.h"
#include "upload/common/stream_format.h"

namespace plugbox::upload {

// Who a file of a version was when the version was received: its inode and
// ctime. A file changed in place since (even with its size and mtime put
// back, `touch -d`) has a new ctime, which no user can set back.
struct FileStamp {
  std::uint64_t ino = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// A ready version on this host whose files may be reused.
struct LocalSource {
  std::string dir;  // the version directory
  Manifest manifest;
  // One per manifest entry (zero for non-files), as stamp_files() took them
  // when the version was received; empty when none were recorded.
  std::vector<FileStamp> stamps;
};

// When a local file with the content and mode an entry wants may be
// hard-linked into the version although its mtime differs.
//  content      yes: the version's file keeps the mtime the content had when
//               it first arrived, and manifest() says so. The default. Why:
//               most builds (`make dist`, `npm ci`, `cp -r`) give every file a
//               new mtime, and linking only exact mtimes made every deploy of
//               such a build a full copy on every host.
//  exact_mtime  no: it is copied with the client's mtime (a service that needs
//               each release's build mtimes, `[service] exact_mtimes`).
enum class LinkRule { content, exact_mtime };

struct ReceiveStats {
  std::uint64_t files = 0, dirs = 0, symlinks = 0;
  std::uint64_t files_sent = 0;     // contents that came over the stream
  std::uint64_t bytes_sent = 0;     // compressed bytes of those
  std::uint64_t bytes_written = 0;  // uncompressed bytes of those
  std::uint64_t files_linked = 0;   // hard-linked from a local version
  std::uint64_t files_copied = 0;   // copied from a local file or a duplicate
  std::uint64_t files_patched = 0;  // of files_sent: came as a patch against a local file
  std::uint64_t patches_failed = 0; // patches whose base or result did not match: asked for whole
  std::uint64_t files_fetched = 0;  // of files_sent: fetched from the site's relay (fan-out)
  std::uint64_t bytes_fetched = 0;  // sealed bytes of those, read from the relay
  std::uint64_t fetches_failed = 0; // fetches that failed (relay unreachable or gone, bad tag): asked for whole
  bool manifest_fetched = false;    // protocol 2: the manifest came from the relay, not over the stream
};

class Receiver {
 public:
  // `version_dir` must exist; `reply` gets each JSON line for the client
  // (hello, need, done, error) and must deliver it at once (flush).
  Receiver(std::string version_dir, std::vector<LocalSource> sources,
           std::function<void(const std::string&)> reply, LinkRule rule);
  ~Receiver();

  bool feed(std::string_view bytes);
  // At EOF. True when the whole tree is in place and verified.
  bool finish();
  const std::string& error() const { return error_; }
  const ReceiveStats& stats() const { return stats_; }
  // The tree as it is in the version: the client's manifest, except that
  // under LinkRule::content a linked file's mtime is the one it kept.
  const Manifest& manifest() const { return manifest_; }
  // After finish(): the stamp of each manifest entry's file as it is now in
  // the version (zero for non-files), for LocalSource::stamps of later
  // uploads. Empty (and error() set) when a file cannot be looked at.
  std::vector<FileStamp> stamp_files();

 private:
  struct Impl;
  bool fail(const std::string& msg);

  // The stream's events (StreamParser::Events), in the order they arrive;
  // each returns false with *err set to refuse the upload.
  bool on_manifest(Manifest&& m, std::string* err);
  bool on_file_begin(const Digest& d, std::uint64_t raw, std::string* err);
  bool on_patch_begin(const Digest& d, std::uint64_t raw, const Digest& base, std::string* err);
  // The part of on_file_begin and on_patch_begin that checks the content was
  // asked for and opens its temporary file.
  bool begin_content(const Digest& d, std::uint64_t raw, std::string* err);
  // After need (manifest indices): which needed contents may come as
  // patches, and against what; keyed by hex digest (protocol 1) or by index.
  void offer_bases(const std::vector<std::size_t>& need, bool by_index, nlohmann::json* reply);
  // The answers to patches and fetches: `patched`/`fetched` lines (protocol
  // 1), or a count of those answered since the last line (2); a `resend`
  // line names its content either way, after the count of those before it.
  void answer_ok(const char* verdict, const Digest& d);
  void answer_resend(const Digest& d, const std::string& why);
  void flush_answers();
  // A patch that cannot be used: its data is skipped, and at its end the
  // content is asked for whole (`resend`).
  void drop_patch();
  // Fan-out: the deploy's key, token and relay; then contents fetched from
  // the relay (each fed to the same checks as a content of the stream).
  bool on_fan_out_key(std::string_view key, std::string_view token, const std::string& endpoint, std::string* err);
  // `compressed`: the size announced (protocol 1), or nullopt (2: the
  // sealed box's own length and tag vouch for it).
  bool on_relay_fetch(const Digest& d, std::uint64_t raw, std::optional<std::uint64_t> compressed, const Digest* base,
                      std::string* err);
  bool on_relay_fetch_at(std::uint32_t index, bool patch, std::string* err);
  // Protocol 2: the manifest itself from the relay; a failure is answered
  // `resend_manifest` and its frames follow.
  bool on_manifest_fetch(const Digest& d, std::uint64_t raw, std::uint64_t compressed,
                         std::optional<std::string>* fetched, std::string* err);
  bool on_file_data(std::string_view compressed, std::string* err);
  bool on_file_end(std::string* err);
  bool on_end(std::string* err);
  // The steps of on_manifest and on_end.
  bool clear_earlier_attempt(std::string* err);
  bool create_entries(std::string* err);
  bool place_local_contents(std::vector<std::size_t>* need, std::string* err);
  bool finish_directories(std::string* err);

  std::unique_ptr<Impl> impl_;
  StreamParser parser_;
  Manifest manifest_;
  ReceiveStats stats_;
  std::string error_;
  bool replied_error_ = false;
  std::uint64_t ok_unsaid_ = 0;  // protocol 2: answers not yet counted in a line
  std::function<void(const std::string&)> reply_;
};

}  // namespace plugbox::upload
