// The session protocol (docs/SESSION.md): how the client runs many commands
// on one host over one exec channel of `plugbox-server session`. Both ends
// use this codec, so plugbox-server (static, no Asio) and the client agree by
// construction. A frame is a 9-byte header (type, request id, payload
// length; integers big-endian) and its payload. Binary, because upload
// streams travel in it: base64 in JSON lines would cost a third more bytes
// and the CPU to code them on both ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plugbox::base::session {

// Raised whenever the frames or their meaning change; the hello says it and
// the client refuses a server that speaks another one.
inline constexpr unsigned kProtocol = 1;
// Larger payloads are split by the sender; a bigger length is a corrupt
// stream, not a big chunk, so the reader stops there.
inline constexpr std::size_t kMaxPayload = 1 << 20;
inline constexpr std::size_t kHeaderSize = 9;
// Each request may have this much stdin in flight (sent, not yet taken by
// its command) before the server grants more with window frames. Why per
// request: the server must always read the channel, or a command that
// stopped reading its stdin would hide the signal frame meant to kill it
// behind its own input.
inline constexpr std::size_t kInitialWindow = 4u << 20;

enum class FrameType : char {
  // server -> client
  hello = 'H',         // id 0, JSON {"protocol":N,"server":"..."}: the first frame
  stdout_data = 'O',   // output of request id
  stderr_data = 'R',
  exit = 'X',          // JSON {"exit":N} or {"signal":"TERM"}: request id ended
  failed = 'F',        // text: request id could not be started
  window = 'W',        // decimal: request id's command took that many more stdin bytes
  // client -> server
  start = 'S',         // JSON {"line":"...","stdin":bool}: run line by /bin/sh -c
  stdin_data = 'I',    // input for request id
  stdin_end = 'E',     // end of that input
  signal = 'K',        // text: "TERM" | "KILL" | "INT" | "HUP", to the request's process group
};

struct Frame {
  FrameType type;
  std::uint32_t id = 0;
  std::string payload;
};

std::string encode(FrameType type, std::uint32_t id, std::string_view payload);

// Cuts a byte stream into frames, whatever the stream's chunk boundaries.
class FrameReader {
 public:
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next whole frame; nullopt when more bytes are needed or the stream
  // is corrupt (error() then says why, and every later call is nullopt).
  std::optional<Frame> next();
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

// Signal names a `signal` frame may carry (TERM KILL INT HUP PIPE), and
// their numbers; 0 for others.
int signal_number(std::string_view name);
// The name of signal `n` as the exit frame and SSH's exit-signal say it
// ("TERM", "USR1"); "" for one SSH has no name for.
std::string signal_name(int n);

}  // namespace plugbox::base::session
