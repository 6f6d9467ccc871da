#include "base/session_protocol.h"

#include <signal.h>

#include <array>
#include <utility>

namespace plugbox::base::session {

namespace {

bool known_type(char c) {
  for (char t : {'H', 'O', 'R', 'X', 'F', 'W', 'S', 'I', 'E', 'K'})
    if (c == t) return true;
  return false;
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
}

std::uint32_t get32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The signals SSH's exit-signal names (RFC 4254 §6.10, plus USR1/USR2 as
// OpenSSH sends them). The first kSendable are those a client may send a
// command: the ones a deploy uses. Kept short: the session is not kill(1).
constexpr std::array<std::pair<const char*, int>, 13> kSignals = {
    {{"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT},
     {"ABRT", SIGABRT}, {"SEGV", SIGSEGV}, {"FPE", SIGFPE}, {"ILL", SIGILL}, {"ALRM", SIGALRM}, {"USR1", SIGUSR1},
     {"USR2", SIGUSR2}}};
constexpr std::size_t kSendable = 5;

}  // namespace

std::string encode(FrameType type, std::uint32_t id, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  out.push_back(static_cast<char>(type));
  put32(out, id);
  put32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

namespace {
constexpr std::size_t kReaderKeep = 64u << 10;
}  // namespace

std::optional<Frame> FrameReader::next() {
  if (!error_.empty()) return std::nullopt;
  if (buf_.size() - pos_ < kHeaderSize) return std::nullopt;
  const char* h = buf_.data() + pos_;
  if (!known_type(h[0])) {
    error_ = "unknown frame type " + std::to_string(static_cast<unsigned char>(h[0])) +
             " (not a plugbox session stream, or another protocol version)";
    return std::nullopt;
  }
  const std::uint32_t len = get32(h + 5);
  if (len > kMaxPayload) {
    error_ = "frame of " + std::to_string(len) + " bytes, more than the protocol's " + std::to_string(kMaxPayload);
    return std::nullopt;
  }
  if (buf_.size() - pos_ < kHeaderSize + len) return std::nullopt;
  Frame f{static_cast<FrameType>(h[0]), get32(h + 1), std::string(h + kHeaderSize, len)};
  pos_ += kHeaderSize + len;
  // Compact now and then rather than erase per frame: a burst of small
  // frames would otherwise move the whole buffer each time.
  if (pos_ == buf_.size()) {
    // A large reply (a `need` of 2000 digests is 130 KB) would otherwise keep
    // its buffer for the session's whole life, on every host at once.
    if (buf_.capacity() > kReaderKeep) std::string().swap(buf_);
    else buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

int signal_number(std::string_view name) {
  for (std::size_t i = 0; i < kSendable; ++i)
    if (name == kSignals[i].first) return kSignals[i].second;
  return 0;
}

std::string signal_name(int n) {
  for (const auto& [name, sig] : kSignals)
    if (n == sig) return name;
  return "";
}

}  // namespace plugbox::base::session
