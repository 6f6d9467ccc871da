#include "upload/common/stream_format.h"

#include <zstd.h>

#include <memory>

#include "upload/common/wire.h"

namespace plugbox::upload {

namespace {
void put_frame(std::string* out, std::uint8_t kind, std::string_view payload) {
  wire::put_u8(*out, kind);
  wire::put_u32(*out, static_cast<std::uint32_t>(payload.size()));
  out->append(payload);
}

std::string manifest_frames(std::string_view bytes, std::uint64_t raw_size, const Digest& d) {
  std::string out;
  for (size_t off = 0; off < bytes.size(); off += kMaxFramePayload)
    put_frame(&out, kManifestChunk, bytes.substr(off, kMaxFramePayload));
  std::string end;
  wire::put_u64(end, raw_size);
  end.append(reinterpret_cast<const char*>(d.data()), d.size());
  put_frame(&out, kManifestEnd, end);
  return out;
}

struct DCtxFree {
  void operator()(ZSTD_DCtx* p) const { ZSTD_freeDCtx(p); }
};
}  // namespace

std::string encode_hello(std::uint32_t version) {
  std::string out(kMagic);
  wire::put_u32(out, version);
  return out;
}

std::string encode_manifest(const Manifest& m) {
  std::string bytes = m.encode();
  return manifest_frames(bytes, bytes.size(), sha256(bytes));
}

std::string encode_manifest_compressed(std::string_view compressed, std::uint64_t raw_size, const Digest& digest) {
  return manifest_frames(compressed, raw_size, digest);
}

std::string encode_manifest_fetch(const Digest& digest, std::uint64_t raw_size, std::uint64_t compressed_size) {
  std::string p(reinterpret_cast<const char*>(digest.data()), digest.size());
  wire::put_u64(p, raw_size);
  wire::put_u64(p, compressed_size);
  std::string out;
  put_frame(&out, kManifestFetch, p);
  return out;
}

bool decompress_manifest(std::string_view frame, std::uint64_t raw_size, std::string* out, std::string* why) {
  out->clear();
  if (raw_size > kMaxManifestBytes) return *why = "the manifest is said to exceed 1 GiB", false;
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return *why = "out of memory for zstd", false;
  // Grown as it decodes, never past the announced length: the length comes
  // from the stream, and is not trusted for an allocation up front.
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  std::string buf(64 * 1024, '\0');
  for (;;) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const size_t r = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(r)) return *why = std::string("the compressed manifest does not decode: ") + ZSTD_getErrorName(r), false;
    if (out->size() + o.pos > raw_size) return *why = "the compressed manifest is longer than announced", false;
    out->append(buf.data(), o.pos);
    if (r == 0) break;  // the frame is complete
    if (in.pos == in.size && o.pos < o.size) return *why = "the compressed manifest is truncated", false;
  }
  if (in.pos != in.size) return *why = "the compressed manifest has bytes after its frame", false;
  if (out->size() != raw_size) return *why = "the compressed manifest is shorter than announced", false;
  return true;
}

std::string encode_file_begin(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size) {
  std::string p(reinterpret_cast<const char*>(d.data()), d.size());
  wire::put_u64(p, raw_size);
  wire::put_u64(p, compressed_size);
  std::string out;
  put_frame(&out, kFileBegin, p);
  return out;
}

std::string encode_patch_begin(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size,
                               const Digest& base) {
  std::string p(reinterpret_cast<const char*>(d.data()), d.size());
  wire::put_u64(p, raw_size);
  wire::put_u64(p, compressed_size);
  p.append(reinterpret_cast<const char*>(base.data()), base.size());
  std::string out;
  put_frame(&out, kPatchBegin, p);
  return out;
}

void encode_file_data(std::string_view compressed, std::string* out) {
  for (size_t off = 0; off < compressed.size(); off += kMaxFramePayload)
    put_frame(out, kFileData, compressed.substr(off, kMaxFramePayload));
}

std::string encode_end() {
  std::string out;
  put_frame(&out, kStreamEnd, {});
  return out;
}

std::string encode_fan_out_key(std::string_view key32, std::string_view token32, const std::string& endpoint) {
  std::string p(key32);
  p += token32;
  wire::put_str(p, endpoint);
  std::string out;
  put_frame(&out, kFanOutKey, p);
  return out;
}

std::string encode_relay_fetch(const Digest& d, std::uint64_t raw_size, std::uint64_t compressed_size,
                               const Digest* base) {
  std::string p(reinterpret_cast<const char*>(d.data()), d.size());
  wire::put_u64(p, raw_size);
  wire::put_u64(p, compressed_size);
  if (base) p.append(reinterpret_cast<const char*>(base->data()), base->size());
  else p.append(32, '\0');
  std::string out;
  put_frame(&out, kRelayFetch, p);
  return out;
}

