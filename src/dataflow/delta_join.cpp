#include "dataflow/delta_join.hpp"

#include <algorithm>
#include <bit>

#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/columns_needed.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/operators.hpp"

namespace freshet::dataflow {

void DeltaIndex::build(const std::vector<KeyedUpdate>& updates) {
  updates_ = &updates;
  const size_t cap = std::bit_ceil(std::max<size_t>(16, updates.size() * 2));
  const size_t mask = cap - 1;
  heads_.assign(cap, kNone);
  next_.assign(updates.size(), kNone);
  hashes_.resize(updates.size());
  for (uint32_t i = 0; i < updates.size(); ++i) {
    const size_t h = hash_bytes(updates[i].key);
    hashes_[i] = h;
    size_t pos = h & mask;
    while (heads_[pos] != kNone && (hashes_[heads_[pos]] != h || updates[heads_[pos]].key != updates[i].key)) pos = (pos + 1) & mask;
    if (heads_[pos] == kNone) {
      heads_[pos] = i;
    } else {
      next_[i] = next_[heads_[pos]];
      next_[heads_[pos]] = i;
    }
  }
}

void DeltaIndex::clear() {
  updates_ = nullptr;
  // Given back rather than kept for the next step: a view's state would carry the table of
  // its largest step (hydration) for ever.
  std::vector<uint32_t>().swap(heads_);
  std::vector<uint32_t>().swap(next_);
  std::vector<size_t>().swap(hashes_);
}

namespace {

int64_t mul_diffs(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw SqlError(sqlstate::kNumericValueOutOfRange, "multiplicity out of range");
  return r;
}

// The batch's updates with their canonical keys (copied into `keys`), borrowing the rows;
// updates whose key has a NULL are dropped (SQL `=` matches nothing).
std::vector<KeyedUpdate> key_updates(StepContext& ctx, Batch& batch, const std::vector<ScalarExpr>& key, Arena& keys,
                                     std::string& kbytes) {
  std::vector<KeyedUpdate> out;
  out.reserve(batch.size());
  std::vector<Datum> row, k;
  const size_t prefix = columns_needed(key);
  size_t n = 0;
  for (Update& u : batch) {
    if ((++n & kPollMask) == 0) ctx.check_cancelled();
    if (u.diff == 0) continue;
    KeyedUpdate ku;
    if (!key.empty()) {
      if (!join_key_bytes(u.row, key, prefix, ctx.eval, row, k, kbytes)) continue;
      ku.key = keys.copy(kbytes);
    }
    ku.row = u.row;
    ku.diff = u.diff;
    out.push_back(ku);
  }
  return out;
}

// The step's change of an arrangement, keyed and indexed (`pending`), its rows kept in
// `pending_batch` (ArrangeOp and ReadArrangedOp).
void take_change(StepContext& ctx, SharedArrangement& a, Batch input, const std::vector<ScalarExpr>& key,
                 std::string& kbytes) {
  a.pending_batch.clear();
  a.pending_batch = std::move(input);
  a.pending = key_updates(ctx, a.pending_batch, key, a.keys, kbytes);
  if (a.pending.empty()) {
    a.pending_batch.clear();
    std::vector<KeyedUpdate>().swap(a.pending);
  } else {
    a.pending_index.build(a.pending);
  }
}

}  // namespace

void SharedArrangement::read_owner() {
  FRESHET_ASSERT(external != nullptr);
  read_external = true;
  trace = Arrangement();
  borrowed = BorrowedRows();
  pending_index.clear();
  std::vector<KeyedUpdate>().swap(pending);
  pending_batch = Batch();
  keys.reset();
}

void SharedArrangement::settle() {
  pending_index.clear();
  if (!read_external) merge_pending();
  std::vector<KeyedUpdate>().swap(pending);
  pending_batch = Batch();
  keys.reset();
}

namespace {

class ArrangeOp final : public Operator {
 public:
  ArrangeOp(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr) : key_(std::move(key)), arr_(std::move(arr)) {}
  std::string name() const override { return "Arrange"; }
  size_t state_size() const override { return arr_->trace.num_entries() + arr_->borrowed.num_rows() + arr_->pending.size(); }
  size_t state_bytes() const override { return arr_->size_bytes(); }
  bool state_bytes_cheap() const override { return true; }
  Exchange exchange(size_t) const override { return Exchange::by_exprs(key_); }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch&) override {
    SharedArrangement& a = *arr_;
    // The previous step's change joins the trace now that every lookup of that step has run
    // (the hydration's borrowed when it qualifies).
    a.pending_index.clear();
    a.merge_pending();
    a.pending.clear();
    a.keys.reset();
    take_change(ctx, a, std::move(inputs[0]), key_, kbytes_);
  }

