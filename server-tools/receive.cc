#include "server-tools/receive.h"

#include "server-tools/host_record.h"

#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "server-tools/chain_state.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/init.h"
#include "upload/server/receiver.h"
#include "server-tools/version_store.h"

namespace plugbox::server {

std::optional<upload::Manifest> load_manifest(const Layout& layout, const std::string& v) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(layout.manifest(v), ec)) return std::nullopt;
  try {
    upload::Manifest m;
    std::string err;
    if (!upload::Manifest::decode(read_file(layout.manifest(v)), &m, &err)) return std::nullopt;
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string encode_stamps(const upload::Manifest& m, const std::vector<upload::FileStamp>& stamps) {
  std::string out = "plugbox-stamps 1 " + upload::to_hex(m.digest()) + "\n";
  for (const auto& s : stamps) out += std::to_string(s.ino) + " " + std::to_string(s.ctime_ns) + "\n";
  return out;
}

std::vector<upload::FileStamp> load_stamps(const Layout& layout, const std::string& v, const upload::Manifest& m) {
  std::string text;
  try {
    if (kind_of(layout.stamps(v)) != FileKind::regular) return {};
    text = read_file(layout.stamps(v));
  } catch (const std::exception&) {
    return {};
  }
  std::istringstream in(text);
  std::string header;
  if (!std::getline(in, header) || header != "plugbox-stamps 1 " + upload::to_hex(m.digest())) return {};
  std::vector<upload::FileStamp> out;
  out.reserve(m.entries.size());
  upload::FileStamp s;
  while (in >> s.ino >> s.ctime_ns) out.push_back(s);
  if (!in.eof() || out.size() != m.entries.size()) return {};
  return out;
}

namespace {

void require_staged(const ChainState& chain, const std::string& v) {
  const VersionView* view = chain.find(v);
  if (!view) refuse("version " + v + " does not exist: create it with next-version --name " + v + " first");
  if (view->state() == VersionState::ready)
    refuse("version " + v + " is ready (sealed): its tree is final; upload into a new version (next-version)");
}

}  // namespace

Outcome receive_version(const Layout& layout, const LockRequest& req, const Actor& actor, const std::string& v,
                        int in_fd, std::ostream& out, const ReceiveOptions& opts) {
  if (opts.create) {
    init_layout(layout, req, actor);
    if (auto p = layout_problem(layout)) bad_input(*p);
  }
  // What would be refused under the lock is refused before taking it too,
  // so that a refused receive leaves even the lock file untouched.
  {
    Flock op = Flock::acquire(layout.oplock(), Flock::Mode::shared, /*create=*/false);
    if (opts.create)
      Chain(layout, actor).require_new_version(v);
    else
      require_staged(scan_chain(layout), v);
  }
  // The deploy lock for the whole upload (not only its steps): a standalone
  // receive must keep gc, remove and other deployers away from V while its
  // stream flows. Readers (status, verify) take only the oplock and go on.
  const CommandLock lock =
      hold_deploy_lock_for_command(layout, req, "receive " + v + " (pid " + std::to_string(::getpid()) + ")");
  Outcome o;
  Chain chain_ops(layout, actor);
  if (opts.create) {
    MutationGuard guard = acquire_for_mutation(layout, lock.steps);
    NextVersionOptions nv;
    nv.name = v;
    nv.by = opts.by;
    nv.source_rev = opts.source_rev;
    chain_ops.next_version(guard, nv);
    // The client must know V exists now (and is its to remove) even if the
    // upload fails before any other reply, or the host record below cannot
    // be written (a full disk).
    out << nlohmann::json{{"created", v}}.dump() << std::endl;
    // The host record names this run from now on: a rollback after a run
    // that only staged has nothing to undo, and must not undo an earlier one.
    HostRecord rec;
    rec.run = v;
    rec.kind = "deploy";
    rec.owner = req.owner;
    rec.from = scan_chain(layout).live_name().value_or("");
    rec.to = v;
    rec.state = "staged";
    rec.service_stopped = read_host_record(layout).value_or(HostRecord{}).service_stopped;
    write_host_record(layout, rec);
  }
  ChainState chain;
  std::optional<LoggedChange> change;
  {
    MutationGuard check = acquire_for_mutation(layout, lock.steps);
    chain = scan_chain(layout);
    require_staged(chain, v);
    // Before the stream changes V's tree: an unwritable log refuses here,
    // with nothing read and nothing changed.
    change.emplace(layout.log(), actor, LogEntry{"receive", {v}, nlohmann::json::object()});
  }

  // Files of the live version first (the likeliest match), then every other
  // ready version that has a manifest.
  std::vector<upload::LocalSource> sources;
  std::vector<std::string> names;
  if (auto live = chain.live_name()) names.push_back(*live);
  for (auto it = chain.versions.rbegin(); it != chain.versions.rend(); ++it)
    if (it->second.state() == VersionState::ready && (names.empty() || it->first != names.front()))
      names.push_back(it->first);
  for (const auto& n : names)
    if (auto m = load_manifest(layout, n)) {
      auto stamps = load_stamps(layout, n, *m);
      sources.push_back({layout.version_dir(n).string(), std::move(*m), std::move(stamps)});
    }

  // Lines are flushed after each read of the stream has been taken in, not
  // one by one: with fan-out a host answers every fetched content, and a
  // write per 77-byte answer was an SSH packet and a TCP segment each way,
  // 7 MB of a 20-host first deploy's link (bench/wan). The client waits for
  // nothing but the need line and the answers before the end frame, and
  // each comes at the end of the read that caused it.
  upload::Receiver rx(layout.version_dir(v).string(), std::move(sources),
                      [&out](const std::string& line) { out << line << '\n'; }, opts.link_rule);
  std::optional<MutationGuard> commit;
  nlohmann::json detail;
  change->run([&] {
    std::string buf(256 * 1024, '\0');
    bool ok = true;
    for (;;) {
      ssize_t n = ::read(in_fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) sys_fail("read the upload stream from stdin", errno);
      if (n == 0) break;
      const bool fed = rx.feed(std::string_view(buf.data(), size_t(n)));
      out.flush();
      if (!fed) {
        ok = false;
        break;
      }
    }
    if (ok) ok = rx.finish();
    out.flush();
    if (!ok) refuse("upload into " + v + " failed: " + rx.error() + " (" + v + " stays staged: retry, or remove it)");

    commit.emplace(acquire_for_mutation(layout, lock.steps));
    require_staged(scan_chain(layout), v);  // not sealed or removed meanwhile
    // The manifest first, then the record naming its digest: a record never
    // names a manifest that is not there.
    write_file_atomic(layout.manifest(v), rx.manifest().encode(), layout.tmp());
    // Stamped now that every file is in place (later links change the source
    // files' ctimes, not these: see upload/server/receiver.h).
    const std::vector<upload::FileStamp> stamps = rx.stamp_files();
    if (stamps.size() != rx.manifest().entries.size())
      refuse("upload into " + v + " failed: " + rx.error() + " (" + v + " stays staged: retry, or remove it)");
    write_file_atomic(layout.stamps(v), encode_stamps(rx.manifest(), stamps), layout.tmp());
    VersionStore store(layout);
    auto rec = store.lookup(v);
    VersionRecord record = rec.record.value_or(VersionRecord{});
    record.name = v;
    record.manifest_digest = "sha256:" + upload::to_hex(rx.manifest().digest());
    store.write(record);
    const auto& s = rx.stats();
    detail = {{"files", s.files},           {"files_sent", s.files_sent}, {"bytes_sent", s.bytes_sent},
              {"files_linked", s.files_linked}, {"files_copied", s.files_copied},
              {"files_patched", s.files_patched}, {"patches_failed", s.patches_failed},
              {"files_fetched", s.files_fetched}, {"fetches_failed", s.fetches_failed},
              {"manifest_digest", *record.manifest_digest}};
  });
  if (auto w = change->done(detail)) o.warnings.push_back(*w);
  const auto& s = rx.stats();
  o.changed = true;
  o.message = std::string(opts.create ? "created and received " : "received ") + v + ": " +
              std::to_string(s.files) + " files (" + std::to_string(s.files_sent) + " sent, " +
              std::to_string(s.files_linked) + " linked)";
  if (opts.seal) o.message += "; " + chain_ops.seal(*commit, v, rx.manifest().total_file_bytes()).message;
  for (const auto& w : chain_ops.warnings()) o.warnings.push_back(w);
  return o;
}

}  // namespace plugbox::server