std::string encode_relay_fetch_at(std::uint32_t index, bool patch) {
  std::string p;
  wire::put_u32(p, index);
  wire::put_u8(p, patch ? 1 : 0);
  std::string out;
  put_frame(&out, kRelayFetch, p);
  return out;
}

bool StreamParser::fail(std::string msg) {
  if (state_ != State::failed) error_ = std::move(msg);
  state_ = State::failed;
  return false;
}

bool StreamParser::feed(std::string_view bytes) {
  if (state_ == State::failed) return false;
  buf_.append(bytes);
  size_t pos = 0;
  auto consumed = [&] { buf_.erase(0, pos); };
  if (state_ == State::hello) {
    if (buf_.size() < kMagic.size() + 4) {
      if (std::string_view(buf_).substr(0, kMagic.size()) != kMagic.substr(0, std::min(buf_.size(), kMagic.size())))
        return fail("not a plugbox upload stream (bad hello): is the client a different program?");
      return true;
    }
    if (std::string_view(buf_).substr(0, kMagic.size()) != kMagic)
      return fail("not a plugbox upload stream (bad hello): is the client a different program?");
    wire::Reader r(std::string_view(buf_).substr(kMagic.size(), 4));
    std::uint32_t v = 0;
    r.u32(&v);
    if (v < kOldestProtocolVersion || v > kProtocolVersion)
      return fail("upload protocol " + std::to_string(v) + " is not supported (this server speaks " +
                  std::to_string(kOldestProtocolVersion) + " to " + std::to_string(kProtocolVersion) +
                  "): install matching plugbox and plugbox-server versions");
    version_ = v;
    pos = kMagic.size() + 4;
    state_ = State::manifest;
  }
  while (state_ != State::failed && state_ != State::done) {
    if (buf_.size() - pos < 5) break;
    wire::Reader r(std::string_view(buf_).substr(pos, 5));
    std::uint8_t kind;
    std::uint32_t len;
    r.u8(&kind);
    r.u32(&len);
    if (len > kMaxFramePayload + 64) {
      consumed();
      return fail("upload frame of " + std::to_string(len) + " bytes exceeds the limit: the stream is corrupt");
    }
    if (buf_.size() - pos < 5 + size_t(len)) break;
    std::string_view payload = std::string_view(buf_).substr(pos + 5, len);
    pos += 5 + len;
    if (!frame(kind, payload)) {
      consumed();
      return false;
    }
  }
  if (state_ == State::done && pos < buf_.size()) {
    consumed();
    return fail("upload stream has bytes after its end frame");
  }
  consumed();
  return state_ != State::failed;
}

