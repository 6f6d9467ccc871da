// Writes seed inputs for the fuzzer: valid streams the client would send.
#include <zstd.h>

#include <fstream>
#include <string>

#include "upload/common/stream_format.h"

using namespace plugbox::upload;

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".";
  Manifest m;
  m.entries = {Entry{EntryType::dir, "bin", 0755, 0, 1, {}, {}},
               Entry{EntryType::file, "bin/a", 0644, 0, 2, sha256(""), {}},
               Entry{EntryType::symlink, "link", 0777, 0, 3, {}, "bin/a"}};
  std::ofstream(dir + "/seed-manifest", std::ios::binary) << encode_hello() + encode_manifest(m) + encode_end();
  // An empty file's zstd frame (as ZSTD_compress of "" produces it).
  std::string s = encode_hello() + encode_manifest(m) + encode_file_begin(sha256(""), 0, 9);
  encode_file_data(std::string("\x28\xb5\x2f\xfd\x20\x00\x01\x00\x00", 9), &s);
  std::ofstream(dir + "/seed-file", std::ios::binary) << s + encode_end();
  // Protocol 2: the manifest as one zstd frame.
  const std::string raw = m.encode();
  std::string frame(ZSTD_compressBound(raw.size()), '\0');
  frame.resize(ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 3));
  std::ofstream(dir + "/seed-manifest-v2", std::ios::binary)
      << encode_hello(2) + encode_manifest_compressed(frame, raw.size(), sha256(raw)) + encode_end();
  return 0;
}
