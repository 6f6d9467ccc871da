#include "server-tools/host_record.h"

#include <chrono>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

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

void write_host_record(const Layout& layout, HostRecord record) {
  if (auto& f = write_fault())
    if (auto err = f(record)) sys_fail("write " + layout.host_record().string(), *err);
  record.updated = utc_timestamp(std::chrono::system_clock::now());
  write_file_atomic(layout.host_record(), record.to_json().dump() + "\n", layout.tmp());
}

}  // namespace plugbox::server
