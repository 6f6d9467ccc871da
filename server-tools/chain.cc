#include "server-tools/chain.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "server-tools/chain_state.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/gc_plan.h"
#include "server-tools/version_name.h"
#include "server-tools/version_store.h"

namespace fs = std::filesystem;

namespace plugbox::server {

std::optional<std::string> provenance_problem(const std::string& option, const std::string& value) {
  if (value.size() > 256) return option + " is longer than 256 characters";
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return option + " holds a control character";
  return std::nullopt;
}

void require_version_name(const std::string& name, const std::string& what) {
  if (auto p = version_name_problem(name))
    bad_input("'" + name + "' is not a " + what + " (" + *p +
              "): a version name is a UTC time YYYY-MM-DDTHH:MM:SS, e.g. 2026-11-25T21:40:00");
}

namespace {

std::string home_of(const Layout& l) { return l.home.string(); }

[[noreturn]] void refuse_unknown(const Layout& l, const std::string& v) {
  refuse("no version " + v + " in " + l.deploy().string() +
         ": `plugbox-server --home " + home_of(l) + " status` lists the versions");
}

const VersionView& require_version(const Layout& l, const ChainState& st, const std::string& v) {
  const VersionView* vv = st.find(v);
  if (!vv) refuse_unknown(l, v);
  return *vv;
}

void require_ready(const Layout& l, const VersionView& vv) {
  if (vv.state() == VersionState::ready) return;
  if (vv.record.kind == RecordLookup::Kind::unreadable)
    refuse("version " + vv.name + " cannot go live: " + vv.record.problem +
           "; remove it and stage it again");
  if (vv.record.kind == RecordLookup::Kind::absent)
    refuse("version " + vv.name +
           " has no record (an interrupted next-version?), so it is not ready: remove it and "
           "stage it again");
  refuse("version " + vv.name + " is staged, not ready: seal it (plugbox-server --home " +
         home_of(l) + " seal " + vv.name + ") once its upload and post-upload steps succeeded");
}

// A chain link we are about to replace must be a symlink (or absent): a
// regular file or directory there belongs to the uploaded tree.
void require_replaceable(const fs::path& link) {
  FileKind k = kind_of(link);
  if (k != FileKind::absent && k != FileKind::symlink)
    refuse(link.string() +
           " is not a symlink: an uploaded tree may not carry a top-level previous or next; "
           "remove that version and upload it without them");
}

std::string now_utc() { return utc_timestamp(std::chrono::system_clock::now()); }

}  // namespace

LoggedChange Chain::intend(const std::string& command, std::vector<std::string> versions,
                           nlohmann::json detail) {
  return LoggedChange(layout_.log(), actor_, LogEntry{command, std::move(versions), std::move(detail)});
}

void Chain::note(std::optional<std::string> warning) {
  if (warning) warnings_.push_back(std::move(*warning));
}

void Chain::sweep_leftovers() {
  for (const fs::path& dir : {layout_.tmp(), layout_.trash()}) {
    if (make_dir(dir, 0700)) continue;
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(it->path());
    if (ec) sys_fail("read " + dir.string(), ec);
    for (const auto& e : entries) remove_tree(e);
  }
}

void Chain::require_new_version(const std::string& v) const {
  const fs::path dir = layout_.version_dir(v);
  if (FileKind k = kind_of(dir); k != FileKind::absent) {
    std::string what = "exists";
    if (k == FileKind::directory) {
      RecordLookup r = VersionStore(layout_).lookup(v);
      what = r.kind == RecordLookup::Kind::ok ? std::string("exists (") + to_string(r.record->state) + ")"
                                              : "exists (staged, no readable record)";
    } else {
      what = "exists as something other than a version directory";
    }
    refuse("version " + v + " " + what + " in " + layout_.deploy().string() +
           ": choose another name, or remove it first (plugbox-server --home " + home_of(layout_) +
           " remove " + v + ")");
  }
}

std::string Chain::next_version(const MutationGuard&, const NextVersionOptions& opts) {
  const std::string v = opts.name.value_or(version_name_at(std::chrono::system_clock::now()));
  require_version_name(v);
  if (opts.by)
    if (auto p = provenance_problem("--by", *opts.by)) bad_input(*p);
  if (opts.source_rev)
    if (auto p = provenance_problem("--source-rev", *opts.source_rev)) bad_input(*p);

  require_new_version(v);
  const fs::path dir = layout_.version_dir(v);
  const ChainLink live = read_live_link(layout_);

  nlohmann::json detail{{"previous", live.ok() ? nlohmann::json(live.target) : nlohmann::json()},
                        {"by", opts.by ? nlohmann::json(*opts.by) : nlohmann::json()},
                        {"source_rev", opts.source_rev ? nlohmann::json(*opts.source_rev)
                                                       : nlohmann::json()}};
  LoggedChange change = intend("next-version", {v}, detail);
  change.run([&] {
    sweep_leftovers();
    if (::mkdir(dir.c_str(), 0755) != 0) sys_fail("mkdir " + dir.string(), errno);
    fsync_dir(layout_.deploy());
    try {
      if (live.ok()) replace_symlink(dir / "previous", version_link_text(live.target), layout_.tmp());

      VersionRecord rec;
      rec.name = v;
      rec.state = VersionState::staged;
      rec.created = now_utc();
      rec.by = opts.by;
      rec.source_rev = opts.source_rev;
      VersionStore(layout_).write(rec);
    } catch (...) {
      // A refused next-version must leave nothing behind: its caller (the
      // client, after a refused receive --create) was never told V exists, so
      // nobody would remove a record-less V, and status would report it for
      // ever. Removing an empty directory needs no space, so a full disk
      // (the usual cause) does not stop it. If even this fails, V stays as a
      // staged version without a record, which gc removes.
      std::error_code ec;
      try {
        VersionStore(layout_).remove(v);  // a record renamed into place before a later failure
      } catch (...) {
      }
      fs::remove_all(dir, ec);
      if (!ec) {
        try {
          fsync_dir(layout_.deploy());
        } catch (...) {
        }
      }
      throw;
    }
  });
  note(change.done(std::move(detail)));
  return v;
}

Outcome Chain::seal(const MutationGuard&, const std::string& v, std::optional<std::uint64_t> known_size) {
  require_version_name(v);
  const ChainState st = scan_chain(layout_);
  const VersionView& vv = require_version(layout_, st, v);
  if (vv.record.kind == RecordLookup::Kind::ok && vv.record.record->state == VersionState::ready)
    return {false, "version " + v + " is already ready", {}, {}};
  if (vv.record.kind == RecordLookup::Kind::unreadable)
    refuse("cannot seal " + v + ": " + vv.record.problem + "; remove it and stage it again");
  if (vv.record.kind == RecordLookup::Kind::absent)
    refuse("cannot seal " + v +
           ": it has no record (an interrupted next-version?); remove it and stage it again");
  // What the client promised (docs/DESIGN.md §2): no top-level next in an uploaded
  // tree, and previous only as the link next-version made.
  if (kind_of(layout_.version_dir(v) / "next") != FileKind::absent)
    refuse("cannot seal " + v + ": it has a top-level `next`, which an uploaded tree may not "
           "carry; remove it and upload again without it");
  if (vv.previous.kind == ChainLink::Kind::broken)
    refuse("cannot seal " + v + ": " + vv.previous.problem +
           " (an uploaded tree may not carry a top-level `previous`); remove it and upload again");

  LoggedChange change = intend("seal", {v}, nlohmann::json::object());
  VersionRecord rec = *vv.record.record;
  change.run([&] {
    sweep_leftovers();
    rec.state = VersionState::ready;
    rec.size_bytes = known_size ? *known_size : tree_size(layout_.version_dir(v));
    rec.sealed = now_utc();
    VersionStore(layout_).write(rec);
  });
  note(change.done({{"size_bytes", *rec.size_bytes}}));
  return {true, "sealed " + v + ": ready (" + std::to_string(*rec.size_bytes) + " bytes)", {}, {}};
}

Outcome Chain::upgrade_to(const MutationGuard&, const std::string& v) {
  require_version_name(v);
  const ChainState st = scan_chain(layout_);
  const VersionView& vv = require_version(layout_, st, v);
  require_ready(layout_, vv);
  const std::optional<std::string> live = st.live_name();
  if (live == v) return {false, "version " + v + " is already live", {}, {}};
  const fs::path v_prev = layout_.version_dir(v) / "previous";
  require_replaceable(v_prev);
  const VersionView* lv = live ? st.find(*live) : nullptr;
  if (lv) require_replaceable(layout_.version_dir(*live) / "next");

  const nlohmann::json detail{{"from", live ? nlohmann::json(*live) : nlohmann::json()}, {"to", v}};
  LoggedChange change =
      intend("upgrade-to", live ? std::vector<std::string>{v, *live} : std::vector<std::string>{v}, detail);
  change.run([&] {
    sweep_leftovers();
    if (lv) {
      if (!(vv.previous.ok() && vv.previous.target == *live))
        replace_symlink(v_prev, version_link_text(*live), layout_.tmp());
      if (!(lv->next.ok() && lv->next.target == v))
        replace_symlink(layout_.version_dir(*live) / "next", version_link_text(v), layout_.tmp());
    }
    replace_symlink(layout_.live(), v, layout_.tmp());
  });
  note(change.done(detail));
  return {true, "live: " + live.value_or("(none)") + " -> " + v, {}, {}};
}

Outcome Chain::rollback_to(const MutationGuard&, const std::optional<std::string>& requested) {
  if (requested) require_version_name(*requested);
  const ChainState st = scan_chain(layout_);
  const std::optional<std::string> live = st.live_name();
  std::string target;
  if (requested) {
    target = *requested;
  } else {
    if (!live) {
      if (st.live.kind == ChainLink::Kind::broken)
        refuse(st.live.problem + ": name the version to go live: rollback-to V");
      refuse("nothing is live yet, so there is nothing to roll back to");
    }
    const VersionView& lv = require_version(layout_, st, *live);
    if (lv.previous.kind == ChainLink::Kind::absent)
      refuse("the live version " + *live +
             " has no previous version (it was the first one, or its previous was removed): "
             "name one: rollback-to V");
    if (!lv.previous.ok()) refuse(lv.previous.problem + ": name the version: rollback-to V");
    target = lv.previous.target;
  }
  const VersionView& vv = require_version(layout_, st, target);
  require_ready(layout_, vv);
  if (live == target) return {false, "version " + target + " is already live", {}, {}};

  const nlohmann::json detail{{"from", live ? nlohmann::json(*live) : nlohmann::json()}, {"to", target}};
  LoggedChange change = intend(
      "rollback-to", live ? std::vector<std::string>{target, *live} : std::vector<std::string>{target}, detail);
  change.run([&] {
    sweep_leftovers();
    replace_symlink(layout_.live(), target, layout_.tmp());
  });
  note(change.done(detail));
  return {true, "live: " + live.value_or("(none)") + " -> " + target, {}, {}};
}

std::vector<std::string> Chain::splice_and_delete(const std::string& v) {
  const ChainState st = scan_chain(layout_);
  const VersionView& vv = require_version(layout_, st, v);
  auto other = [&](const ChainLink& l) -> std::optional<std::string> {
    if (l.ok() && l.target != v) return l.target;
    return std::nullopt;
  };
  const std::optional<std::string> prev = other(vv.previous);
  const std::optional<std::string> next = other(vv.next);

  std::vector<std::string> relinked;
  auto relink = [&](const std::string& owner, const char* which, std::optional<std::string> to) {
    if (to == owner) to.reset();  // never make a version its own previous/next
    const fs::path link = layout_.version_dir(owner) / which;
    if (to) {
      replace_symlink(link, version_link_text(*to), layout_.tmp());
      relinked.push_back(owner + "/" + which + " -> " + version_link_text(*to));
    } else {
      remove_file(link);
      relinked.push_back(owner + "/" + which + " removed");
    }
  };
  for (const auto& [name, w] : st.versions) {
    if (name == v) continue;
    if (w.previous.ok() && w.previous.target == v) relink(name, "previous", prev);
    if (w.next.ok() && w.next.target == v) relink(name, "next", next);
  }

  VersionStore(layout_).remove(v);
  static std::atomic<unsigned> counter{0};
  const fs::path dir = layout_.version_dir(v);
  const fs::path trash =
      layout_.trash() / (v + "." + std::to_string(::getpid()) + "." + std::to_string(counter++));
  // Moving a directory to another parent rewrites its "..": it must be writable.
  struct stat sb;
  if (::lstat(dir.c_str(), &sb) == 0 && (sb.st_mode & 0200) == 0)
    ::chmod(dir.c_str(), (sb.st_mode & 07777) | 0700);
  if (::rename(dir.c_str(), trash.c_str()) != 0)
    sys_fail("rename " + dir.string() + " -> " + trash.string(), errno);
  fsync_dir(layout_.deploy());
  remove_tree(trash);
  return relinked;
}

Outcome Chain::remove(const MutationGuard&, const std::string& v, bool missing_ok) {
  require_version_name(v);
  const ChainState st = scan_chain(layout_);
  if (!st.find(v)) {
    if (kind_of(layout_.record(v)) != FileKind::absent) {
      LoggedChange change = intend("remove", {v}, {{"stale_record", true}});
      change.run([&] {
        sweep_leftovers();
        VersionStore(layout_).remove(v);
      });
      note(change.done({{"stale_record", true}}));
      return {true, "removed the stale record of " + v + " (its directory was already gone)", {}, {}};
    }
    if (missing_ok) return {false, "no version " + v + ": nothing to remove", {}, {}};
    refuse_unknown(layout_, v);
  }
  if (st.live_name() == v)
    refuse("version " + v + " is live and cannot be removed: switch live to another version "
           "first (rollback-to or upgrade-to)");

  LoggedChange change = intend("remove", {v}, nlohmann::json::object());
  Outcome out;
  out.changed = true;
  change.run([&] {
    sweep_leftovers();
    out.relinked = splice_and_delete(v);
  });
  note(change.done({{"relinked", out.relinked}}));
  out.message = "removed " + v;
  if (!out.relinked.empty()) {
    out.message += " (";
    for (size_t i = 0; i < out.relinked.size(); ++i)
      out.message += (i ? ", " : "") + out.relinked[i];
    out.message += ")";
  }
  return out;
}

std::vector<Outcome> Chain::gc(const MutationGuard&, unsigned keep) {
  const GcPlan plan = plan_gc(scan_chain(layout_), keep);
  std::vector<Outcome> outs;
  if (plan.empty()) return outs;
  // One intent for the whole plan, one outcome line per version removed (as
  // before phases existed), so a gc cut short shows what it had left to do.
  std::vector<std::string> all = plan.remove;
  all.insert(all.end(), plan.stale_records.begin(), plan.stale_records.end());
  LoggedChange change =
      intend("gc", all, {{"keep", keep}, {"remove", plan.remove}, {"stale_records", plan.stale_records}});
  change.run([&] {
    sweep_leftovers();
    for (const auto& v : plan.remove) {
      Outcome o;
      o.changed = true;
      o.relinked = splice_and_delete(v);
      note(change.done({{"keep", keep}, {"relinked", o.relinked}}, {v}));
      o.message = "removed " + v;
      outs.push_back(std::move(o));
    }
    if (!plan.stale_records.empty()) {
      for (const auto& r : plan.stale_records) VersionStore(layout_).remove(r);
      note(change.done({{"keep", keep}, {"stale_records", plan.stale_records}}, plan.stale_records));
      outs.push_back({true, "removed " + std::to_string(plan.stale_records.size()) + " stale record(s)", {}, {}});
    }
  });
  // A warning per missing outcome line would repeat itself: keep the first.
  if (warnings_.size() > 1) warnings_.resize(1);
  return outs;
}

}  // namespace plugbox::server
