// The few filesystem operations the chain is built from, each either done
// completely and durably or reported as a ServerError naming the step. Links
// are replaced by rename(2) of a fresh temporary link, so a reader (or a crash)
// sees the old link or the new one, never none.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/unique_fd.h"

namespace plugbox::server {

enum class FileKind { absent, directory, symlink, regular, other };
// What `p` itself is (lstat: a symlink is a symlink, not what it points at).
FileKind kind_of(const std::filesystem::path& p);

// The text of symlink `p`; throws unless p is a symlink.
std::string read_link(const std::filesystem::path& p);

// Makes `link` a symlink whose text is `target`: a temporary link in
// `tmp_dir` (same filesystem) is renamed over `link`, then link's directory is
// fsynced. `link` may exist (a symlink or file, not a directory).
void replace_symlink(const std::filesystem::path& link, std::string_view target,
                     const std::filesystem::path& tmp_dir);

// Removes symlink (or file) `p` if present and fsyncs its directory.
void remove_file(const std::filesystem::path& p);

// Creates directory `p` (one level) unless it already is one (or a symlink
// to one).
// Returns true when it was created.
bool make_dir(const std::filesystem::path& p, unsigned mode = 0755);

void fsync_dir(const std::filesystem::path& dir);

// Replaces `p` with a file holding exactly `content`, via a temporary file in
// `tmp_dir` that is fsynced and renamed over it; then fsyncs p's directory.
void write_file_atomic(const std::filesystem::path& p, std::string_view content,
                       const std::filesystem::path& tmp_dir);

// Appends `line` (which must end in '\n') with one write(2) on an O_APPEND
// descriptor, then fsyncs: concurrent appenders never interleave within a line.
// When the file does not end in '\n' (a torn line), the write starts with
// '\n'. A short write (full disk) is truncated back off and reported; `p`
// must be a regular file (not followed if a symlink).
void append_line(const std::filesystem::path& p, std::string_view line);

// The whole content of a regular file; throws if unreadable.
std::string read_file(const std::filesystem::path& p);

// Deletes the tree at `p` without following symlinks. Uploaded trees may hold
// read-only directories, so directory permissions are opened up first.
// Absent `p` is fine.
void remove_tree(const std::filesystem::path& p);

// Sum of the sizes of regular files under `p` (symlinks not followed;
// hard-linked files counted each time they appear).
std::uint64_t tree_size(const std::filesystem::path& p);

}  // namespace plugbox::server
