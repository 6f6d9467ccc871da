#include "upload/common/read_exact.h"

#include <unistd.h>

#include <cerrno>

namespace plugbox::upload {

bool read_exact(int fd, std::uint64_t size, std::string* out) {
  out->assign(size + 1, '\0');
  std::size_t got = 0;
  while (got < out->size()) {
    ssize_t n = ::read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    got += std::size_t(n);
  }
  errno = 0;
  if (got != size) return false;
  out->resize(size);
  return true;
}

}  // namespace plugbox::upload
