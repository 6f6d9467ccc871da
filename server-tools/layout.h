// Where everything lives in a service home (docs/DESIGN.md §2), and whether a home is
// a plugbox layout at all. Nothing here changes the disk.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace plugbox::server {

struct Layout {
  explicit Layout(std::filesystem::path home_dir);  // made absolute, not resolved

  std::filesystem::path home;
  std::filesystem::path home_live() const { return home / "live"; }  // -> deploy/live
  std::filesystem::path config() const { return home / "config"; }
  std::filesystem::path deploy() const { return home / "deploy"; }
  std::filesystem::path live() const { return deploy() / "live"; }
  std::filesystem::path version_dir(std::string_view v) const { return deploy() / v; }

  // The tool's own state, inside deploy/ so it moves with the versions.
  std::filesystem::path state() const { return deploy() / ".plugbox"; }
  std::filesystem::path versions() const { return state() / "versions"; }
  std::filesystem::path record(std::string_view v) const {
    return versions() / (std::string(v) + ".json");
  }
  // The upload manifest of V (written by `receive`), beside its record.
  std::filesystem::path manifest(std::string_view v) const {
    return versions() / (std::string(v) + ".manifest");
  }
  // The inode and ctime of each file of V when it was received (`receive`),
  // beside its manifest: a later upload links a file of V only while both are
  // unchanged (upload/server/receiver.h).
  std::filesystem::path stamps(std::string_view v) const {
    return versions() / (std::string(v) + ".stamps");
  }
  std::filesystem::path lock() const { return state() / "lock"; }      // the deploy lock
  std::filesystem::path oplock() const { return state() / "oplock"; }  // one command at a time
  std::filesystem::path log() const { return state() / "log"; }
  // The host record (host_record.h): the last run that changed this host,
  // each step of its switch, and whether the service was left stopped.
  std::filesystem::path host_record() const { return state() / "host.json"; }
  // Space kept in reserve for the host record's next write on a full disk.
  std::filesystem::path host_record_spare() const { return state() / "host.json.spare"; }
  // Held by a running switch transaction (switch_txn.h) for its whole life,
  // whoever holds the deploy lock meanwhile.
  std::filesystem::path txn_lock() const { return state() / "txn.lock"; }
  // The maintenance hold (hold.h): present while `plugbox fleet lock` holds
  // this home, whatever process runs or dies meanwhile.
  std::filesystem::path hold() const { return state() / "hold"; }
  // Temporary links and files, renamed into place from here.
  std::filesystem::path tmp() const { return state() / "tmp"; }
  // Versions being deleted are renamed here first, so a half-deleted tree is
  // never visible under deploy/.
  std::filesystem::path trash() const { return state() / "trash"; }
};

// The text of HOME/live, the convenience link made by init.
inline constexpr std::string_view home_live_target = "deploy/live";

// Why `layout` is not a plugbox layout that commands other than init can work
// on (one line naming the home and the fix), or nullopt when it is one.
std::optional<std::string> layout_problem(const Layout& layout);

// True when nothing was ever deployed to the home: it is a directory without
// deploy/.plugbox/, and init (or `receive --create`) could lay it out without
// disturbing anything. `status` reports such a home as not initialised rather
// than refusing it, so a client never needs to know where the layout lives.
// A home that does not exist, or holds a deploy/ that is not ours, is not
// one: those are mistakes to name, not a first deploy.
bool never_deployed(const Layout& layout);

// Why init cannot create or complete the layout without disturbing something
// that is not ours, or nullopt when it can.
std::optional<std::string> init_problem(const Layout& layout);

}  // namespace plugbox::server
