#include "server-tools/verify.h"

#include <optional>

#include "server-tools/chain.h"
#include "server-tools/chain_state.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/lock.h"
#include "server-tools/receive.h"
#include "upload/server/verify_tree.h"

namespace plugbox::server {

VerifyReport verify_version(const Layout& layout, const std::string& v) {
  require_version_name(v);
  std::optional<Flock> op;
  if (kind_of(layout.oplock()) != FileKind::absent)
    op = Flock::acquire(layout.oplock(), Flock::Mode::shared, /*create=*/false);
  const ChainState st = scan_chain(layout);
  const VersionView* vv = st.find(v);
  if (!vv)
    refuse("no version " + v + " in " + layout.deploy().string() + ": `plugbox-server --home " +
           layout.home.string() + " status` lists the versions");

  VerifyReport r;
  r.version = v;
  for (const auto& p : vv->problems()) r.problems.push_back(p);
  if (vv->record.kind == RecordLookup::Kind::ok)
    r.checked.push_back(std::string("record readable (") + to_string(vv->state()) + ")");
  if (vv->previous.ok()) r.checked.push_back("previous -> " + vv->previous.target + " exists");
  if (vv->next.ok()) r.checked.push_back("next -> " + vv->next.target + " exists");
  if (st.live_name() == v && vv->state() != VersionState::ready)
    r.problems.push_back("version " + v + " is live but not ready");

  if (vv->record.kind == RecordLookup::Kind::ok) {
    const VersionRecord& rec = *vv->record.record;
    if (rec.state == VersionState::ready && rec.size_bytes) {
      std::uint64_t now = tree_size(layout.version_dir(v));
      if (now == *rec.size_bytes)
        r.checked.push_back("tree size " + std::to_string(now) + " bytes, as when sealed");
      else
        r.problems.push_back("the tree of " + v + " holds " + std::to_string(now) +
                             " bytes but held " + std::to_string(*rec.size_bytes) +
                             " when sealed: it was changed after sealing");
    }
    auto manifest = load_manifest(layout, v);
    if (rec.manifest_digest && manifest &&
        "sha256:" + upload::to_hex(manifest->digest()) == *rec.manifest_digest) {
      upload::TreeCheck check = upload::verify_tree(layout.version_dir(v).string(), *manifest);
      for (auto& p : check.problems) r.problems.push_back(std::move(p));
      r.contents_verified = true;
      r.contents_note = "file contents checked: " + std::to_string(check.entries_checked) + " of " +
                        std::to_string(manifest->entries.size()) + " manifest entries present (" +
                        *rec.manifest_digest + ")";
    } else if (rec.manifest_digest) {
      r.problems.push_back("the record names manifest " + *rec.manifest_digest + " but " +
                           layout.manifest(v).string() + " is missing or does not match it");
      r.contents_note = "file contents NOT verified: the manifest is missing or altered";
    } else {
      r.contents_note = "file contents NOT verified: no upload manifest is recorded for " + v +
                        " (it was not uploaded with `receive`)";
    }
  } else {
    r.contents_note = "file contents NOT verified: no readable record";
  }
  return r;
}

}  // namespace plugbox::server
