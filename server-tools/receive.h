// `receive V`: the host side of the upload (docs/DESIGN.md §6, protocol in
// upload/PROTOCOL.md). Reads the stream on stdin into staged
// version V, reusing files of the local ready versions, and on success stores
// V's manifest beside its record (.plugbox/versions/V.manifest) and its digest
// in the record, and each file's inode and ctime (V.stamps), so later
// uploads can link from V and `verify V` can re-check
// every file. A failed upload leaves V staged (removable, or retried: a retry
// starts V over).
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "server-tools/chain.h"
#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"
#include "upload/common/manifest.h"
#include "upload/server/receiver.h"

namespace plugbox::server {

// The stored manifest of V, or nullopt when V has none (or it is unreadable).
std::optional<upload::Manifest> load_manifest(const Layout& layout, const std::string& v);

// V.stamps: "plugbox-stamps 1 <manifest digest hex>\n", then "<ino> <ctime_ns>\n"
// per manifest entry (0 0 for non-files).
std::string encode_stamps(const upload::Manifest& m, const std::vector<upload::FileStamp>& stamps);
// The stamps stored for V when they belong to manifest `m`; empty otherwise
// (none stored, unreadable, or for another manifest): its files are then
// hashed before any is linked.
std::vector<upload::FileStamp> load_stamps(const Layout& layout, const std::string& v, const upload::Manifest& m);

// Runs one upload from `in_fd`; protocol replies go to `out` (flushed per
// line). Holds the deploy lock for its whole run (hold_deploy_lock_for_command:
// its own, or the one its owner holds), so no gc, remove or other deployer
// touches V while the stream flows; takes the oplock only for its steps (to
// check V: unknown or ready is refused before reading anything; to record the
// result), as an upload may take minutes and `status` must not wait for it.
// The log gets the receive's intent before the stream is read (an unwritable
// log refuses with nothing read) and its outcome after. A failed stream is a
// refusal carrying the receiver's reason.
//
// `create` (receive --create): first create the layout where missing (init)
// and V itself (next-version --name V, refused if V exists), so a deploy
// needs one command, one channel and one process per host instead of three.
// `seal` (receive --seal): seal V once it is complete (for services without
// post_upload steps). Each step takes the locks as its own command would.
struct ReceiveOptions {
  bool create = false;
  bool seal = false;
  std::optional<std::string> by, source_rev;  // recorded by create
  // Which local files may be hard-linked into V (upload/server/receiver.h).
  upload::LinkRule link_rule = upload::LinkRule::content;
};
Outcome receive_version(const Layout& layout, const LockRequest& req, const Actor& actor, const std::string& v,
                        int in_fd, std::ostream& out, const ReceiveOptions& opts = {});

}  // namespace plugbox::server
