#include "bench/upload/plugbox_run.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>

#include <nlohmann/json.hpp>

#include "transport/notifier.h"
#include "transport/ssh_transport.h"

namespace plugbox::bench {

namespace {

using transport::Awaitable;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace asio = transport::asio;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Runs make(i) for i in [0, n) concurrently and waits for all of them.
struct Join {
  explicit Join(transport::Executor ex) : wake(std::move(ex)) {}
  std::size_t left = 0;
  std::exception_ptr error;
  transport::Notifier wake;
};

template <class Make>
Awaitable<void> for_all(std::size_t n, Make make) {
  auto join = std::make_shared<Join>(co_await asio::this_coro::executor);
  join->left = n;
  for (std::size_t i = 0; i < n; ++i) {
    auto done = [join](std::exception_ptr e) {
      if (e && !join->error) join->error = e;
      if (--join->left == 0) join->wake.notify();
    };
    asio::co_spawn(join->wake.get_executor(), make(i), done);
  }
  while (join->left > 0) co_await join->wake.wait();
  if (join->error) std::rethrow_exception(join->error);
}

// One plugbox-server command; "" or "COMMAND: why" (with its stderr's first line).
Awaitable<std::string> server_step(transport::Session& s, const orchestrator::HostContext& h,
                                   std::vector<std::string> args, double* seconds, std::string* out = nullptr) {
  const auto t0 = Clock::now();
  transport::ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  o.deadline = transport::deadline_in(300s);
  const std::string what = args.front();
  transport::ExecResult r = co_await s.exec(orchestrator::server_command(h, args), std::move(o));
  if (seconds) *seconds = since(t0);
  if (out) *out = r.out;
  if (r.ok()) co_return "";
  co_return what + ": " + r.describe() + (r.err.empty() ? "" : ": " + first_line(r.err));
}

Awaitable<void> stage_host(transport::Transport& t, const PbHost& h, const PbRelease& rel,
                           std::shared_ptr<transport::Session>* session, PbHostResult* out) {
  const auto t0 = Clock::now();
  transport::OpenResult opened = co_await t.open(h.target, transport::deadline_in(60s));
  out->steps.open = since(t0);
  if (opened.error) {
    out->error = "open: " + opened.error.message();
    co_return;
  }
  *session = opened.session;
  transport::Session& s = *opened.session;
  // (g++ 12 cannot compile a braced list inside a co_await expression.)
  std::vector<std::string> flags{"--create", "--seal"};
  auto receive = orchestrator::server_cmd::receive(h.ctx, rel.version, flags);
  const auto t1 = Clock::now();
  out->upload = co_await orchestrator::upload_to_host(s, std::move(receive), *rel.manifest, *rel.blobs,
                                                      transport::deadline_in(900s));
  out->steps.upload = since(t1);
  if (!out->upload.ok) out->error = out->upload.error;
}

Awaitable<void> switch_host(std::shared_ptr<transport::Session> session, const PbHost& h, const PbRelease& rel,
                            PbHostResult* out) {
  if (!session || !out->error.empty()) co_return;  // a real deploy would not switch anyone: reported as failed
  std::vector<std::string> args{"upgrade-to", rel.version};
  out->error = co_await server_step(*session, h.ctx, args, &out->steps.upgrade);
}

Awaitable<void> deploy_all(transport::Transport& t, const std::vector<PbHost>& hosts, const PbRelease& rel,
                           const std::set<int>& ports, PbRun* run) {
  std::vector<std::shared_ptr<transport::Session>> sessions(hosts.size());
  run->hosts.resize(hosts.size());
  const auto t0 = Clock::now();
  const CpuTimes cpu0 = self_cpu();
  auto stage = [&](std::size_t i) { return stage_host(t, hosts[i], rel, &sessions[i], &run->hosts[i]); };
  co_await for_all(hosts.size(), stage);
  auto flip = [&](std::size_t i) { return switch_host(sessions[i], hosts[i], rel, &run->hosts[i]); };
  co_await for_all(hosts.size(), flip);
  run->wall_s = since(t0);
  run->client = self_cpu() - cpu0;
  run->tcp = own_tcp_bytes(ports);
  for (auto& s : sessions)
    if (s) s->close();
}

Awaitable<void> verify_host(transport::Transport& t, const PbHost& h, const std::string& version,
                            std::string* problem) {
  transport::OpenResult opened = co_await t.open(h.target, transport::deadline_in(60s));
  if (opened.error) {
    *problem = "open: " + opened.error.message();
    co_return;
  }
  std::string out;
  std::vector<std::string> args{"verify", version};
  *problem = co_await server_step(*opened.session, h.ctx, args, nullptr, &out);
  // verify says plainly when it could not check contents: that is a failure here.
  if (problem->empty() && out.find("file contents checked:") == std::string::npos)
    *problem = "verify did not check file contents: " + out;
  opened.session->close();
}

// Runs body(transport) on a fresh io_context with an SSH transport until it
// finishes (open sessions keep the context busy, so not "until out of work").
template <class Body>
void with_transport(const transport::SshOptions& options, Body body, int* connections = nullptr) {
  boost::asio::io_context io;
  transport::SshTransport t(io.get_executor(), options);
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(t), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  while (!done && io.run_one() > 0) {
  }
  if (connections) *connections = t.connections_started();
  t.close_all();
  io.restart();
  io.poll();
  if (error) std::rethrow_exception(error);
  if (!done) throw std::runtime_error("bench_upload: the event loop ran dry before the deploy finished");
}

struct FloorStream {
  FloorStream(const upload::Manifest& m, const upload::BlobStore& b) : client(m, b) {}
  upload::UploadClient client;
  bool sent_initial = false;
  std::uint64_t bytes = 0;
};

Awaitable<std::optional<std::string>> floor_piece(std::shared_ptr<FloorStream> st) {
  std::string chunk;
  if (!st->sent_initial) {
    st->sent_initial = true;
    chunk = st->client.initial_bytes();
  } else if (!st->client.next_chunk(&chunk, 256 * 1024)) {
    co_return std::nullopt;
  }
  st->bytes += chunk.size();
  co_return chunk;
}

Awaitable<void> floor_host(transport::Transport& t, const PbHost& h, const upload::Manifest& manifest,
                           const upload::BlobStore& blobs, std::uint64_t* bytes, std::string* problem) {
  transport::OpenResult opened = co_await t.open(h.target, transport::deadline_in(60s));
  if (opened.error) {
    *problem = "open: " + opened.error.message();
    co_return;
  }
  auto st = std::make_shared<FloorStream>(manifest, blobs);
  // Every content, as a host with nothing yet would ask.
  nlohmann::json need = nlohmann::json::array();
  for (const auto& e : manifest.entries)
    if (e.type == upload::EntryType::file) need.push_back(upload::to_hex(e.digest));
  if (!st->client.on_line(nlohmann::json{{"need", need}}.dump())) {
    *problem = st->client.error();
    co_return;
  }
  transport::ExecOptions o;
  o.capture_stderr = true;
  o.deadline = transport::deadline_in(300s);
  o.stdin_source = [st]() { return floor_piece(st); };
  transport::ExecResult r = co_await opened.session->exec(transport::Command::shell("cat > /dev/null"), std::move(o));
  *bytes = st->bytes;
  if (!r.ok()) *problem = "cat: " + r.describe();
  opened.session->close();
}

}  // namespace

FloorRun transport_floor(const std::vector<PbHost>& hosts, const upload::Manifest& manifest,
                         const upload::BlobStore& blobs, const transport::SshOptions& options) {
  FloorRun run;
  std::vector<std::string> problems(hosts.size());
  std::vector<std::uint64_t> bytes(hosts.size());
  const auto t0 = Clock::now();
  const CpuTimes cpu0 = self_cpu();
  auto body = [&](transport::Transport& t) {
    auto one = [&t, &hosts, &manifest, &blobs, &bytes, &problems](std::size_t i) {
      return floor_host(t, hosts[i], manifest, blobs, &bytes[i], &problems[i]);
    };
    return for_all(hosts.size(), one);
  };
  with_transport(options, body);
  run.wall_s = since(t0);
  run.client = self_cpu() - cpu0;
  run.bytes_per_host = bytes.empty() ? 0 : bytes.front();
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (!problems[i].empty()) run.problems.push_back(hosts[i].ctx.host + ": " + problems[i]);
  return run;
}

PbRun deploy_release(const std::vector<PbHost>& hosts, const PbRelease& release, const transport::SshOptions& options,
                     const std::set<int>& ports) {
  PbRun run;
  auto body = [&](transport::Transport& t) { return deploy_all(t, hosts, release, ports, &run); };
  with_transport(options, body, &run.connections);
  return run;
}

std::vector<std::string> verify_release(const std::vector<PbHost>& hosts, const std::string& version,
                                        const transport::SshOptions& options) {
  std::vector<std::string> problems(hosts.size());
  auto body = [&](transport::Transport& t) {
    auto one = [&t, &hosts, &version, &problems](std::size_t i) {
      return verify_host(t, hosts[i], version, &problems[i]);
    };
    return for_all(hosts.size(), one);
  };
  with_transport(options, body);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (!problems[i].empty()) out.push_back(hosts[i].ctx.host + ": " + problems[i]);
  return out;
}

}  // namespace plugbox::bench