bool StreamParser::frame(std::uint8_t kind, std::string_view payload) {
  std::string err;
  switch (state_) {
    case State::manifest:
      if (kind == kManifestChunk) {
        if (manifest_bytes_.size() + payload.size() > kMaxManifestBytes) return fail("upload manifest exceeds 1 GiB");
        manifest_bytes_.append(payload);
        return true;
      }
      if (kind == kManifestEnd) {
        wire::Reader r(payload);
        std::uint64_t len;
        std::string_view d;
        if (!r.u64(&len) || !r.bytes(32, &d) || !r.empty()) return fail("upload manifest end frame is malformed");
        std::string bytes = std::move(manifest_bytes_);
        manifest_bytes_ = std::string();
        if (version_ >= 2) {
          std::string raw, why;
          if (!decompress_manifest(bytes, len, &raw, &why)) return fail("upload manifest: " + why + ": the stream is corrupt");
          bytes = std::move(raw);
        }
        if (len != bytes.size()) return fail("upload manifest is truncated: the stream is corrupt");
        auto got = sha256(bytes);
        if (std::string_view(reinterpret_cast<const char*>(got.data()), 32) != d)
          return fail("upload manifest digest mismatch: the stream is corrupt");
        return take_manifest(std::move(bytes));
      }
      if (kind == kFanOutKey && version_ >= 2) return fan_out_key(payload);
      if (kind == kManifestFetch && version_ >= 2) {
        wire::Reader r(payload);
        std::string_view d;
        std::uint64_t raw, comp;
        if (!r.bytes(32, &d) || !r.u64(&raw) || !r.u64(&comp) || !r.empty())
          return fail("upload manifest fetch frame is malformed");
        if (!ev_.on_manifest_fetch) return fail("upload stream: a fan-out frame, which this receiver does not take");
        if (manifest_fetch_tried_ || !manifest_bytes_.empty())
          return fail("upload stream: a second manifest fetch, or one after the manifest's frames began");
        manifest_fetch_tried_ = true;
        Digest digest;
        std::memcpy(digest.data(), d.data(), 32);
        std::optional<std::string> fetched;
        if (!ev_.on_manifest_fetch(digest, raw, comp, &fetched, &err)) return fail(err);
        if (!fetched) return true;  // asked for directly: its frames follow
        return take_manifest(std::move(*fetched));
      }
      return fail("upload stream: expected the manifest, got frame '" + std::string(1, char(kind)) + "'");
    case State::files:
      if (kind == kFileBegin || kind == kPatchBegin) {
        const bool patch = kind == kPatchBegin;
        wire::Reader r(payload);
        std::string_view d, b;
        std::uint64_t raw, comp;
        if (!r.bytes(32, &d) || !r.u64(&raw) || !r.u64(&comp) || (patch && !r.bytes(32, &b)) || !r.empty())
          return fail(patch ? "upload patch frame is malformed" : "upload file frame is malformed");
        Digest digest, base{};
        std::memcpy(digest.data(), d.data(), 32);
        if (patch) std::memcpy(base.data(), b.data(), 32);
        data_left_ = comp;
        state_ = State::file_data;
        if (patch) {
          if (!ev_.on_patch_begin) return fail("upload stream: a patch frame, which this receiver does not take");
          if (!ev_.on_patch_begin(digest, raw, comp, base, &err)) return fail(err);
        } else if (ev_.on_file_begin && !ev_.on_file_begin(digest, raw, comp, &err)) {
          return fail(err);
        }
        if (data_left_ == 0) {
          state_ = State::files;
          if (ev_.on_file_end && !ev_.on_file_end(&err)) return fail(err);
        }
        return true;
      }
      if (kind == kFanOutKey) return fan_out_key(payload);
      if (kind == kRelayFetch && version_ >= 2) {
        wire::Reader r(payload);
        std::uint32_t index;
        std::uint8_t flags;
        if (!r.u32(&index) || !r.u8(&flags) || flags > 1 || !r.empty())
          return fail("upload relay fetch frame is malformed");
        if (!ev_.on_relay_fetch_at) return fail("upload stream: a fan-out frame, which this receiver does not take");
        if (!ev_.on_relay_fetch_at(index, flags == 1, &err)) return fail(err);
        return true;
      }
      if (kind == kRelayFetch) {
        wire::Reader r(payload);
        std::string_view d, b;
        std::uint64_t raw, comp;
        if (!r.bytes(32, &d) || !r.u64(&raw) || !r.u64(&comp) || !r.bytes(32, &b) || !r.empty())
          return fail("upload relay fetch frame is malformed");
        Digest digest, base;
        std::memcpy(digest.data(), d.data(), 32);
        std::memcpy(base.data(), b.data(), 32);
        const bool whole = base == Digest{};
        if (!ev_.on_relay_fetch) return fail("upload stream: a fan-out frame, which this receiver does not take");
        if (!ev_.on_relay_fetch(digest, raw, comp, whole ? nullptr : &base, &err)) return fail(err);
        return true;
      }
      if (kind == kStreamEnd) {
        if (!payload.empty()) return fail("upload end frame is malformed");
        state_ = State::done;
        if (ev_.on_end && !ev_.on_end(&err)) return fail(err);
        return true;
      }
      return fail("upload stream: expected a file or the end, got frame '" + std::string(1, char(kind)) + "'");
    case State::file_data:
      if (kind != kFileData) return fail("upload stream: a file's data is cut short (got frame '" + std::string(1, char(kind)) + "')");
      if (payload.size() > data_left_) return fail("upload stream: a file has more data than announced");
      data_left_ -= payload.size();
      if (ev_.on_file_data && !ev_.on_file_data(payload, &err)) return fail(err);
      if (data_left_ == 0) {
        state_ = State::files;
        if (ev_.on_file_end && !ev_.on_file_end(&err)) return fail(err);
      }
      return true;
    default:
      return fail("upload stream: unexpected frame");
  }
}

bool StreamParser::take_manifest(std::string bytes) {
  std::string err;
  Manifest m;
  if (!Manifest::decode(bytes, &m, &err)) return fail("upload manifest refused: " + err);
  state_ = State::files;
  if (ev_.on_manifest && !ev_.on_manifest(std::move(m), &err)) return fail(err);
  return true;
}

bool StreamParser::fan_out_key(std::string_view payload) {
  wire::Reader r(payload);
  std::string_view key, token;
  std::string endpoint, err;
  if (!r.bytes(32, &key) || !r.bytes(32, &token) || !r.str(&endpoint, 300) || !r.empty())
    return fail("upload fan-out key frame is malformed");
  if (!ev_.on_fan_out_key) return fail("upload stream: a fan-out frame, which this receiver does not take");
  if (!ev_.on_fan_out_key(key, token, endpoint, &err)) return fail(err);
  return true;
}

bool StreamParser::finish() {
  if (state_ == State::failed) return false;
  if (state_ != State::done) return fail("upload stream truncated: the connection closed before the end frame");
  return true;
}

}  // namespace plugbox::upload
