#include "server-tools/verify.h"

#include <optional>

#include "server-tools/chain.h"
#include "server-tools/chain_state.h"
#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"
#include "server-tools/lock.h"

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
    r.contents_note = rec.manifest_digest
                          ? "file contents NOT verified: this plugbox-server cannot check "
                            "manifests yet (manifest " + *rec.manifest_digest + " recorded)"
                          : "file contents NOT verified: no upload manifest is recorded for " + v +
                                " (manifests come with `receive`, issue 5)";
  } else {
    r.contents_note = "file contents NOT verified: no readable record";
  }
  return r;
}

}  // namespace plugbox::server
