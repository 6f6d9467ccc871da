#include "server-tools/host_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "base/unique_fd.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace fs = std::filesystem;

namespace plugbox::server {

namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::json or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

std::function<std::optional<int>(const HostRecord&)>& write_fault() {
  static std::function<std::optional<int>(const HostRecord&)> f;
  return f;
}

}  // namespace

nlohmann::json HostRecord::to_json() const {
  nlohmann::json st = nlohmann::json::array();
  for (const auto& s : steps) {
    nlohmann::json j = {{"name", s.name}, {"state", s.state}, {"exit", s.exit}};
    if (!s.error.empty()) j["error"] = s.error;
    st.push_back(std::move(j));
  }
  return {{"schema", 1},          {"run", run},     {"kind", kind},   {"owner", owner},
          {"from", or_null(from)}, {"to", to},      {"state", state}, {"txn", or_null(txn)},
          {"steps", st},          {"service_stopped", service_stopped}, {"updated", updated}};
}

HostRecord HostRecord::from_json(const nlohmann::json& j) {
  HostRecord r;
  r.run = str(j, "run");
  r.kind = str(j, "kind");
  r.owner = str(j, "owner");
  r.from = str(j, "from");
  r.to = str(j, "to");
  r.state = str(j, "state");
  r.txn = str(j, "txn");
  r.updated = str(j, "updated");
  if (auto it = j.find("service_stopped"); it != j.end() && it->is_boolean()) r.service_stopped = it->get<bool>();
  if (auto it = j.find("steps"); it != j.end() && it->is_array())
    for (const auto& s : *it) {
      StepState st;
      st.name = str(s, "name");
      st.state = str(s, "state");
      if (auto e = s.find("exit"); e != s.end() && e->is_number_integer()) st.exit = e->get<int>();
      st.error = str(s, "error");
      r.steps.push_back(std::move(st));
    }
  return r;
}

std::optional<HostRecord> read_host_record(const Layout& layout, std::string* problem) {
  std::error_code ec;
  if (!std::filesystem::exists(layout.host_record(), ec)) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(read_file(layout.host_record()));
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    return HostRecord::from_json(j);
  } catch (const std::exception& e) {
    if (problem) *problem = "the host record " + layout.host_record().string() + " is unreadable: " + e.what();
    return std::nullopt;
  }
}

void set_host_record_write_fault_for_tests(std::function<std::optional<int>(const HostRecord&)> fault) {
  write_fault() = std::move(fault);
}

namespace {

// Comfortably above any record (a few steps, each with a short error).
constexpr off_t kSpareBytes = 64 * 1024;

// Makes the spare if there is none of full size: allocated under a temporary
// name and renamed into place, so the spare is whole or absent. Best effort:
// without a spare, a write on a full disk fails as it would anyway.
void ensure_spare(const Layout& layout) {
  struct stat st;
  const fs::path spare = layout.host_record_spare();
  if (::lstat(spare.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= kSpareBytes) return;
  const fs::path tmp = layout.tmp() / ("host.json.spare." + std::to_string(::getpid()));
  base::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return;
  // posix_fallocate, not sparse writes of nothing: the blocks must be the
  // file's own, so that filling them later needs no free space.
  if (::posix_fallocate(fd.get(), 0, kSpareBytes) != 0 || ::fsync(fd.get()) != 0 ||
      ::rename(tmp.c_str(), spare.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  try {
    fsync_dir(layout.state());
  } catch (const std::exception&) {
  }
}

// Writes `content` into the spare's own blocks, cuts it to size and renames
// it over the record. False (the record untouched) when there is no usable
// spare or any step fails.
bool write_into_spare(const Layout& layout, std::string_view content) {
  const fs::path spare = layout.host_record_spare();
  base::UniqueFd fd(::open(spare.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(content.size()))
    return false;
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::pwrite(fd.get(), content.data() + done, content.size() - done, static_cast<off_t>(done));
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0 || ::fsync(fd.get()) != 0) return false;
  if (::rename(spare.c_str(), layout.host_record().c_str()) != 0) return false;
  try {
    fsync_dir(layout.state());
  } catch (const std::exception&) {
    // The rename is made; only its durability across a power cut is in doubt,
    // as after any record write whose directory fsync fails.
  }
  return true;
}

}  // namespace

void write_host_record(const Layout& layout, HostRecord record) {
  if (auto& f = write_fault())
    if (auto err = f(record)) sys_fail("write " + layout.host_record().string(), *err);
  record.updated = utc_timestamp(std::chrono::system_clock::now());
  const std::string content = record.to_json().dump() + "\n";
  try {
    write_file_atomic(layout.host_record(), content, layout.tmp());
  } catch (const ServerError&) {
    // A full disk: the record must still say what happened (that the service
    // was started again, above all), so the reserved blocks take it.
    if (!write_into_spare(layout, content)) throw;
  }
  ensure_spare(layout);
}

}  // namespace plugbox::server
