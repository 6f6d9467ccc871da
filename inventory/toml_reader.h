// Reads inventory.toml (toml++) into a Document: checks every key and value
// type where it is written, so each problem names its line and column.
#pragma once

#include <string_view>

#include "inventory/diagnostics.h"
#include "inventory/document.h"

namespace plugbox::inventory {

// Never throws for bad input: every problem goes to `diag`. A TOML syntax
// error is reported alone (toml++ stops at the first one) and leaves
// Document::parsed false.
Document read_document(std::string_view text, const ReadContext& ctx, Diagnostics& diag);

}  // namespace plugbox::inventory
