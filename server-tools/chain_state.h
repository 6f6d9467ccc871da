// A read-only snapshot of a service home's versions and links: what status,
// verify, gc's plan and the tests look at. Scanning never changes anything and
// never throws for a damaged layout: damage is reported as problems.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server-tools/layout.h"
#include "server-tools/version_store.h"

namespace plugbox::server {

// One of the chain's links: deploy/live, or V/previous, V/next.
struct ChainLink {
  enum class Kind { absent, ok, broken } kind = Kind::absent;
  std::string text;     // the link's text, when it is a symlink
  std::string target;   // the version it names, when ok
  std::string problem;  // when broken: why
  bool ok() const { return kind == Kind::ok; }
};

struct VersionView {
  std::string name;
  RecordLookup record;
  ChainLink previous;
  ChainLink next;
  // staged unless its record is readable and says ready.
  VersionState state() const;
  std::vector<std::string> problems() const;
};

struct ChainState {
  std::map<std::string, VersionView> versions;  // by name: oldest first
  ChainLink live;
  std::vector<std::string> stale_records;  // records whose version directory is gone
  std::vector<std::string> strays;         // other entries of deploy/ (left alone)

  const VersionView* find(const std::string& name) const;
  std::optional<std::string> live_name() const;  // when live is ok
  // live, then its previous, and so on; each version once (previous links may
  // form a cycle: upgrading to an older version makes one).
  std::vector<std::string> chain_from_live() const;
  // Every problem of the layout and its versions, one line each.
  std::vector<std::string> problems() const;
};

// Reads `layout` (which must pass layout_problem()).
ChainState scan_chain(const Layout& layout);

// Parses the text of V/previous or V/next: "../NAME" naming an existing
// version directory.
ChainLink read_version_link(const Layout& layout, const std::filesystem::path& link);
// Parses the text of deploy/live: "NAME" naming an existing version directory.
ChainLink read_live_link(const Layout& layout);

// The text a version link to `target` has.
inline std::string version_link_text(const std::string& target) { return "../" + target; }

}  // namespace plugbox::server
