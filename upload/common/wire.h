// Little-endian primitives of the upload protocol. The reader never trusts a
// length: every read is bounds-checked and a short buffer is an error, because
// the server parses bytes that came over the network.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace plugbox::upload::wire {

inline void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
inline void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view buf) : buf_(buf) {}
  bool u8(std::uint8_t* v) {
    if (buf_.size() < 1) return false;
    *v = static_cast<std::uint8_t>(buf_[0]);
    buf_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t* v) {
    if (buf_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= std::uint32_t(static_cast<std::uint8_t>(buf_[i])) << (8 * i);
    buf_.remove_prefix(4);
    return true;
  }
  bool u64(std::uint64_t* v) {
    if (buf_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= std::uint64_t(static_cast<std::uint8_t>(buf_[i])) << (8 * i);
    buf_.remove_prefix(8);
    return true;
  }
  bool bytes(std::size_t n, std::string_view* v) {
    if (buf_.size() < n) return false;
    *v = buf_.substr(0, n);
    buf_.remove_prefix(n);
    return true;
  }
  bool str(std::string* v, std::size_t max_len) {
    std::uint32_t n;
    std::string_view s;
    if (!u32(&n) || n > max_len || !bytes(n, &s)) return false;
    v->assign(s);
    return true;
  }
  bool empty() const { return buf_.empty(); }
  std::size_t remaining() const { return buf_.size(); }

 private:
  std::string_view buf_;
};

}  // namespace plugbox::upload::wire