 private:
  std::vector<ScalarExpr> key_;
  std::shared_ptr<SharedArrangement> arr_;
  std::string kbytes_;
};

class ReadArrangedOp final : public Operator {
 public:
  ReadArrangedOp(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr) : key_(std::move(key)), arr_(std::move(arr)) {}
  std::string name() const override { return "ReadArranged"; }
  size_t state_size() const override { return arr_->pending.size(); }
  size_t state_bytes() const override { return arr_->size_bytes(); }
  bool state_bytes_cheap() const override { return true; }
  Exchange exchange(size_t) const override { return Exchange::by_exprs(key_); }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch&) override {
    SharedArrangement& a = *arr_;
    if (!a.read_external) {
      // The owner at this step (never on the first, the hydration: its snapshot comes in as
      // the change): its arrangement holds what the private copy and the last change add up to.
      if (stepped_ && a.owner_at_step) {
        a.read_owner();
      } else {
        a.pending_index.clear();
        a.merge_pending();
      }
    }
    stepped_ = true;
    a.pending_index.clear();
    std::vector<KeyedUpdate>().swap(a.pending);
    a.keys.reset();
    take_change(ctx, a, std::move(inputs[0]), key_, kbytes_);
  }

 private:
  std::vector<ScalarExpr> key_;
  std::shared_ptr<SharedArrangement> arr_;
  std::string kbytes_;
  bool stepped_ = false;
};

class LookupOp final : public Operator {
 public:
  explicit LookupOp(LookupSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "Lookup"; }
  Exchange exchange(size_t) const override { return Exchange::by_exprs(spec_.stream_key); }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    reserved_ = 0;
    const SharedArrangement& arr = *spec_.arranged;
    // Nothing to find (a hydration's path whose input looks up an input only as it was before
    // the step): the stream is not keyed at all.
    if (arr.finds_nothing(spec_.with_change)) return;
    std::vector<KeyedUpdate> ds = key_updates(ctx, inputs[0], spec_.stream_key, keys_, kbytes_);
    for (const KeyedUpdate& s : ds) {
      arr.for_each(s.key, spec_.with_change, [&](RowRef b, int64_t d) { emit(ctx, s.row, b, mul_diffs(s.diff, d), out); });
    }
    keys_.reset();
  }

 private:
  void emit(StepContext& ctx, RowRef a, RowRef b, int64_t diff, Batch& out) {
    if (!spec_.residual_equal.empty() || !spec_.residual.empty()) {
      if ((++checked_ & kPollMask) == 0) ctx.check_cancelled();
      if (!join_residual_passes(a, b, spec_.residual_equal, spec_.residual, ctx.eval, scratch_)) return;
    }
    const size_t row_bytes = a.size_bytes() + b.size_bytes();
    if (spec_.segment_order.empty()) {
      out.push_concat(a, b, ctx.time, diff);
    } else {
      const size_t n = spec_.segment_arity.size();
      segments_.resize(n);
      std::string_view rest = a.bytes();
      for (size_t s = 0; s + 1 < n; ++s) {
        const size_t len = prefix_bytes(RowRef(rest), spec_.segment_arity[s]);
        segments_[s] = rest.substr(0, len);
        rest.remove_prefix(len);
      }
      segments_[n - 1] = b.bytes();
      reordered_.clear();
      for (uint32_t k : spec_.segment_order) reordered_.append(segments_[k]);
      out.emplace_back(RowRef(reordered_), ctx.time, diff);
    }
    if ((out.size() & kPollMask) == 0) {
      ctx.check_cancelled();
      ctx.check_size(out.size());
      ctx.check_memory(out.size() * (sizeof(Update) + row_bytes));
      ctx.reserve_output(out, reserved_);
    }
  }

  LookupSpec spec_;
  std::vector<Datum> scratch_;
  std::vector<std::string_view> segments_;  // the output row's inputs (segment_order)
  std::string reordered_;
  size_t reserved_ = 0;
  size_t checked_ = 0;
  Arena keys_;
  std::string kbytes_;
};

}  // namespace

std::unique_ptr<Operator> make_arrange(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr) {
  return std::make_unique<ArrangeOp>(std::move(key), std::move(arr));
}

std::unique_ptr<Operator> make_read_arranged(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr) {
  FRESHET_ASSERT(arr->external != nullptr);
  return std::make_unique<ReadArrangedOp>(std::move(key), std::move(arr));
}

std::unique_ptr<Operator> make_lookup(LookupSpec spec) { return std::make_unique<LookupOp>(std::move(spec)); }

}  // namespace freshet::dataflow
