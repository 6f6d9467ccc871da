// POSIX shell quoting: the one way user input enters a remote command line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plugbox::transport {

// A word the shell reads back as exactly `word`: bare when it is made only of
// characters no shell treats specially, else in single quotes ('\'' for ').
std::string shell_quote(std::string_view word);

// argv as one command line, each word quoted.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace plugbox::transport
