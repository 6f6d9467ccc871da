#include "server-tools/chain_state.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace fs = std::filesystem;

namespace plugbox::server {

namespace {

ChainLink parse_link(const Layout& layout, const fs::path& link, std::string_view prefix) {
  ChainLink out;
  FileKind k = kind_of(link);
  if (k == FileKind::absent) return out;
  out.kind = ChainLink::Kind::broken;
  if (k != FileKind::symlink) {
    out.problem = link.string() + " is not a symlink";
    return out;
  }
  out.text = read_link(link);
  std::string_view t = out.text;
  if (!t.starts_with(prefix) || !is_version_name(t.substr(prefix.size()))) {
    out.problem = link.string() + " -> '" + out.text + "' does not name a version as '" +
                  std::string(prefix) + "YYYY-MM-DDTHH:MM:SS'";
    return out;
  }
  std::string name(t.substr(prefix.size()));
  if (kind_of(layout.version_dir(name)) != FileKind::directory) {
    out.problem = link.string() + " -> '" + out.text + "': no such version";
    return out;
  }
  out.kind = ChainLink::Kind::ok;
  out.target = std::move(name);
  return out;
}

}  // namespace

ChainLink read_version_link(const Layout& layout, const fs::path& link) {
  return parse_link(layout, link, "../");
}

ChainLink read_live_link(const Layout& layout) { return parse_link(layout, layout.live(), ""); }

VersionState VersionView::state() const {
  return record.kind == RecordLookup::Kind::ok ? record.record->state : VersionState::staged;
}

std::vector<std::string> VersionView::problems() const {
  std::vector<std::string> out;
  if (record.kind == RecordLookup::Kind::absent)
    out.push_back("version " + name + " has no record (an interrupted next-version?)");
  if (record.kind == RecordLookup::Kind::unreadable) out.push_back(record.problem);
  if (previous.kind == ChainLink::Kind::broken) out.push_back(previous.problem);
  if (next.kind == ChainLink::Kind::broken) out.push_back(next.problem);
  if (previous.ok() && previous.target == name) out.push_back("version " + name + " is its own previous");
  if (next.ok() && next.target == name) out.push_back("version " + name + " is its own next");
  return out;
}

const VersionView* ChainState::find(const std::string& name) const {
  auto it = versions.find(name);
  return it == versions.end() ? nullptr : &it->second;
}

std::optional<std::string> ChainState::live_name() const {
  if (!live.ok()) return std::nullopt;
  return live.target;
}

std::vector<std::string> ChainState::chain_from_live() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::optional<std::string> cur = live_name();
  while (cur && seen.insert(*cur).second) {
    out.push_back(*cur);
    const VersionView* v = find(*cur);
    if (!v || !v->previous.ok()) break;
    cur = v->previous.target;
  }
  return out;
}

std::vector<std::string> ChainState::problems() const {
  std::vector<std::string> out;
  if (live.kind == ChainLink::Kind::broken) out.push_back(live.problem);
  if (auto l = live_name()) {
    if (const VersionView* v = find(*l); v && v->state() != VersionState::ready)
      out.push_back("the live version " + *l + " is not ready");
  }
  for (const auto& [name, v] : versions)
    for (auto& p : v.problems()) out.push_back(p);
  for (const auto& r : stale_records)
    out.push_back("record " + r + ".json has no version directory (gc removes it)");
  return out;
}

ChainState scan_chain(const Layout& layout) {
  ChainState st;
  VersionStore store(layout);
  std::error_code ec;
  for (fs::directory_iterator it(layout.deploy(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f == "live" || f == ".plugbox") continue;
    if (is_version_name(f) && kind_of(it->path()) == FileKind::directory) {
      VersionView v;
      v.name = f;
      v.record = store.lookup(f);
      v.previous = read_version_link(layout, it->path() / "previous");
      v.next = read_version_link(layout, it->path() / "next");
      st.versions.emplace(f, std::move(v));
    } else {
      st.strays.push_back(f);
    }
  }
  if (ec) sys_fail("read " + layout.deploy().string(), ec);
  std::sort(st.strays.begin(), st.strays.end());
  st.live = read_live_link(layout);
  for (const auto& r : store.names())
    if (!st.versions.count(r)) st.stale_records.push_back(r);
  return st;
}

}  // namespace plugbox::server
