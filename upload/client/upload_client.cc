#include "upload/client/upload_client.h"

#include <nlohmann/json.hpp>

#include "upload/common/stream_format.h"

namespace plugbox::upload {

UploadClient::UploadClient(const Manifest& manifest, const BlobStore& blobs) : manifest_(manifest), blobs_(blobs) {}

std::string UploadClient::initial_bytes() const { return encode_hello() + encode_manifest(manifest_); }

bool UploadClient::on_line(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error_ = "upload: the server printed something that is not protocol: " + line.substr(0, 200), false;
  if (j.contains("error")) return error_ = "upload refused by the host: " + j["error"].get<std::string>(), false;
  if (j.contains("created") && j["created"].is_string() && !need_known_ && !created_) {
    created_ = true;
    return true;
  }
  if (j.contains("need") && j["need"].is_array() && !need_known_) {
    for (const auto& h : j["need"]) {
      Digest d;
      if (!h.is_string() || !from_hex(h.get<std::string>(), &d) || !blobs_.has(d))
        return error_ = "upload: the host asked for content that is not in this release", false;
      need_.push_back(d);
    }
    need_known_ = true;
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
    result_ = r;
    return true;
  }
  return error_ = "upload: unexpected line from the host: " + line.substr(0, 200), false;
}

bool UploadClient::next_chunk(std::string* out, std::size_t max_bytes) {
  out->clear();
  if (!need_known_ || end_sent_) return false;
  while (out->size() < max_bytes && next_blob_ < need_.size()) {
    const auto* blob = blobs_.find(need_[next_blob_], &error_);
    if (!blob) return false;  // unreadable or changed since hashed: error() says which
    if (!blob_started_) {
      *out += encode_file_begin(need_[next_blob_], blob->raw_size, blob->compressed.size());
      blob_started_ = true;
      blob_offset_ = 0;
    }
    std::size_t take = std::min(max_bytes - std::min(max_bytes, out->size()), blob->compressed.size() - blob_offset_);
    if (take == 0 && blob_offset_ < blob->compressed.size()) break;
    encode_file_data(std::string_view(blob->compressed).substr(blob_offset_, take), out);
    blob_offset_ += take;
    if (blob_offset_ == blob->compressed.size()) {
      ++next_blob_;
      blob_started_ = false;
    }
  }
  if (next_blob_ == need_.size() && out->size() < max_bytes) {
    *out += encode_end();
    end_sent_ = true;
  }
  return !out->empty();
}

}  // namespace plugbox::upload
