// Child processes for the harness: short helper commands (ssh-keygen, ip) run
// to completion, long-running daemons (sshd) started inside a network
// namespace, and whole process trees frozen or killed. Never through a shell.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace plugbox::testing {

// A helper command started with posix_spawn: stdin from /dev/null, stdout and
// stderr into one pipe that wait() drains, no other descriptor inherited, a
// minimal environment (PATH, LC_ALL=C). argv[0] must be an absolute path.
class Child {
 public:
  static Child start(const std::vector<std::string>& argv);
  Child(Child&&) noexcept;
  Child& operator=(Child&&) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // a child never waited for is killed and reaped

  // Drains the output, reaps the child; its exit code, or 128 + signal.
  int wait();
  const std::string& output() const { return output_; }
  std::string command() const;  // argv joined by spaces, for messages

 private:
  Child() = default;
  pid_t pid_ = -1;
  base::UniqueFd out_;
  std::string output_;
  std::vector<std::string> argv_;
};

// Runs argv to completion. Throws std::runtime_error naming the command, its
// exit code and its output unless it exits 0; returns the output otherwise.
std::string run_checked(const std::vector<std::string>& argv);

// Runs every job, at most `parallel` at once; after all have finished, throws
// for the first one that failed.
void run_all_checked(const std::vector<std::vector<std::string>>& jobs, int parallel);

// Starts a daemon in network namespace `netns` (/run/netns/<netns>; "" = the
// caller's) with stdin on /dev/null and stdout and stderr appended to
// `log_fd`, in its own process group, signal dispositions and mask reset, every
// other descriptor closed, environment only PATH. It gets SIGKILL when the
// THREAD that started it exits (PR_SET_PDEATHSIG), so a test that dies leaves
// no daemon behind: start and stop daemons from a thread that outlives them.
// Throws std::runtime_error if the namespace cannot be entered or exec fails.
pid_t spawn_daemon(const std::vector<std::string>& argv, const std::string& netns, int log_fd);

// Reaps pid if it has exited (without blocking): true and its exit code (or
// 128 + signal) in *exit_code.
bool try_reap(pid_t pid, int* exit_code);

// Every live descendant of root, found through /proc (parent links).
std::vector<pid_t> descendants(pid_t root);

// Stops root and all its descendants with SIGSTOP, repeating until no new
// process appears (a process forking meanwhile is caught in the next round,
// since nothing has died and no parent link is broken yet). Returns them all.
std::vector<pid_t> freeze_tree(pid_t root);

// Resumes root and all its descendants (SIGCONT).
void thaw_tree(pid_t root);

// Freezes the tree, then SIGKILLs every process in it, and reaps root (which
// must be our child). The tree's processes that sshd moved into their own
// sessions die too: this is a host losing power, sessions included.
void kill_tree(pid_t root);

// SIGKILLs every pid in the list (already frozen by freeze_tree).
void kill_all(const std::vector<pid_t>& pids);

// Processes of user `uid` with an environment entry starting with
// `entry_prefix` (e.g. "HOME=/tmp/pbx-fleet-1-x/hosts/"): what a host's
// sessions left running after their connection closed, no longer below its
// sshd (sshd does not kill a non-tty command when the client goes away).
std::vector<pid_t> processes_with_env(uid_t uid, const std::string& entry_prefix);

// Stops, then kills, every process processes_with_env finds, repeating until
// none is left (a process forking meanwhile is found in the next round).
void kill_processes_with_env(uid_t uid, const std::string& entry_prefix);

// Whether a process with this pid exists (any user).
bool process_exists(long pid);
// Whether it has ended: gone, or a zombie nobody has reaped yet (a killed
// process whose parent died with it waits for init).
bool process_ended(long pid);

// Waits until every pid has ended (process_ended), at most `limit`: false if
// one still runs then. SIGKILL only queues a death; what the process holds
// (its sockets) is released when it has exited, not when kill() returns.
bool wait_ended(const std::vector<pid_t>& pids, std::chrono::milliseconds limit);

// The first executable named `name` in /usr/sbin, /usr/bin, /sbin, /bin; "" if none.
std::string find_program(const std::string& name);

}  // namespace plugbox::testing
