#include "orchestrator/reporter.h"

#include <unistd.h>

namespace plugbox::orchestrator {

namespace {

const char* mark(Event::Level l) {
  switch (l) {
    case Event::Level::ok: return "ok  ";
    case Event::Level::fail: return "FAIL";
    default: return "    ";
  }
}

class LineReporter : public Reporter {
 public:
  explicit LineReporter(std::FILE* out) : out_(out) {}
  void event(const Event& e) override {
    std::fprintf(out_, "%s [%s] %s%s%s\n", mark(e.level), e.phase.c_str(), e.host.c_str(), e.host.empty() ? "" : ": ",
                 e.what.c_str());
    std::fflush(out_);
  }

 protected:
  std::FILE* out_;
};

class JsonReporter : public Reporter {
 public:
  explicit JsonReporter(std::FILE* out) : out_(out) {}
  void event(const Event& e) override {
    nlohmann::json j = {{"event", e.phase},
                        {"host", e.host.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.host)},
                        {"level", e.level == Event::Level::ok ? "ok" : e.level == Event::Level::fail ? "fail" : "info"},
                        {"message", e.what}};
    for (auto& [k, v] : e.data.items()) j[k] = v;
    std::fprintf(out_, "%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
};

// Events scroll above one status line that is redrawn in place.
class TtyReporter : public LineReporter {
 public:
  using LineReporter::LineReporter;
  void event(const Event& e) override {
    clear();
    // Per-host successes are in the status line; failures and run-level events scroll.
    if (e.level == Event::Level::fail || e.host.empty()) {
      const char* color = e.level == Event::Level::fail ? "\033[31m" : e.level == Event::Level::ok ? "\033[32m" : "";
      std::fprintf(out_, "%s%s\033[0m [%s] %s%s%s\n", color, mark(e.level), e.phase.c_str(), e.host.c_str(),
                   e.host.empty() ? "" : ": ", e.what.c_str());
    }
    draw();
  }
  void progress(const Progress& p) override {
    last_ = p;
    clear();
    draw();
  }
  void finish() override { clear(); }

 private:
  void clear() {
    if (drawn_) std::fprintf(out_, "\r\033[K");
    drawn_ = false;
  }
  void draw() {
    if (last_.total == 0) return;
    std::fprintf(out_, "%s: %zu/%zu done, %zu failed, %.1f MiB sent", last_.phase.c_str(), last_.done, last_.total,
                 last_.failed, double(last_.bytes_sent) / (1 << 20));
    if (last_.bytes_fanned) std::fprintf(out_, ", %.1f MiB fanned out", double(last_.bytes_fanned) / (1 << 20));
    std::fflush(out_);
    drawn_ = true;
  }
  Progress last_;
  bool drawn_ = false;
};

}  // namespace

OutputMode pick_output_mode(bool json) {
  if (json) return OutputMode::json;
  return ::isatty(STDOUT_FILENO) ? OutputMode::tty : OutputMode::lines;
}

std::unique_ptr<Reporter> make_reporter(OutputMode mode, std::FILE* out) {
  switch (mode) {
    case OutputMode::json: return std::make_unique<JsonReporter>(out);
    case OutputMode::tty: return std::make_unique<TtyReporter>(out);
    default: return std::make_unique<LineReporter>(out);
  }
}

}  // namespace plugbox::orchestrator
