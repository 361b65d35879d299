#pragma once
// Thin POSIX file helpers for src/storage: every call returns a Status naming the file and
// errno, retries EINTR and short reads/writes. No buffering, no state.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace freshet::storage::io {

// An owned file descriptor (closed on destruction).
class File {
 public:
  File() = default;
  explicit File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // O_RDWR (| O_CREAT | O_EXCL when create).
  static Result<File> open(const std::string& path, bool create);
  static Result<File> open_read(const std::string& path);

  Status pwrite_all(const void* data, size_t n, uint64_t pos) const;
  // Reads exactly n bytes at pos; an error when the file is shorter.
  Status pread_all(void* data, size_t n, uint64_t pos) const;
  // Reads up to n bytes at pos; returns how many (fewer only at end of file).
  Result<size_t> pread_some(void* data, size_t n, uint64_t pos) const;
  Status datasync() const;  // fdatasync
  Status sync() const;      // fsync
  Status truncate(uint64_t size) const;
  Result<uint64_t> size() const;

 private:
  int fd_ = -1;
  std::string path_;
};

Status fsync_dir(const std::string& dir);
// Writes path atomically and durably: path.tmp, fsync, rename over path, fsync dir.
Status write_file_atomic(const std::string& dir, const std::string& name, std::string_view bytes);
Result<std::string> read_file(const std::string& path);
// Files and directories are created readable by their owner only (0600 / 0700): segments
// and manifests hold user data and the catalog.
Status make_dir(const std::string& path);  // ok if it exists
// Takes group and other permissions away from path and everything under it (directories
// 0700, files 0600 at most); symlinks are not followed.
Status restrict_to_owner(const std::string& path);
Status remove_file(const std::string& path);
Status rename_path(const std::string& from, const std::string& to);
Status remove_tree(const std::string& path);
Status error_from_errno(std::string_view what, const std::string& path, int err);

// True when s is a failure because the file system is full (ENOSPC) or a quota is exhausted
// (EDQUOT). Status carries no error code, so this recognizes the strerror() text that
// error_from_errno() puts in every I/O error's message (the text is fixed by the C library).
bool is_disk_full(const Status& s);

// TEST ONLY. Makes every later write of file data in this process (pwrite_all, creating a file,
// and the fsyncs) fail with errno err as if the device had failed, until it is called again
// with 0. For unit tests of the failure paths (src/storage/collection_test.cpp); the e2e tests
// fill a real tmpfs instead. Never set by the server.
void set_fail_writes_for_testing(int err);

}  // namespace freshet::storage::io
