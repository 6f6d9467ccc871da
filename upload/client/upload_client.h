// Client side of one host's upload, as a state machine independent of the
// transport: the transport writes initial_bytes(), feeds each line the server
// prints to on_line(), and whenever may_send() (after the need list, or
// when the host asked for the manifest after all) pulls next_chunk() until it
// returns false; then, if waiting(), it pulls again after the next line,
// else it closes stdin. Backpressure is the caller's: it pulls only when the
// channel can take more.
//
// A content the host offered a base for, which the store can patch against
// (BlobStore::can_patch), goes as a patch; the host answers each patch with
// `patched` or `resend`, and the stream ends only when every patch is
// answered (a resent content goes whole).
//
// With a relay (fan-out, relay_link.h) every needed content is carried to the
// site's relay and the host is told to fetch it from there ('R' frames);
// each fetch is answered `fetched` (or `patched`), or `resend`: then that
// content comes over this stream after all, whole.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "upload/client/blob_store.h"
#include "upload/client/relay_link.h"
#include <nlohmann/json_fwd.hpp>

#include "upload/common/manifest.h"

namespace plugbox::upload {

struct UploadResult {
  std::uint64_t files = 0, files_sent = 0, bytes_sent = 0, files_linked = 0, files_copied = 0;
  std::uint64_t files_patched = 0, patches_failed = 0;
  std::uint64_t files_fetched = 0, bytes_fetched = 0, fetches_failed = 0;
  bool manifest_fetched = false;  // protocol 2: from the relay
};

class UploadClient {
 public:
  // `relay`: the host's site relay, or nullptr (everything over this stream).
  // `protocol`: 2 only to a server known to speak it
  // (HostConn::upload_protocol: its session hello says so); it also needs
  // the store to hold this same manifest (BlobStore::add_manifest), else 1
  // is spoken. In 2 the manifest goes compressed, or, with a relay, is
  // fetched from the relay like a content (stream_format.h).
  UploadClient(const Manifest& manifest, const BlobStore& blobs, RelayLink* relay = nullptr,
               std::uint32_t protocol = 1);

  // hello and the manifest (or, protocol 2 with a relay, the key and the
  // manifest's fetch frame). Once only.
  std::string initial_bytes();
  // A line of the server's stdout. False on a protocol or server error
  // (error() says which).
  bool on_line(const std::string& line);
  // Whether next_chunk() may have something: the need list is known, or the
  // host asked for the manifest after its fetch failed.
  bool may_send() const { return need_known_ || (manifest_asked_ && !manifest_sent_); }
  bool need_known() const { return need_known_; }
  // The server said it created V (`receive --create`).
  bool created() const { return created_; }
  // The next piece of the stream (up to about max_bytes); false when all is
  // sent, or when a content cannot be read (then error() says why and the
  // stream must be cut: the host sees it truncated).
  bool next_chunk(std::string* out, std::size_t max_bytes = 1 << 20);
  // Everything is sent but patches the host has not answered yet: pull
  // again after its next line.
  bool waiting() const { return waiting_; }
  bool done() const { return result_.has_value(); }
  const std::optional<UploadResult>& result() const { return result_; }
  const std::string& error() const { return error_; }
  // Why the first fetch from the relay failed ("" if none did).
  const std::string& fetch_failure() const { return fetch_failure_; }

 private:
  // The compressed manifest's frames (protocol 2), read back from the store.
  std::string manifest_frames();

  const Manifest& manifest_;
  const BlobStore& blobs_;
  RelayLink* relay_;
  std::optional<Digest> manifest_blob_;  // set: protocol 2
  bool manifest_asked_ = false;  // its fetch failed: the frames go next
  bool manifest_sent_ = false;
  bool need_known_ = false, created_ = false;
  bool key_sent_ = false, via_relay_ = false;
  bool host_fans_out_ = false;  // its need line said it takes fan-out frames
  // What is still to send, in order: a content, and the base to patch it
  // against if any.
  struct Item {
    Digest d;
    std::optional<Digest> base;
    bool direct = false;  // asked for again: over this stream, whatever the relay
    std::uint32_t at = 0;  // the manifest index of its first entry (protocol 2's 'R')
  };
  // A need line's list (protocol 1: "need", hex; 2: "need_at", indices) into
  // queue_; false (error_ set) when it names something not in this release.
  bool take_need(const nlohmann::json& j);
  // An answer to the oldest unanswered patch or fetch: `d` (protocol 1 names
  // it, and the server answers in the order they were sent either way).
  bool answered(const Digest& d, const std::string& line);
  std::deque<Item> queue_;
  std::deque<Digest> unanswered_;  // patches and fetches sent, not answered yet, oldest first
  const BlobStore::Blob* cur_ = nullptr;  // the blob of queue_.front() once begun
  std::uint64_t blob_offset_ = 0;
  std::string scratch_;  // the bytes of one chunk read back from the store
  bool end_sent_ = false, waiting_ = false;
  std::optional<UploadResult> result_;
  std::string error_, fetch_failure_;
};

}  // namespace plugbox::upload
