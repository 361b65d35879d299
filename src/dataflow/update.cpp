#include "dataflow/update.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common/error.hpp"
#include "common/huge_pages.hpp"
#include "common/numeric.hpp"

namespace freshet::dataflow {

int64_t add_diffs(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "multiplicity out of range");
  }
  return r;
}

static_assert(std::is_trivially_destructible_v<Update>, "release_update_pages zeroes updates before their vector is freed");

void Batch::release_update_pages() noexcept {
  constexpr size_t kMinBytes = size_t{64} << 20, kSliceBytes = size_t{32} << 20;
  const size_t bytes = updates_.capacity() * sizeof(Update);
  if (bytes < kMinBytes) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Whole pages inside the allocation only: the allocator's header before data() is kept.
  const uintptr_t data = reinterpret_cast<uintptr_t>(updates_.data());
  const uintptr_t begin = (data + page - 1) & ~(page - 1), end = (data + bytes) & ~(page - 1);
  for (uintptr_t p = begin; p < end; p += kSliceBytes) {
    // A failure only means the munmap does the work instead.
    (void)madvise(reinterpret_cast<void*>(p), std::min<uintptr_t>(kSliceBytes, end - p), MADV_DONTNEED);
  }
}

Batch::Batch(const Batch& other) : updates_(other.updates_) {
  share_blocks_of(other);
  block_bytes_ = other.block_bytes_;
}

Batch& Batch::operator=(const Batch& other) {
  if (this != &other) *this = Batch(other);
  return *this;
}

void Batch::share_blocks_of(const Batch& other) {
  // Our current block (if any) stays the one we fill, so the shared ones go before it. A
  // shared block is never written by this batch (cur_ points into our own last block only).
  std::shared_ptr<char[]> mine;
  if (cur_ != nullptr) {
    mine = std::move(blocks_.back());
    blocks_.pop_back();
  }
  blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
  if (mine) blocks_.push_back(std::move(mine));
}

void Batch::append(Batch&& other) {
  if (other.updates_.empty()) {
    other.clear();
    return;
  }
  if (updates_.empty() && blocks_.empty()) {
    *this = std::move(other);
    return;
  }
  updates_.insert(updates_.end(), other.updates_.begin(), other.updates_.end());
  // Our current block stays the one we fill; the other's blocks only keep its rows alive.
  std::shared_ptr<char[]> mine;
  if (cur_ != nullptr) {
    mine = std::move(blocks_.back());
    blocks_.pop_back();
  }
  for (auto& b : other.blocks_) blocks_.push_back(std::move(b));
  if (mine) blocks_.push_back(std::move(mine));
  block_bytes_ += other.block_bytes_;
  other.clear();
}

void Batch::reserve_bytes(size_t n) {
  if (n > remaining_) grow(n);
}

void Batch::grow(size_t n) {
  // Geometric from 128 bytes up to 8 MB a block (a one-row batch stays small; a big one makes
  // few allocations); a row larger than that gets a block of its own size. What was left in
  // the previous block is given up (at most half of what the batch holds). Blocks from 4 MB on
  // get transparent huge pages (common/huge_pages.hpp): a batch of hundreds of megabytes (a
  // table's frozen copy, a hydration's projection) faulted in 4 KiB pages spent more time in
  // the faults than in copying its rows. The cap was 1 MB, below any aligned 2 MiB page.
  constexpr size_t kFirst = 128, kMax = size_t{8} << 20;
  size_t size = last_block_ == 0 ? kFirst : std::min(last_block_ * 2, kMax);
  if (size < n) size = n;
  blocks_.push_back(std::make_shared_for_overwrite<char[]>(size));
  advise_huge_pages(blocks_.back().get(), size);
  last_block_ = size;
  block_bytes_ += size;
  cur_ = blocks_.back().get();
  remaining_ = size;
}

void consolidate(Batch& batch) {
  if (batch.size() <= 1) {
    if (batch.size() == 1 && batch[0].diff == 0) batch.clear();
    return;
  }
  std::sort(batch.begin(), batch.end(), [](const Update& a, const Update& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.row.bytes() < b.row.bytes();
  });
  size_t out = 0;
  for (size_t i = 0; i < batch.size();) {
    size_t j = i + 1;
    int64_t d = batch[i].diff;
    while (j < batch.size() && batch[j].time == batch[i].time && batch[j].row == batch[i].row) {
      d = add_diffs(d, batch[j].diff);
      ++j;
    }
    if (d != 0) {
      if (out != i) batch[out] = batch[i];
      batch[out].diff = d;
      ++out;
    }
    i = j;
  }
  batch.truncate(out);
}

void consolidate(std::vector<std::pair<Row, int64_t>>& rows) {
  if (rows.empty()) return;
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first.bytes() < b.first.bytes(); });
  size_t out = 0;
  for (size_t i = 0; i < rows.size();) {
    size_t j = i + 1;
    int64_t d = rows[i].second;
    while (j < rows.size() && rows[j].first == rows[i].first) {
      d = add_diffs(d, rows[j].second);
      ++j;
    }
    if (d != 0) {
      if (out != i) rows[out] = std::move(rows[i]);
      rows[out].second = d;
      ++out;
    }
    i = j;
  }
  rows.resize(out);
}

namespace {
Datum canonical_datum(const Datum& d) {
  switch (d.kind()) {
    case PhysicalKind::kNumeric: {
      Numeric n = d.as_numeric();
      if (n.is_nan()) return d;
      return Datum::from_numeric(numeric_normalize(n));
    }
    case PhysicalKind::kFloat: {
      double f = d.as_float();
      if (f == 0) return Datum::from_float(0.0);
      if (std::isnan(f)) return Datum::from_float(std::nan(""));
      return d;
    }
    case PhysicalKind::kInterval: {
      // PostgreSQL compares intervals by their span, a month counting 30 days.
      Interval iv = d.as_interval();
      Numeric n;
      n.mantissa = (__int128)iv.months * 30 * 86'400'000'000LL + (__int128)iv.days * 86'400'000'000LL + iv.micros;
      n.scale = 0;
      return Datum::from_numeric(n);
    }
    default:
      return d;
  }
}
}  // namespace

void append_canonical_key(std::span<const Datum> datums, std::string& out) {
  RowPacker p(out);
  for (const Datum& d : datums) p.push(needs_canonical(d) ? canonical_datum(d) : d);
}

Row canonical_row(RowRef row) {
  // Fast path: scan the packed bytes' datums once; rewrite only if needed.
  std::vector<Datum> ds;
  row.unpack_into(ds);
  bool need = false;
  for (const Datum& d : ds) need = need || needs_canonical(d);
  if (!need) return Row(std::string(row.bytes()));
  std::string out;
  append_canonical_key(ds, out);
  return Row(std::move(out));
}

}  // namespace freshet::dataflow
