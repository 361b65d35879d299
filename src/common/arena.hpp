#pragma once
// Arena: bump allocator for the bytes of Datums computed during evaluation (string results of
// functions, decoded parameters). Everything is freed at once by reset() or destruction.
// Not thread-safe: one owner.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace freshet {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  char* allocate(size_t n) {
    if (n > remaining_) grow(n);
    char* p = cur_;
    cur_ += n;
    remaining_ -= n;
    return p;
  }
  std::string_view copy(std::string_view s) {
    if (s.empty()) return std::string_view();
    char* p = allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return std::string_view(p, s.size());
  }
  // Frees everything but keeps the first block for reuse.
  void reset() {
    if (blocks_.size() > 1) blocks_.erase(blocks_.begin() + 1, blocks_.end());
    if (!blocks_.empty()) {
      cur_ = blocks_[0].get();
      remaining_ = first_size_;
    }
    bytes_allocated_ = blocks_.empty() ? 0 : first_size_;
  }
  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  void grow(size_t n) {
    size_t size = n > kBlockSize / 4 ? n : kBlockSize;
    blocks_.push_back(std::make_unique<char[]>(size));
    if (blocks_.size() == 1) first_size_ = size;
    cur_ = blocks_.back().get();
    remaining_ = size;
    bytes_allocated_ += size;
  }
  static constexpr size_t kBlockSize = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  size_t remaining_ = 0;
  size_t first_size_ = 0;
  size_t bytes_allocated_ = 0;
};

}  // namespace freshet
