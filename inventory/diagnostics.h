// Collects the problems found while loading an inventory, so that every one
// of them is reported (not only the first), each once, in file order.
#pragma once

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "inventory/inventory.h"

namespace plugbox::inventory {

// A position inside the inventory file. Internal stages carry no file name
// (one file per load); Diagnostics stamps it on when a problem is reported.
struct Loc {
  int line = 0;
  int column = 0;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(Loc at, std::string message) { add(at, std::move(message), false); }
  void warning(Loc at, std::string message) { add(at, std::move(message), true); }
  // A problem in another file (an ssh config): `at` names it.
  void error(const SourcePos& at, std::string message);

  bool has_errors() const { return errors_ > 0; }
  const std::string& file() const { return file_; }
  SourcePos pos(Loc at) const { return SourcePos{file_, at.line, at.column}; }
  // "inventory.toml:12:9", for messages that point at a second place.
  std::string where(Loc at) const;

  // Every diagnostic, errors and warnings, ordered by position (stable).
  std::vector<Diagnostic> sorted() const;
  std::vector<Diagnostic> warnings() const;

 private:
  void add(Loc at, std::string message, bool warning);

  std::string file_;
  std::vector<Diagnostic> all_;
  // A range expands one mistake into many hosts: report each (place, message) once.
  std::set<std::tuple<int, int, std::string>> seen_;
  size_t errors_ = 0;
};

}  // namespace plugbox::inventory
