// Shell completion for a command tree (cli_tree.h): commands, subcommands and
// options, as bash and zsh scripts. Both scripts find where the command line
// stands the same way: they walk the words before the cursor, skip options
// (and the value of an option that takes one), and descend into each word
// that names a subcommand. An option's value, and anything after `--`, falls
// back to file names.
#pragma once

#include <string>

#include "tools/docgen/cli_tree.h"

namespace plugbox::docgen {

// For /usr/share/bash-completion/completions/NAME: defines _NAME and
// registers it with `complete` for the root's name.
std::string bash_completion(const CommandDoc& root);

// For /usr/share/zsh/vendor-completions/_NAME (a #compdef file).
std::string zsh_completion(const CommandDoc& root);

}  // namespace plugbox::docgen
