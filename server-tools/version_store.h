// deploy/.plugbox/versions/<V>.json: what the tool knows about version V
// beyond its tree. A version is its directory deploy/<V>; its record says
// whether it may go live. A directory without a readable record counts as
// staged (it can never go live by accident); a record without a directory is
// a stale leftover that gc sweeps.
//
// Record schema (stable; `receive` (issue 5) fills manifest_digest):
//   {"schema": 1, "name": "2026-11-25T21:40:00", "state": "staged" | "ready",
//    "created": "2026-11-25T21:39:12Z", "by": "alice@laptop" | null,
//    "source_rev": "9f2c1e0" | null, "manifest_digest": "sha256:..." | null,
//    "size_bytes": 123456 | null,      // set when sealed (the tree is final then)
//    "sealed": "2026-11-25T21:39:40Z" | null}
// Unknown keys are kept when a record is rewritten.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server-tools/layout.h"

namespace plugbox::server {

enum class VersionState { staged, ready };
const char* to_string(VersionState s);

struct VersionRecord {
  std::string name;
  VersionState state = VersionState::staged;
  std::string created;
  std::optional<std::string> by;
  std::optional<std::string> source_rev;
  std::optional<std::string> manifest_digest;
  std::optional<std::uint64_t> size_bytes;
  std::optional<std::string> sealed;
  nlohmann::json extra = nlohmann::json::object();  // keys this version does not know

  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming the bad key.
  static VersionRecord from_json(const nlohmann::json& j);
};

struct RecordLookup {
  enum class Kind { absent, ok, unreadable } kind = Kind::absent;
  std::optional<VersionRecord> record;  // when ok
  std::string problem;                  // when unreadable
};

class VersionStore {
 public:
  explicit VersionStore(Layout layout) : layout_(std::move(layout)) {}

  RecordLookup lookup(const std::string& name) const;
  // Atomic replace (temporary file + rename + fsync): a reader or a crash sees
  // the old record or the new one.
  void write(const VersionRecord& record) const;
  void remove(const std::string& name) const;
  // Names of every record file present (valid version names only), sorted.
  std::vector<std::string> names() const;

 private:
  Layout layout_;
};

}  // namespace plugbox::server
