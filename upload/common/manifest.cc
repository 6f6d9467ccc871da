#include "upload/common/manifest.h"

#include <unordered_map>

#include "upload/common/wire.h"

namespace plugbox::upload {

std::string Manifest::encode() const {
  std::string out;
  wire::put_u32(out, static_cast<std::uint32_t>(entries.size()));
  for (const auto& e : entries) {
    wire::put_u8(out, static_cast<std::uint8_t>(e.type));
    wire::put_str(out, e.path);
    wire::put_u32(out, e.mode);
    wire::put_u64(out, e.size);
    wire::put_u64(out, static_cast<std::uint64_t>(e.mtime_ns));
    if (e.type == EntryType::file) out.append(reinterpret_cast<const char*>(e.digest.data()), 32);
    if (e.type == EntryType::symlink) wire::put_str(out, e.target);
  }
  return out;
}

bool Manifest::decode(std::string_view bytes, Manifest* out, std::string* error) {
  wire::Reader r(bytes);
  std::uint32_t n;
  out->entries.clear();
  if (!r.u32(&n)) return *error = "manifest is truncated (no entry count)", false;
  if (n > kMaxEntries) return *error = "manifest has " + std::to_string(n) + " entries, more than the limit", false;
  out->entries.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    Entry e;
    std::uint8_t type;
    std::uint64_t mtime;
    if (!r.u8(&type)) return *error = "manifest is truncated at entry " + std::to_string(i), false;
    if (type < 1 || type > 3)
      return *error = "manifest entry " + std::to_string(i) + " has type " + std::to_string(type) +
                      ": only files, directories and symlinks are uploaded (no devices, fifos or sockets)",
             false;
    e.type = static_cast<EntryType>(type);
    if (!r.str(&e.path, kMaxPathLen) || !r.u32(&e.mode) || !r.u64(&e.size) || !r.u64(&mtime))
      return *error = "manifest is truncated at entry " + std::to_string(i), false;
    e.mtime_ns = static_cast<std::int64_t>(mtime);
    if (e.type == EntryType::file) {
      std::string_view d;
      if (!r.bytes(32, &d)) return *error = "manifest is truncated at entry " + std::to_string(i), false;
      std::memcpy(e.digest.data(), d.data(), 32);
    }
    if (e.type == EntryType::symlink && !r.str(&e.target, kMaxPathLen))
      return *error = "manifest is truncated at entry " + std::to_string(i), false;
    out->entries.push_back(std::move(e));
  }
  if (!r.empty()) return *error = "manifest has trailing bytes", false;
  *error = validate(*out);
  return error->empty();
}

std::uint64_t Manifest::total_file_bytes() const {
  std::uint64_t t = 0;
  for (const auto& e : entries)
    if (e.type == EntryType::file) t += e.size;
  return t;
}

std::string validate_path(std::string_view path) {
  auto quoted = "'" + std::string(path.substr(0, 200)) + "'";
  if (path.empty()) return "an entry has an empty path";
  if (path.find('\0') != std::string_view::npos) return "path " + quoted + " contains a NUL byte";
  if (path.size() > kMaxPathLen) return "path " + quoted + "... is longer than 4096 bytes";
  if (path.front() == '/') return "path " + quoted + " is absolute: only paths inside the version are allowed";
  size_t start = 0;
  bool first = true;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto part = path.substr(start, end - start);
    if (part.empty()) return "path " + quoted + " has an empty component";
    if (part == "." || part == "..") return "path " + quoted + " contains '" + std::string(part) + "'";
    if (first && (part == "previous" || part == "next"))
      return "path " + quoted + " is reserved: top-level 'previous' and 'next' are the version chain's links; rename it in the app";
    first = false;
    start = end + 1;
  }
  return "";
}

std::string validate(const Manifest& m) {
  std::unordered_map<std::string_view, EntryType> seen;
  seen.reserve(m.entries.size());
  for (const auto& e : m.entries) {
    if (auto err = validate_path(e.path); !err.empty()) return err;
    if (e.mode & ~07777u) return "path '" + e.path + "' has mode bits outside 07777";
    if (e.type != EntryType::file && e.size != 0) return "path '" + e.path + "' is not a file but has a size";
    if (e.type == EntryType::symlink && (e.target.empty() || e.target.find('\0') != std::string::npos))
      return "symlink '" + e.path + "' has an empty or NUL-containing target";
    auto slash = e.path.rfind('/');
    if (slash != std::string::npos) {
      auto parent = std::string_view(e.path).substr(0, slash);
      auto it = seen.find(parent);
      if (it == seen.end()) return "path '" + e.path + "' comes before its directory '" + std::string(parent) + "'";
      if (it->second != EntryType::dir)
        return "path '" + e.path + "' lies under '" + std::string(parent) + "', which is not a directory (writes through symlinks are refused)";
    }
    if (!seen.emplace(e.path, e.type).second) return "path '" + e.path + "' appears twice";
  }
  return "";
}

}  // namespace plugbox::upload
