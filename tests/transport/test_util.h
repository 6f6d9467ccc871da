// Helpers shared by the transport tests: run a coroutine to its end on an
// io_context, make and remove temporary directories.
#pragma once

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "transport/asio.h"

#include <boost/asio/io_context.hpp>

namespace plugbox::transport::test {

// Runs the io_context until `a` has finished (open sessions keep the context
// busy forever, so "until it runs out of work" would never come).
template <class T>
T run(boost::asio::io_context& io, Awaitable<T> a) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
    done = true;
  });
  io.restart();
  while (!done)
    if (io.run_one() == 0) break;
  if (error) std::rethrow_exception(error);
  if (!out) throw std::runtime_error("coroutine did not finish");
  return std::move(*out);
}

// Runs whatever is ready now (handlers posted by a close, for instance).
inline void drain(boost::asio::io_context& io) {
  io.restart();
  io.poll();
}

// A directory under $TMPDIR removed (with everything in it) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t") {
    auto base = std::filesystem::temp_directory_path();
    std::random_device rd;
    path_ = base / ("plugbox-transport-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace plugbox::transport::test
