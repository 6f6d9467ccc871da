// The upload stream, protocol versions 1 and 2 (docs: upload/PROTOCOL.md).
// The client writes: hello, the manifest in one or more frames, then for each
// content the server asked for a file-begin frame (or, against a base the
// server offered, a patch-begin frame) and its zstd data frames, then an end
// frame. StreamParser is the server's incremental parser: it takes
// the bytes in any chunking and emits events, refusing anything out of order,
// oversized or truncated. It is the libFuzzer target.
//
// Version 2: the manifest's frames carry one zstd frame of it, and with
// fan-out the manifest may instead be fetched from the site's relay ('K'
// then 'X'); after it, contents are named by their index in the manifest
// (the need line, 'R' frames) and answered in order, by count. Why: with
// contents crossing a site's link once, what each host's own stream carried
// was most of the link's bytes: its manifest (0.27 MB for 2000 files, most
// of a redeploy), and on a first deploy its need line, its 'R' frames and
// its answers (0.4 MB a host, against one copy of the release for the whole
// site). A client speaks 2 only to a server it knows
// (plugbox's own build), so a pinned older server still gets version 1.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "upload/common/manifest.h"

namespace plugbox::upload {

// The newest version; a server takes kOldestProtocolVersion to it.
inline constexpr std::uint32_t kProtocolVersion = 2;
inline constexpr std::uint32_t kOldestProtocolVersion = 1;
inline constexpr std::string_view kMagic = "PBXUPLD\n";
inline constexpr std::uint32_t kMaxFramePayload = 1u << 20;   // 1 MiB
inline constexpr std::uint64_t kMaxManifestBytes = 1ull << 30;

enum FrameKind : std::uint8_t {
  kManifestChunk = 'M',
  kManifestEnd = 'm',   // u64 manifest length, 32-byte sha256 of it
  kFileBegin = 'F',     // 32-byte digest, u64 raw size, u64 compressed size
  kFileData = 'D',      // compressed bytes of the current file
  // 32-byte digest, u64 raw size, u64 compressed size, 32-byte base digest:
  // the content as one zstd frame compressed with the base's content as its
  // prefix (zstd's patch-from), which the server has and offered.
  kStreamEnd = 'E',
  kPatchBegin = 'P',
  // Fan-out (relay_format.h): 32-byte key, 32-byte token, str endpoint. At
  // most once, before any fetch.
  kFanOutKey = 'K',
  // 32-byte digest, u64 raw size, u64 compressed size, 32-byte base digest
  // (zeros: the whole content): fetch it sealed from the site's relay
  // instead of reading it here. No data frames follow.
  // Version 2: u32 the manifest index of the content's first entry, u8 1
  // when it comes as a patch against the base the server offered, else 0.
  kRelayFetch = 'R',
  // Version 2, instead of the manifest's frames, after 'K': 32-byte sha256
  // of the manifest, u64 its length, u64 its compressed size: fetch it from
  // the relay (as a whole content with that digest). When that fails the
  // server says so ("resend_manifest") and the frames follow after all.
  kManifestFetch = 'X',
};

// A patch's base and its content are each at most this big: the server holds
// the base in memory while it decodes, and the frame's window covers both
// (zstd's decoder refuses windows above 2^27 by default).
inline constexpr std::uint64_t kMaxPatchBytes = 48ull << 20;
// Contents smaller than this are never patched: a patch would save a few
// hundred bytes and cost the host a read and a hash of its base.
inline constexpr std::uint64_t kMinPatchBytes = 1024;

// Client side: frame builders (pure; tests compare bytes).
std::string encode_hello(std::uint32_t version = kOldestProtocolVersion);
// Version 1: the manifest's encoding in chunk frames, then the end frame.
std::string encode_manifest(const Manifest& m);
// Version 2: `compressed` (one zstd frame of the manifest's encoding, whose
// length and digest are given) in chunk frames, then the end frame.
std::string encode_manifest_compressed(std::string_view compressed, std::uint64_t raw_size, const Digest& digest);
std::string encode_manifest_fetch(const Digest& digest, std::uint64_t raw_size, std::uint64_t compressed_size);
// One zstd frame of a manifest's encoding, opened: false with *why when it
// does not decode to exactly raw_size bytes (never allocating past that).
bool decompress_manifest(std::string_view frame, std::uint64_t raw_size, std::string* out, std::string* why);
std::string encode_file_begin(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size);
std::string encode_patch_begin(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size,
                               const Digest& base);
// Appends data frames carrying `compressed` to out.
void encode_file_data(std::string_view compressed, std::string* out);
std::string encode_end();
std::string encode_fan_out_key(std::string_view key32, std::string_view token32, const std::string& endpoint);
std::string encode_relay_fetch(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size,
                               const Digest* base);
std::string encode_relay_fetch_at(std::uint32_t index, bool patch);  // version 2

class StreamParser {
 public:
  struct Events {
    std::function<bool(Manifest&&, std::string* error)> on_manifest;
    std::function<bool(const Digest&, std::uint64_t raw, std::uint64_t compressed, std::string* error)> on_file_begin;
    std::function<bool(std::string_view compressed, std::string* error)> on_file_data;
    std::function<bool(std::string* error)> on_file_end;  // after the last data byte of a file
    std::function<bool(std::string* error)> on_end;
    // A patch (last, so the others keep their places): then its data and
    // on_file_end, as for a file. Unset: patch frames are refused.
    std::function<bool(const Digest&, std::uint64_t raw, std::uint64_t compressed, const Digest& base,
                       std::string* error)>
        on_patch_begin;
    // Fan-out (last too). Unset: these frames are refused.
    std::function<bool(std::string_view key, std::string_view token, const std::string& endpoint, std::string* error)>
        on_fan_out_key;
    std::function<bool(const Digest&, std::uint64_t raw, std::uint64_t compressed, const Digest* base,
                       std::string* error)>
        on_relay_fetch;
    // Version 2's 'X': *fetched gets the manifest's encoding as fetched (and
    // checked against the digest and length), or stays empty when it could
    // not be had (then the manifest's frames must follow). Unset: refused.
    std::function<bool(const Digest&, std::uint64_t raw, std::uint64_t compressed,
                       std::optional<std::string>* fetched, std::string* error)>
        on_manifest_fetch;
    // Version 2's 'R' (last too).
    std::function<bool(std::uint32_t index, bool patch, std::string* error)> on_relay_fetch_at;
  };
  explicit StreamParser(Events ev) : ev_(std::move(ev)) {}

  // Feeds bytes; false on the first error (then error() says why, and every
  // later call fails too).
  bool feed(std::string_view bytes);
  // Call at EOF: false unless the end frame arrived ("stream truncated").
  bool finish();
  const std::string& error() const { return error_; }
  bool done() const { return state_ == State::done; }
  std::uint32_t version() const { return version_; }

 private:
  enum class State { hello, manifest, files, file_data, done, failed };
  bool fail(std::string msg);
  bool frame(std::uint8_t kind, std::string_view payload);
  // The manifest's encoding is in hand (checked against its digest): decode
  // it and hand it on.
  bool take_manifest(std::string bytes);
  bool fan_out_key(std::string_view payload);

  Events ev_;
  State state_ = State::hello;
  std::string buf_;
  std::string manifest_bytes_;
  std::uint64_t data_left_ = 0;
  std::uint32_t version_ = 0;
  bool manifest_fetch_tried_ = false;
  std::string error_;
};

}  // namespace plugbox::upload
