// The client's tables for people (fleet status, bootstrap, a run's
// standings): rows of cells, the first row the header.
#pragma once

#include <string>
#include <vector>

namespace plugbox::orchestrator {

// Each column but the last padded to its widest cell plus two spaces; the
// last is left as it is, since it holds free text (an error, a state) that
// may be long and must not push trailing blanks. Every row has as many
// cells as the header.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace plugbox::orchestrator
