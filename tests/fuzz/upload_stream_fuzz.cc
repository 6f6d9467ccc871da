// libFuzzer target: the bytes a host's `plugbox-server receive` reads from the
// network, fed to the real Receiver on a scratch version directory in random
// chunkings. It must never crash, write outside the directory, or leak.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "upload/server/receiver.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path base = [] {
    std::string tmpl = (fs::temp_directory_path() / "pbx-fuzz-XXXXXX").string();
    return fs::path(::mkdtemp(tmpl.data()));
  }();
  const fs::path version = base / "v";
  std::error_code ec;
  fs::remove_all(version, ec);
  fs::create_directories(version);
  {
    plugbox::upload::Receiver rx(version.string(), {}, [](const std::string&) {},
                                 plugbox::upload::LinkRule::content);
    std::string_view in(reinterpret_cast<const char*>(data), size);
    // The first byte picks a chunk size, so split frames are explored too.
    std::size_t chunk = size ? 1 + data[0] % 64 : 1;
    bool ok = true;
    for (std::size_t off = 0; ok && off < in.size(); off += chunk) ok = rx.feed(in.substr(off, chunk));
    if (ok) rx.finish();
  }
  // Nothing may appear beside the version directory.
  for (const auto& e : fs::directory_iterator(base))
    if (e.path() != version) abort();
  return 0;
}
