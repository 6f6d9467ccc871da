#include "server-tools/version_store.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace plugbox::server {

const char* to_string(VersionState s) { return s == VersionState::ready ? "ready" : "staged"; }

namespace {

const char* const known_keys[] = {"schema", "name",  "state",      "created", "by",
                                  "source_rev", "manifest_digest", "size_bytes", "sealed"};

nlohmann::json opt(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

std::optional<std::string> opt_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw std::invalid_argument(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace

nlohmann::json VersionRecord::to_json() const {
  nlohmann::json j = extra;
  j["schema"] = 1;
  j["name"] = name;
  j["state"] = to_string(state);
  j["created"] = created;
  j["by"] = opt(by);
  j["source_rev"] = opt(source_rev);
  j["manifest_digest"] = opt(manifest_digest);
  j["size_bytes"] = size_bytes ? nlohmann::json(*size_bytes) : nlohmann::json(nullptr);
  j["sealed"] = opt(sealed);
  return j;
}

VersionRecord VersionRecord::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  VersionRecord r;
  auto name = opt_string(j, "name");
  if (!name || !is_version_name(*name)) throw std::invalid_argument("\"name\" is not a version name");
  r.name = *name;
  auto state = opt_string(j, "state");
  if (state == "ready")
    r.state = VersionState::ready;
  else if (state == "staged")
    r.state = VersionState::staged;
  else
    throw std::invalid_argument("\"state\" is neither \"staged\" nor \"ready\"");
  r.created = opt_string(j, "created").value_or("");
  r.by = opt_string(j, "by");
  r.source_rev = opt_string(j, "source_rev");
  r.manifest_digest = opt_string(j, "manifest_digest");
  r.sealed = opt_string(j, "sealed");
  if (auto it = j.find("size_bytes"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) throw std::invalid_argument("\"size_bytes\" is not a size");
    r.size_bytes = it->get<std::uint64_t>();
  }
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(std::begin(known_keys), std::end(known_keys), it.key()) == std::end(known_keys))
      r.extra[it.key()] = it.value();
  return r;
}

RecordLookup VersionStore::lookup(const std::string& name) const {
  RecordLookup out;
  const auto path = layout_.record(name);
  FileKind k = kind_of(path);
  if (k == FileKind::absent) return out;
  out.kind = RecordLookup::Kind::unreadable;
  if (k != FileKind::regular) {
    out.problem = path.string() + " is not a regular file";
    return out;
  }
  std::string text;
  try {
    text = read_file(path);
  } catch (const ServerError& e) {
    out.problem = e.what();
    return out;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    out.problem = path.string() + " is not valid JSON";
    return out;
  }
  try {
    VersionRecord r = VersionRecord::from_json(j);
    if (r.name != name) throw std::invalid_argument("it names version " + r.name);
    out.record = std::move(r);
    out.kind = RecordLookup::Kind::ok;
  } catch (const std::exception& e) {
    out.problem = path.string() + ": " + e.what();
  }
  return out;
}

void VersionStore::write(const VersionRecord& record) const {
  write_file_atomic(layout_.record(record.name), record.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", layout_.tmp());
}

void VersionStore::remove(const std::string& name) const {
  remove_file(layout_.record(name));
  remove_file(layout_.manifest(name));  // a manifest without its version would mislead dedup
  remove_file(layout_.stamps(name));
}

std::vector<std::string> VersionStore::names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(layout_.versions(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.size() > 5 && f.ends_with(".json") && is_version_name(f.substr(0, f.size() - 5)))
      out.push_back(f.substr(0, f.size() - 5));
  }
  if (ec) sys_fail("read " + layout_.versions().string(), ec);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace plugbox::server
