// Reading a whole file of a known size, as the upload does on both sides
// (the client's contents and patch bases, the host's patch bases).
#pragma once

#include <cstdint>
#include <string>

namespace plugbox::upload {

// Reads what `fd` holds into *out when it is exactly `size` bytes; one byte
// more is asked for, to notice a file that grew. False otherwise, with errno
// set when a read failed and 0 when the size differs.
bool read_exact(int fd, std::uint64_t size, std::string* out);

}  // namespace plugbox::upload
