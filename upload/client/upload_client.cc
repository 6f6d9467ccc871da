#include "upload/client/upload_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "upload/common/relay_format.h"
#include "upload/common/stream_format.h"

namespace plugbox::upload {

UploadClient::UploadClient(const Manifest& manifest, const BlobStore& blobs, RelayLink* relay, std::uint32_t protocol)
    : manifest_(manifest), blobs_(blobs), relay_(relay) {
  if (protocol >= 2) manifest_blob_ = blobs_.manifest_blob();
}

std::string UploadClient::manifest_frames() {
  const BlobStore::Blob* b = blobs_.find(*manifest_blob_, &error_);
  std::string compressed;
  if (!b || !blobs_.read(*b, 0, b->size, &compressed, &error_)) return "";
  return encode_manifest_compressed(compressed, b->raw_size, *manifest_blob_);
}

// Protocol 2 with a relay: the key now, so that the host can fetch the
// manifest; the site's other hosts fetch the same copy, which crossed the
// link once. Without a relay the manifest goes compressed over this stream.
std::string UploadClient::initial_bytes() {
  if (!manifest_blob_) return encode_hello() + encode_manifest(manifest_);
  std::string out = encode_hello(2);
  key_sent_ = true;
  if (relay_)
    if (auto k = relay_->key_frame()) {
      const BlobStore::Blob* b = blobs_.find(*manifest_blob_, &error_);
      if (!b) return "";
      relay_->carry(relay_id(*manifest_blob_, nullptr), blobs_, *b);
      via_relay_ = true;
      return out + *k + encode_manifest_fetch(*manifest_blob_, b->raw_size, b->size);
    }
  std::string frames = manifest_frames();
  if (frames.empty()) return "";
  return out + frames;
}

bool UploadClient::on_line(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error_ = "upload: the server printed something that is not protocol: " + line.substr(0, 200), false;
  if (j.contains("error")) return error_ = "upload refused by the host: " + j["error"].get<std::string>(), false;
  if (j.contains("created") && j["created"].is_string() && !need_known_ && !created_) {
    created_ = true;
    return true;
  }
  if (j.contains("resend_manifest") && via_relay_ && !need_known_ && !manifest_asked_) {
    // The relay did not serve this host: nothing more goes through it.
    manifest_asked_ = true;
    via_relay_ = false;
    if (j["resend_manifest"].is_string()) fetch_failure_ = j["resend_manifest"];
    return true;
  }
  const bool by_index = manifest_blob_.has_value();
  if (j.contains(by_index ? "need_at" : "need") && !need_known_) {
    if (!take_need(j)) return false;
    need_known_ = true;
    host_fans_out_ = j.value("fan_out", false);
    return true;
  }
  if (by_index && j.contains("ok") && j["ok"].is_number_unsigned()) {
    const auto n = j["ok"].get<std::uint64_t>();
    if (n == 0 || n > unanswered_.size())
      return error_ = "upload: the host answered more patches or fetches than were sent: " + line.substr(0, 200), false;
    unanswered_.erase(unanswered_.begin(), unanswered_.begin() + std::ptrdiff_t(n));
    waiting_ = false;
    return true;
  }
  for (const char* verdict : {"patched", "fetched", "resend"}) {
    if (!j.contains(verdict)) continue;
    if (by_index && std::string_view(verdict) != "resend") break;  // protocol 2 counts them ("ok")
    Digest d;
    if (!j[verdict].is_string() || !from_hex(j[verdict].get<std::string>(), &d) || !answered(d, line)) return false;
    if (std::string_view(verdict) == "resend") {
      queue_.push_back({d, std::nullopt, /*direct=*/true});
      if (fetch_failure_.empty() && j.contains("why") && j["why"].is_string()) fetch_failure_ = j["why"];
    }
    waiting_ = false;
    return true;
  }
  if (j.contains("done") && j["done"].is_object()) {
    const auto& d = j["done"];
    UploadResult r;
    r.files = d.value("files", 0ull);
    r.files_sent = d.value("files_sent", 0ull);
    r.bytes_sent = d.value("bytes_sent", 0ull);
    r.files_linked = d.value("files_linked", 0ull);
    r.files_copied = d.value("files_copied", 0ull);
    r.files_patched = d.value("files_patched", 0ull);
    r.patches_failed = d.value("patches_failed", 0ull);
    r.files_fetched = d.value("files_fetched", 0ull);
    r.bytes_fetched = d.value("bytes_fetched", 0ull);
    r.fetches_failed = d.value("fetches_failed", 0ull);
    r.manifest_fetched = d.value("manifest_fetched", false);
    result_ = r;
    return true;
  }
  return error_ = "upload: unexpected line from the host: " + line.substr(0, 200), false;
}

bool UploadClient::take_need(const nlohmann::json& j) {
  const bool by_index = manifest_blob_.has_value();
  const auto& list = j[by_index ? "need_at" : "need"];
  const char* bases_key = by_index ? "bases_at" : "bases";
  const nlohmann::json no_bases = nlohmann::json::object();
  const auto& bases = j.contains(bases_key) && j[bases_key].is_object() ? j[bases_key] : no_bases;
  const std::string bad = "upload: the host asked for content that is not in this release";
  if (!list.is_array()) return error_ = bad, false;
  for (const auto& n : list) {
    Item item;
    std::string key;
    if (by_index) {
      if (!n.is_number_unsigned() || n.get<std::uint64_t>() >= manifest_.entries.size()) return error_ = bad, false;
      item.at = n.get<std::uint32_t>();
      const Entry& e = manifest_.entries[item.at];
      if (e.type != EntryType::file) return error_ = bad, false;
      item.d = e.digest;
      key = std::to_string(item.at);
    } else {
      if (!n.is_string() || !from_hex(n.get<std::string>(), &item.d)) return error_ = bad, false;
      key = n.get<std::string>();
    }
    if (!blobs_.has(item.d)) return error_ = bad, false;
    Digest base;
    if (auto b = bases.find(key);
        b != bases.end() && b->is_string() && from_hex(b->get<std::string>(), &base) && blobs_.can_patch(base))
      item.base = base;
    queue_.push_back(item);
  }
  return true;
}

bool UploadClient::answered(const Digest& d, const std::string& line) {
  auto it = std::find(unanswered_.begin(), unanswered_.end(), d);
  if (it == unanswered_.end())
    return error_ = "upload: the host answered a patch or fetch that was not sent: " + line.substr(0, 200), false;
  unanswered_.erase(it);
  return true;
}

bool UploadClient::next_chunk(std::string* out, std::size_t max_bytes) {
  out->clear();
  waiting_ = false;
  if (manifest_asked_ && !manifest_sent_) {
    manifest_sent_ = true;
    *out = manifest_frames();
    return !out->empty();
  }
  if (!need_known_ || end_sent_) return false;
  if (!key_sent_) {
    key_sent_ = true;
    if (relay_ && host_fans_out_ && !queue_.empty())
      if (auto k = relay_->key_frame()) {
        *out += *k;
        via_relay_ = true;
      }
  }
  // Relay frames are ~10 bytes: one chunk could name thousands of contents,
  // each compressed (on first use) right here on the caller's thread, the
  // event loop. Bounded, so other hosts' streams move between chunks.
  constexpr std::uint64_t kRelayRawPerChunk = 4 << 20;
  std::uint64_t relayed_raw = 0;
  while (out->size() < max_bytes && !queue_.empty() && relayed_raw < kRelayRawPerChunk) {
    Item& item = queue_.front();
    if (!cur_) {
      if (item.base) {
        cur_ = blobs_.find_patch(item.d, *item.base, &error_);
        if (!cur_ && !error_.empty()) return false;
        if (!cur_) item.base.reset();  // the base cannot be read after all: whole
      }
      if (!cur_) cur_ = blobs_.find(item.d, &error_);
      if (!cur_) return false;  // unreadable or changed since hashed: error() says which
      if (via_relay_ && !item.direct) {
        const Digest* base = item.base ? &*item.base : nullptr;
        relay_->carry(relay_id(item.d, base), blobs_, *cur_);
        *out += manifest_blob_ ? encode_relay_fetch_at(item.at, base != nullptr)
                               : encode_relay_fetch(item.d, cur_->raw_size, cur_->size, base);
        unanswered_.push_back(item.d);
        relayed_raw += cur_->raw_size;
        queue_.pop_front();
        cur_ = nullptr;
        continue;
      }
      *out += item.base ? encode_patch_begin(item.d, cur_->raw_size, cur_->size, *item.base)
                        : encode_file_begin(item.d, cur_->raw_size, cur_->size);
      blob_offset_ = 0;
    }
    std::size_t take = std::min<std::uint64_t>(max_bytes - std::min(max_bytes, out->size()), cur_->size - blob_offset_);
    if (take == 0 && blob_offset_ < cur_->size) break;
    scratch_.clear();
    if (!blobs_.read(*cur_, blob_offset_, take, &scratch_, &error_)) return false;
    encode_file_data(scratch_, out);
    blob_offset_ += take;
    if (blob_offset_ == cur_->size) {
      if (item.base) unanswered_.push_back(item.d);
      queue_.pop_front();
      cur_ = nullptr;
    }
  }
  if (queue_.empty() && !unanswered_.empty()) {
    waiting_ = true;  // a `resend` may still come: the end frame waits for every answer
    return !out->empty();
  }
  if (queue_.empty() && out->size() < max_bytes) {
    *out += encode_end();
    end_sent_ = true;
  }
  return !out->empty();
}

}  // namespace plugbox::upload
