#include "storage/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace freshet::storage::io {

namespace {
std::atomic<int> g_fail_writes{0};  // TEST ONLY (set_fail_writes_for_testing)
}  // namespace

Status error_from_errno(std::string_view what, const std::string& path, int err) {
  return Status::error(std::string(what) + " " + path + ": " + std::strerror(err));
}

bool is_disk_full(const Status& s) {
  if (s.is_ok()) return false;
  const std::string& m = s.message();
  return m.find(std::strerror(ENOSPC)) != std::string::npos || m.find(std::strerror(EDQUOT)) != std::string::npos;
}

void set_fail_writes_for_testing(int err) { g_fail_writes.store(err); }

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<File> File::open(const std::string& path, bool create) {
  if (int err = g_fail_writes.load(); err != 0 && create) return error_from_errno("open", path, err);
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  int fd;
  do fd = ::open(path.c_str(), flags, 0600);  // owner only: segments hold user data and secrets
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return error_from_errno("open", path, errno);
  return File(fd, path);
}

Result<File> File::open_read(const std::string& path) {
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return error_from_errno("open", path, errno);
  return File(fd, path);
}

Status File::pwrite_all(const void* data, size_t n, uint64_t pos) const {
  if (int err = g_fail_writes.load(); err != 0) return error_from_errno("write", path_, err);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(pos));
    if (w < 0) {
      if (errno == EINTR) continue;
      return error_from_errno("write", path_, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    pos += static_cast<uint64_t>(w);
  }
  return Status::ok();
}

Result<size_t> File::pread_some(void* data, size_t n, uint64_t pos) const {
  char* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, p + got, n - got, static_cast<off_t>(pos + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return error_from_errno("read", path_, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

Status File::pread_all(void* data, size_t n, uint64_t pos) const {
  auto r = pread_some(data, n, pos);
  if (!r) return r.status();
  if (*r != n) return Status::error("read " + path_ + ": unexpected end of file at " + std::to_string(pos + *r));
  return Status::ok();
}

Status File::datasync() const {
  if (int err = g_fail_writes.load(); err != 0) return error_from_errno("fdatasync", path_, err);
  if (::fdatasync(fd_) != 0) return error_from_errno("fdatasync", path_, errno);
  return Status::ok();
}

Status File::sync() const {
  if (::fsync(fd_) != 0) return error_from_errno("fsync", path_, errno);
  return Status::ok();
}

Status File::truncate(uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return error_from_errno("ftruncate", path_, errno);
  return Status::ok();
}

Result<uint64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return error_from_errno("fstat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return error_from_errno("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return error_from_errno("fsync directory", dir, err);
  return Status::ok();
}

Status write_file_atomic(const std::string& dir, const std::string& name, std::string_view bytes) {
  std::string tmp = dir + "/" + name + ".tmp";
  ::unlink(tmp.c_str());
  auto f = File::open(tmp, true);
  if (!f) return f.status();
  if (auto s = f->pwrite_all(bytes.data(), bytes.size(), 0); !s) return s;
  if (auto s = f->sync(); !s) return s;
  if (auto s = rename_path(tmp, dir + "/" + name); !s) return s;
  return fsync_dir(dir);
}

Result<std::string> read_file(const std::string& path) {
  auto f = File::open_read(path);
  if (!f) return f.status();
  auto size = f->size();
  if (!size) return size.status();
  std::string out(*size, '\0');
  if (auto s = f->pread_all(out.data(), out.size(), 0); !s) return s;
  return out;
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return error_from_errno("mkdir", path, errno);
  return Status::ok();
}

Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return error_from_errno("unlink", path, errno);
  return Status::ok();
}

Status rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return error_from_errno("rename " + from + " to", to, errno);
  return Status::ok();
}

Status restrict_to_owner(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto tighten = [&](const fs::path& p, const fs::file_status& st) -> Status {
    if (fs::is_symlink(st)) return Status::ok();
    fs::perms want = fs::is_directory(st) ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write;
    fs::perms now = st.permissions();
    if ((now & ~want & fs::perms::mask) == fs::perms::none) return Status::ok();
    fs::permissions(p, now & want, fs::perm_options::replace, ec);
    if (ec) return Status::error("chmod " + p.string() + ": " + ec.message());
    return Status::ok();
  };
  if (auto s = tighten(path, fs::symlink_status(path, ec)); !s) return s;
  if (ec) return Status::error("stat " + path + ": " + ec.message());
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto s = tighten(it->path(), it->symlink_status(ec)); !s) return s;
  }
  if (ec) return Status::error("walk " + path + ": " + ec.message());
  return Status::ok();
}

Status remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::error("remove " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace freshet::storage::io
