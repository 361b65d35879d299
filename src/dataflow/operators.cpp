#include "dataflow/operators.hpp"
#include "dataflow/row_aggregator.hpp"
#include "dataflow/join_reduce.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/columns_needed.hpp"
#include "common/format.hpp"
#include "common/sql_dialect.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"
#include "common/unsigned_int.hpp"
#include "dataflow/arrangement.hpp"
#include "dataflow/borrowed_rows.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/flat_index.hpp"

namespace freshet::dataflow {

namespace {

int64_t mul_diffs(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "multiplicity out of range");
  }
  return r;
}

// Aggregates that list their values (an ordered multiset per group).
bool is_list_agg(AggKind k) {
  return k == AggKind::kStringAgg || k == AggKind::kArrayAgg || k == AggKind::kJsonbAgg || k == AggKind::kJsonbObjectAgg;
}
// NULL values are kept (array_agg, jsonb_agg; jsonb_object_agg's NULL key is an error).
bool keeps_nulls(AggKind k) { return k == AggKind::kArrayAgg || k == AggKind::kJsonbAgg || k == AggKind::kJsonbObjectAgg; }
// A second argument in AggregateExpr::separator (string_agg's separator, jsonb_object_agg's value).
bool has_second_arg(AggKind k) { return k == AggKind::kStringAgg || k == AggKind::kJsonbObjectAgg; }

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return hash_bytes(s); }
};

// ---------------------------------------------------------------------------------------------
// Linear operators

class MfpOp final : public Operator {
 public:
  explicit MfpOp(std::vector<MfpStage> stages) : program_(std::move(stages)) {}
  std::string name() const override { return "Mfp"; }
  // Maps append columns and filters keep rows: the placing columns follow the projections
  // (an alternative is lost when a projection drops one of its columns).
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override {
    std::vector<Partitioning> out;
    for (Partitioning p : in[0].parts) {
      bool kept = true;
      for (const MfpStage& st : program_.stages()) {
        if (st.kind != MfpStage::Kind::kProject) continue;
        for (uint32_t& c : p) {
          auto it = std::find(st.columns.begin(), st.columns.end(), c);
          if (it == st.columns.end()) {
            kept = false;
            break;
          }
          c = static_cast<uint32_t>(it - st.columns.begin());
        }
        if (!kept) break;
      }
      if (kept) out.push_back(std::move(p));
    }
    return out;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    Batch& in = inputs[0];
    // A filter keeps rows as they are: the kept updates are compacted in place and the input's
    // buffers become the output's (no row is copied).
    const bool filter_only = program_.filter_only();
    size_t kept = 0;
    if (!filter_only) out.reserve(out.size() + in.size());
    Arena* arena = ctx.eval.arena;
    size_t n = 0;
    RowRef result;
    for (Update& u : in) {
      if ((++n & kPollMask) == 0) ctx.check_cancelled();
      if (program_.apply(u.row, ctx.eval, result)) {
        if (filter_only) {
          in[kept++] = u;
        } else {
          out.emplace_back(result, u.time, u.diff);
        }
      }
      arena->reset();
    }
    if (filter_only) {
      in.truncate(kept);
      out.append(std::move(in));
    }
  }

 private:
  MfpProgram program_;
};

class UnionOp final : public Operator {
 public:
  std::string name() const override { return "Union"; }
  // Each update stays where it was: placed by what places every input.
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override {
    std::vector<Partitioning> out;
    for (const Partitioning& p : in[0].parts) {
      bool all = true;
      for (const InputPlacement& other : in) all = all && std::find(other.parts.begin(), other.parts.end(), p) != other.parts.end();
      if (all) out.push_back(p);
    }
    return out;
  }
  void step(StepContext&, std::span<Batch> inputs, Batch& out) override {
    for (Batch& b : inputs) out.append(std::move(b));
  }
};

class NegateOp final : public Operator {
 public:
  std::string name() const override { return "Negate"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }
  void step(StepContext&, std::span<Batch> inputs, Batch& out) override {
    for (Update& u : inputs[0]) u.diff = -u.diff;
    out.append(std::move(inputs[0]));
  }
};

class ConstantOp final : public Operator {
 public:
  explicit ConstantOp(std::vector<std::pair<Row, int64_t>> rows) : rows_(std::move(rows)) {}
  std::string name() const override { return "Constant"; }
  void step(StepContext& ctx, std::span<Batch>, Batch& out) override {
    if (emitted_) return;
    emitted_ = true;
    for (auto& [r, d] : rows_) {
      if (d != 0) out.push_back(Update{r, ctx.time, d});
    }
  }

 private:
  std::vector<std::pair<Row, int64_t>> rows_;
  bool emitted_ = false;
};

class EqualityFilterOp final : public Operator {
 public:
  explicit EqualityFilterOp(std::vector<std::pair<ScalarExpr, ScalarExpr>> pairs) : pairs_(std::move(pairs)) {}
  std::string name() const override { return "EqualityFilter"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }
  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Datum> row;
    Batch& in = inputs[0];
    size_t kept = 0;  // compacted in place; the input's buffers become the output's
    size_t n = 0;
    for (Update& u : in) {
      if ((++n & kPollMask) == 0) ctx.check_cancelled();
      row.clear();
      u.row.unpack_into(row);
      bool keep = true;
      for (const auto& [a, b] : pairs_) {
        if (!sql_equal(eval(a, row, ctx.eval), eval(b, row, ctx.eval))) {
          keep = false;
          break;
        }
      }
      if (keep) in[kept++] = u;
      ctx.eval.arena->reset();
    }
    in.truncate(kept);
    out.append(std::move(in));
  }

 private:
  std::vector<std::pair<ScalarExpr, ScalarExpr>> pairs_;
};

// ---------------------------------------------------------------------------------------------
// Join


class JoinOp final : public Operator {
 public:
  explicit JoinOp(JoinSpec spec) : spec_(std::move(spec)) {}
  // A join folded into the Reduce above it (make_join_reduce): each pair goes into `agg`'s
  // groups as it is found instead of into the output; the output is the Reduce's.
  JoinOp(JoinSpec spec, std::unique_ptr<Operator> reduce, RowAggregator* agg)
      : spec_(std::move(spec)), reduce_(std::move(reduce)), agg_(agg) {}
  std::string name() const override { return agg_ != nullptr ? "JoinReduce" : "Join"; }
  // A pair is output on the shard where its two rows met, and its first columns are the left
  // row's: placed as the left input is. (The right input's placements hold too, shifted by
  // the left arity, which the operator does not know.) Folded into a Reduce: not tracked.
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override {
    if (reduce_ != nullptr || !in[0].as_asked || !in[1].as_asked) return {};
    return in[0].parts;
  }
  size_t state_size() const override {
    return left_.num_entries() + right_.num_entries() + left_borrowed_.num_rows() + right_borrowed_.num_rows() +
           (reduce_ != nullptr ? reduce_->state_size() : 0);
  }
  size_t state_bytes() const override {
    return left_.size_bytes() + right_.size_bytes() + left_borrowed_.size_bytes() + right_borrowed_.size_bytes() +
           (reduce_ != nullptr ? reduce_->state_bytes() : 0);
  }
  bool state_bytes_cheap() const override { return reduce_ == nullptr; }  // a Reduce's is a walk
  Exchange exchange(size_t input) const override { return Exchange::by_exprs(input == 0 ? spec_.left_key : spec_.right_key); }
  // An inner join (residuals filter each pair). Not when folded into a Reduce: a broadcast
  // join spreads the other side by the whole row, so one group's pairs would be found on
  // several shards.
  bool bilinear() const override { return agg_ == nullptr; }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    reserved_ = 0;
    std::vector<KeyedUpdate> dl = key_batch(ctx, inputs[0], spec_.left_key);
    std::vector<KeyedUpdate> dr = key_batch(ctx, inputs[1], spec_.right_key);
    // ΔA ⋈ B_old
    for (const KeyedUpdate& a : dl) {
      auto emit_b = [&](RowRef b, int64_t d) { emit(ctx, a.row, b, mul_diffs(a.diff, d), out); };
      right_borrowed_.for_each(a.key, emit_b);
      if (auto es = right_.find(a.key)) es->for_each(emit_b);
    }
    // A_old ⋈ ΔB
    for (const KeyedUpdate& b : dr) {
      auto emit_a = [&](RowRef a, int64_t d) { emit(ctx, a, b.row, mul_diffs(d, b.diff), out); };
      left_borrowed_.for_each(b.key, emit_a);
      if (auto es = left_.find(b.key)) es->for_each(emit_a);
    }
    // ΔA ⋈ ΔB through a hash of the smaller delta.
    if (!dl.empty() && !dr.empty()) {
      bool build_left = dl.size() <= dr.size();
      const std::vector<KeyedUpdate>& build = build_left ? dl : dr;
      const std::vector<KeyedUpdate>& probe = build_left ? dr : dl;
      // An open-addressing table (linear probing, at most half full) of the first entry of
      // each distinct key, the others chained through `next`: three flat arrays, no
      // allocation per key (a node-based map of vectors was 12% of a one-shot join).
      constexpr uint32_t kNone = UINT32_MAX;
      const size_t cap = std::bit_ceil(std::max<size_t>(16, build.size() * 2));
      const size_t mask = cap - 1;
      std::vector<uint32_t> heads(cap, kNone), next(build.size(), kNone);
      // A maintained join's big step (its hydration): room for one output per probe row up
      // front, the usual shape (each bid meets its one auction), so that the output's update
      // vector is not doubled and moved ~20 times into fresh pages on the way to a million
      // rows (one-shot joins, with a memory budget, reserve at their polls instead).
      if (spec_.keep_state && probe.size() >= BorrowedRows::kMin) out.reserve(out.size() + probe.size());
      std::vector<size_t> hashes(build.size());
      StringHash hasher;
      for (uint32_t i = 0; i < build.size(); ++i) {
        size_t h = hasher(build[i].key);
        hashes[i] = h;
        size_t pos = h & mask;
        while (heads[pos] != kNone && (hashes[heads[pos]] != h || build[heads[pos]].key != build[i].key)) pos = (pos + 1) & mask;
        if (heads[pos] == kNone) {
          heads[pos] = i;
        } else {
          next[i] = next[heads[pos]];
          next[heads[pos]] = i;
        }
      }
      for (const KeyedUpdate& p : probe) {
        size_t h = hasher(p.key);
        size_t pos = h & mask;
        while (heads[pos] != kNone && (hashes[heads[pos]] != h || build[heads[pos]].key != p.key)) pos = (pos + 1) & mask;
        for (uint32_t i = heads[pos]; i != kNone; i = next[i]) {
          const KeyedUpdate& q = build[i];
          if (build_left) {
            emit(ctx, q.row, p.row, mul_diffs(q.diff, p.diff), out);
          } else {
            emit(ctx, p.row, q.row, mul_diffs(p.diff, q.diff), out);
          }
        }
      }
    }
    if (spec_.keep_state) {
      // The updates' rows are the inputs' (key_batch): a hydration's arrangements may borrow
      // them from the input batches' blocks instead of copying (borrowed_rows.hpp).
      // A constant input's rows have come (JoinSpec::left_constant): the other side is read
      // no more.
      const bool drop_left = constant_seen(spec_.right_constant, dr, right_constant_seen_);
      const bool drop_right = constant_seen(spec_.left_constant, dl, left_constant_seen_);
      if (drop_left) {
        left_ = Arrangement{};
        left_borrowed_ = BorrowedRows{};
      } else {
        arrange_borrowing(dl, inputs[0], left_, left_borrowed_);
      }
      if (drop_right) {
        right_ = Arrangement{};
        right_borrowed_ = BorrowedRows{};
      } else {
        arrange_borrowing(dr, inputs[1], right_, right_borrowed_);
      }
    }
    keys_.reset();
    if (agg_ != nullptr) agg_->emit(ctx.time, ctx.eval, out);
  }

 private:
  std::vector<KeyedUpdate> key_batch(StepContext& ctx, Batch& batch, const std::vector<ScalarExpr>& key) {
    std::vector<KeyedUpdate> out;
    out.reserve(batch.size());
    std::vector<Datum> row, k;
    const size_t prefix = columns_needed(key);  // only the key's columns are decoded
    const KeyColumns run = key_columns(key);
    for (Update& u : batch) {
      if (u.diff == 0) continue;
      KeyedUpdate ku;
      if (!key.empty()) {
        const KeySlice ks = run.count == 0 ? KeySlice::kEvaluate : key_slice(u.row, run, row, ku.key);
        if (ks == KeySlice::kNull) continue;
        if (ks == KeySlice::kEvaluate) {
          if (!join_key_bytes(u.row, key, prefix, ctx.eval, row, k, kbytes_)) continue;
          ku.key = keys_.copy(kbytes_);
        }
      }
      ku.row = u.row;  // borrows the input batch, which outlives the step
      ku.diff = u.diff;
      out.push_back(ku);
    }
    return out;
  }

  // A key that is columns first .. first + count - 1 of the row, in order (count 0: not).
  struct KeyColumns {
    uint32_t first = 0, count = 0;
  };
  static constexpr uint32_t kMaxKeyColumns = 8;
  static KeyColumns key_columns(const std::vector<ScalarExpr>& key) {
    if (key.empty() || key.size() > kMaxKeyColumns) return {};
    for (size_t i = 0; i < key.size(); ++i) {
      if (key[i].kind != ScalarKind::kColumn || key[i].column != key[0].column + i) return {};
    }
    return {key[0].column, static_cast<uint32_t>(key.size())};
  }
  enum class KeySlice : uint8_t { kSlice, kNull, kEvaluate };
  // The canonical key of a key of consecutive columns is those columns' encoded bytes, a
  // slice of the row (column_offsets: a row is its datums' encodings one after the other, and
  // append_canonical_key packs each datum as the row does), unless a datum needs its canonical
  // form (numeric, float, interval: kEvaluate, the general path) or is NULL (kNull: the row
  // joins nothing). The slice borrows the input batch, which outlives the step, as the
  // updates' rows do: no evaluation, no packing, no copy into keys_ (a hydration's keys were
  // a fresh arena the size of the join key of every input row).
  KeySlice key_slice(RowRef r, KeyColumns run, std::vector<Datum>& scratch, std::string_view& key) {
    const size_t end = size_t{run.first} + run.count;
    key_offsets_.resize(end + 1);
    if (column_offsets(r, end, key_offsets_.data()) != end) return KeySlice::kEvaluate;
    const std::string_view bytes = r.bytes().substr(key_offsets_[run.first], key_offsets_[end] - key_offsets_[run.first]);
    scratch.clear();
    RowRef(bytes).unpack_into(scratch);
    for (const Datum& d : scratch) {
      if (d.is_null()) return KeySlice::kNull;
      if (needs_canonical(d)) return KeySlice::kEvaluate;
    }
    key = bytes;
    return KeySlice::kSlice;
  }

  // Whether a constant input (is_constant) has brought its rows, this step (delta) or
  // before (seen, updated). A constant changes once: a second change would need the other
  // side's arrangement, which is gone, so it is refused rather than answered wrong.
  static bool constant_seen(bool is_constant, const std::vector<KeyedUpdate>& delta, bool& seen) {
    if (!is_constant) return false;
    if (!delta.empty()) {
      if (seen) throw SqlError(sqlstate::kInternalError, "a constant join input changed after its first rows");
      seen = true;
    }
    return seen;
  }

  void emit(StepContext& ctx, RowRef a, RowRef b, int64_t diff, Batch& out) {
    if (agg_ != nullptr) {
      // Folded into the Reduce: the pair's columns (a's, then b's, decoded once for the
      // residuals too) go straight into its group; no joined row is packed.
      if ((++rejected_ & kPollMask) == 0) ctx.check_cancelled();
      if (!join_residual_passes(a, b, spec_.residual_equal, spec_.residual, ctx.eval, scratch_)) return;
      agg_->add_row(scratch_, diff, ctx.eval);
      return;
    }
    if (!spec_.residual_equal.empty() || !spec_.residual.empty()) {
      if ((++rejected_ & kPollMask) == 0) ctx.check_cancelled();  // pairs that the residual may drop
      if (!join_residual_passes(a, b, spec_.residual_equal, spec_.residual, ctx.eval, scratch_)) return;
    }
    const size_t row_bytes = a.size_bytes() + b.size_bytes();
    out.push_concat(a, b, ctx.time, diff);
    if ((out.size() & kPollMask) == 0) {
      ctx.check_cancelled();
      ctx.check_size(out.size());
      // What the output holds so far, estimated from this row's size (joined rows of one join
      // are of similar size).
      ctx.check_memory(out.size() * (sizeof(Update) + row_bytes));
      ctx.reserve_output(out, reserved_);
    }
  }

  JoinSpec spec_;
  std::unique_ptr<Operator> reduce_;  // make_join_reduce: the Reduce folded in, else null
  RowAggregator* agg_ = nullptr;      // reduce_ as a row aggregator
  Arrangement left_, right_;
  BorrowedRows left_borrowed_, right_borrowed_;
  std::vector<Datum> scratch_;
  size_t reserved_ = 0;  // of this step's output (ctx.reserve_output)
  size_t rejected_ = 0;  // pairs checked against the residual equalities (polling)
  bool left_constant_seen_ = false, right_constant_seen_ = false;  // JoinSpec::left_constant
  Arena keys_;          // this step's canonical join keys (reset after the step)
  std::string kbytes_;  // the key being encoded
  std::vector<uint32_t> key_offsets_;  // key_slice's column offsets
};

// ---------------------------------------------------------------------------------------------
// Reduce

// Orders one-datum rows by their datum (compare_datums).
struct DatumRowLess {
  bool operator()(const Row& a, const Row& b) const { return compare_datums(a.get(0), b.get(0)) < 0; }
};
// Orders string_agg/array_agg entries: (value, separator) rows by value, then separator; with
// an ORDER BY inside the aggregate, (order values..., value, separator) rows by the sort keys
// (over the leading order values), then by bytes, so that equal keys keep a stable order.
struct RowLess {
  const std::vector<SortKey>* keys = nullptr;
  bool operator()(const Row& a, const Row& b) const {
    if (keys != nullptr && !keys->empty()) return compare_by_sort_keys(a.ref(), b.ref(), *keys) < 0;
    int c = compare_rows(a.ref(), b.ref());
    return c != 0 ? c < 0 : a.bytes() < b.bytes();
  }
};

// Materialize's order of jsonb values (its Datum order: false < true < strings < arrays <
// objects < numbers < null; arrays and objects element by element), by which it lists the
// values of a jsonb_agg without ORDER BY (expr/src/relation/func.rs order_aggregate_datums).
int json_mz_rank(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kBool: return v.b ? 1 : 0;
    case JsonValue::Kind::kString: return 2;
    case JsonValue::Kind::kArray: return 3;
    case JsonValue::Kind::kObject: return 4;
    case JsonValue::Kind::kNumber: return 5;
    case JsonValue::Kind::kNull: return 6;
  }
  return 6;
}
int json_mz_compare(const JsonValue& a, const JsonValue& b) {
  int ra = json_mz_rank(a), rb = json_mz_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind) {
    case JsonValue::Kind::kString:
      return a.str < b.str ? -1 : (a.str == b.str ? 0 : 1);
    case JsonValue::Kind::kNumber:
      try {
        return numeric_compare(numeric_parse(a.str), numeric_parse(b.str));
      } catch (const SqlError&) {
        return a.str < b.str ? -1 : (a.str == b.str ? 0 : 1);
      }
    case JsonValue::Kind::kArray:
      for (size_t i = 0; i < a.array.size() && i < b.array.size(); ++i)
        if (int c = json_mz_compare(a.array[i], b.array[i]); c != 0) return c;
      return a.array.size() < b.array.size() ? -1 : (a.array.size() == b.array.size() ? 0 : 1);
    case JsonValue::Kind::kObject:
      for (size_t i = 0; i < a.object.size() && i < b.object.size(); ++i) {
        if (a.object[i].first != b.object[i].first) return a.object[i].first < b.object[i].first ? -1 : 1;
        if (int c = json_mz_compare(a.object[i].second, b.object[i].second); c != 0) return c;
      }
      return a.object.size() < b.object.size() ? -1 : (a.object.size() == b.object.size() ? 0 : 1);
    default:
      return 0;
  }
}

Numeric numeric_of_int128(__int128 v) {
  static const __int128 kMax = [] {
    __int128 m = 1;
    for (int i = 0; i < 38; ++i) m *= 10;
    return m;
  }();
  if (v >= kMax || v <= -kMax) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  }
  Numeric n;
  n.mantissa = v;
  n.scale = 0;
  return n;
}

bool is_variance_agg(AggKind k) {
  return k == AggKind::kVarSamp || k == AggKind::kVarPop || k == AggKind::kStddevSamp || k == AggKind::kStddevPop;
}

// var_samp/var_pop/stddev_samp/stddev_pop: the count is AggState::count; the sums of the
// values and of their squares are kept exactly, so a retraction subtracts exactly and the
// result does not depend on the order the values came in. Integers in 128-bit sums; numeric
// (and float, through the shortest decimal text that reads back as the same double) in
// Numeric sums. A numeric sum's display scale is PostgreSQL's (the largest scale among the
// values present), so the number of values present per scale is counted: a value that left
// takes its scale with it.
//
// Float input is answered as PostgreSQL answers it, bit for bit: PostgreSQL accumulates
// doubles with the Youngs-Cramer algorithm (float8_accum in src/backend/utils/adt/float.c:
// N, Sx and Sxx, each new value folded in as it comes), whose rounding depends on the order of
// the values. `yc` is that accumulator over the values in the order they arrived; it answers
// while the group has only ever grown (no retraction since it was empty), which is every
// one-shot query and every insert-only view. A retraction cannot be undone in floating point
// exactly, so from the first retraction until the group is empty again the answer comes from
// the exact sums (the correctly rounded variance, which may differ from PostgreSQL's recomputed
// one in the last digits).
struct YoungsCramer {
  double n = 0, sx = 0, sxx = 0;
  bool valid = true;  // no retraction since the group was empty
  // float8_accum for one finite value. REQUIRES: isfinite(x).
  void add(double x) {
    double old_n = n;
    n += 1.0;
    double old_sx = sx;
    sx += x;
    if (old_n > 0.0) {
      double tmp = x * n - sx;
      sxx += tmp * tmp / (n * old_n);
      // PostgreSQL reports an overflow when finite inputs give infinite sums.
      if (std::isinf(sx) || std::isinf(sxx)) {
        if (!std::isinf(old_sx)) throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow");
        sxx = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
};

struct VarianceState {
  __int128 isum = 0, isum2 = 0;
  Numeric nsum, nsum2;
  int64_t scale_count[kNumericMaxDigits + 1] = {};
  YoungsCramer yc;
  int64_t inexact = 0;  // float values present that the exact sums could not take
};

// PostgreSQL's 1 GB field limit for an aggregate's value (string_agg, array_agg, jsonb_agg):
// 54000, as functions' values (common/functions_internal.hpp kMaxValueBytes).
constexpr size_t kMaxAggregateValueBytes = (size_t{1} << 30) - 1;
[[noreturn]] void aggregate_too_large(__int128 bytes) {
  throw SqlError(sqlstate::kProgramLimitExceeded, "out of memory")
      .with_detail("An aggregate's value of " + std::to_string(static_cast<long long>(bytes)) +
                   " bytes exceeds the limit of " + std::to_string(kMaxAggregateValueBytes) + " bytes.");
}

// Materialize's sum of float4/float8 (compute/src/render/reduce.rs, `Accum::Float`): each
// value as a fixed-point integer of 2^-24 units (`(f * 2^24) as i128`: truncated, saturating),
// summed with wrap-around, the result `accum as f64 / 2^24`. It is invertible, unlike a float
// sum, and it is what Materialize answers, wrap-around included (float.slt:150). Used under
// --sql-dialect materialize; NaN and infinities are counted apart as for PostgreSQL's sum.
static constexpr double kMzFloatScale = 16777216.0;
static __int128 mz_float_sum_add(__int128 acc, double f, int64_t diff) {
  using u128 = unsigned __int128;
  double x = f * kMzFloatScale;
  constexpr double kTwo127 = 170141183460469231731687303715884105728.0;
  __int128 v;
  if (x >= kTwo127) {
    v = static_cast<__int128>(~static_cast<u128>(0) >> 1);
  } else if (x <= -kTwo127) {
    v = -static_cast<__int128>(~static_cast<u128>(0) >> 1) - 1;
  } else {
    v = static_cast<__int128>(x);
  }
  u128 r = static_cast<u128>(acc) + static_cast<u128>(v) * static_cast<u128>(static_cast<__int128>(diff));
  return static_cast<__int128>(r);
}

// The accumulator of one aggregate in one group. Which fields are used depends on the kind
// and the argument's type; all are invertible (retractions subtract).
using IntCounts = absl::btree_map<int64_t, int64_t>;
// Heap bytes per value of an IntCounts (16-byte pairs in nodes of about 256 bytes, partly
// full), for state_bytes.
constexpr size_t kIntCountBytes = 24;

struct AggState {
  int64_t count = 0;  // non-NULL values (count(*): rows)
  __int128 isum = 0;  // integer sums; interval micros
  Numeric nsum;       // numeric sums
  int64_t nan = 0, pinf = 0, ninf = 0;
  double fsum = 0;
  __int128 months = 0, days = 0;
  int64_t trues = 0, falses = 0;
  // min/max of values that are not integers; made by their first value, so that a min/max
  // of integers (`ints`) allocates nothing else per group (Nexmark q4: 60,000 auctions).
  std::unique_ptr<std::map<Row, int64_t, DatumRowLess>> ordered;
  // min/max of integer values (PhysicalKind::kInt: int2/int4/int8) by value: no packed row
  // per update and an integer compare where `ordered` decodes both rows (update_state). A
  // B-tree (many values per node) where a std::map allocated a node per value and walked
  // one cache miss per level: Nexmark q7 keeps 92,000 prices per window.
  std::unique_ptr<IntCounts> ints;
  std::unique_ptr<std::map<Row, int64_t, RowLess>> strings;       // string_agg, array_agg
  // The bytes of the text-like values `strings` holds (times their multiplicity): past 1 GB
  // the aggregate's value would be, so it answers 54000 as it grows instead of holding more.
  __int128 string_bytes = 0;
  struct DistinctEntry {
    Row value;
    int64_t count = 0;
  };
  std::unique_ptr<std::unordered_map<std::string, DistinctEntry, StringHash, std::equal_to<>>> distinct;
  // DISTINCT over integer values (PhysicalKind::kInt) of a one-argument aggregate: value ->
  // multiplicity in an open-addressing table, where `distinct` keeps a node, a key string and
  // a packed row per value and walks a bucket chain per update (Nexmark q16: eight
  // count(DISTINCT bidder/auction) per group, half of its hydration in those lookups).
  std::unique_ptr<absl::flat_hash_map<int64_t, int64_t>> distinct_ints;
  std::unique_ptr<VarianceState> var;  // variance and stddev
};

// Whether e evaluates to one value for one row: columns, literals, casts, boolean and
// conditional forms and calls of functions that are not volatile. Anything else (parameters,
// mz_now(), subplans, lists, arrays, volatile calls) is not, so its value is never shared.
bool pure_expr(const ScalarExpr& e) {
  switch (e.kind) {
    case ScalarKind::kCall:
    case ScalarKind::kNullIf:
      if (e.fn == nullptr || e.fn->volatility == Volatility::kVolatile) return false;
      break;
    case ScalarKind::kColumn:
    case ScalarKind::kLiteral:
    case ScalarKind::kCast:
    case ScalarKind::kAnd:
    case ScalarKind::kOr:
    case ScalarKind::kNot:
    case ScalarKind::kIsNull:
    case ScalarKind::kIsNotNull:
    case ScalarKind::kIsTrue:
    case ScalarKind::kIsFalse:
    case ScalarKind::kIsDistinct:
    case ScalarKind::kCase:
    case ScalarKind::kCoalesce:
    case ScalarKind::kGreatest:
    case ScalarKind::kLeast:
      break;
    default:
      return false;
  }
  for (const ScalarExpr& a : e.args)
    if (!pure_expr(a)) return false;
  return true;
}

// Whether a and b are the same expression and evaluate to the same value over any one row.
bool same_pure_expr(const ScalarExpr& a, const ScalarExpr& b) { return exprs_equal(a, b) && pure_expr(a); }

class ReduceOp final : public Operator, public RowAggregator {
 public:
  explicit ReduceOp(ReduceSpec spec) : spec_(std::move(spec)) {
    // FILTER clauses that are the same expression are evaluated once per row (Nexmark q16:
    // 9 filtered aggregates over 3 price ranges).
    std::vector<const ScalarExpr*> filters;
    for (const AggregateExpr& a : spec_.aggregates) {
      int32_t slot = -1;
      if (a.filter) {
        for (size_t f = 0; f < filters.size() && slot < 0; ++f)
          if (same_pure_expr(*filters[f], *a.filter)) slot = static_cast<int32_t>(f);
        if (slot < 0) {
          slot = static_cast<int32_t>(filters.size());
          filters.push_back(&*a.filter);
        }
      }
      filter_slot_.push_back(slot);
    }
    filter_value_.resize(filters.size());
  }
  // state_bytes() without the walk over every group (polled while a scan aggregates): the
  // index, the per-slot arrays, and one small map node per group for each min/max (the only
  // accumulators with heap state that a scan aggregate uses; scan_aggregate_kind).
  void use_direct_keys() { direct_keys_ = true; }
  size_t held_bytes() const override {
    size_t per_group = 0;
    for (const AggregateExpr& a : spec_.aggregates)
      if (a.kind == AggKind::kMin || a.kind == AggKind::kMax) per_group += kMapNodeBytes + sizeof(Row) + sizeof(int64_t) + 16;
    return index_.size_bytes() + groups_.capacity() * (sizeof(Group) + sizeof(int64_t) + 1) +
           aggs_.capacity() * sizeof(AggState) + index_.size() * per_group + direct_.capacity() * sizeof(uint32_t);
  }
  std::string name() const override { return "Reduce"; }
  // Exchanged by the group key, whose values are the output's first columns.
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override {
    if (!in[0].as_asked || spec_.phase == ReduceSpec::Phase::kPartial || spec_.local || spec_.group_key.empty()) return {};
    Partitioning p(spec_.group_key.size());
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint32_t>(i);
    return {p};
  }
  size_t state_size() const override { return index_.size(); }
  Exchange exchange(size_t) const override {
    if (spec_.phase == ReduceSpec::Phase::kPartial) return {};  // aggregated where it is
    if (spec_.local) {
      // Spread by the whole row, not left where it arrived: a row's retraction must meet its
      // insertion on the same shard, where its group's multiset holds it.
      Exchange x;
      x.kind = Exchange::Kind::kByKey;
      x.whole_row = true;
      return x;
    }
    return Exchange::by_exprs(spec_.group_key);
  }
  size_t state_bytes() const override {
    // The index (keys and key rows in its arena), the per-slot arrays, and what a group's
    // accumulators and emitted row hold on the heap.
    size_t b = index_.size_bytes() + groups_.capacity() * (sizeof(Group) + sizeof(int64_t) + 1) +
               aggs_.capacity() * sizeof(AggState);
    for (const Group& g : groups_) b += g.emitted ? row_heap_bytes(*g.emitted) : 0;
    for (const AggState& a : aggs_) {
      if (a.ordered)
        for (const auto& [r, c] : *a.ordered) b += kMapNodeBytes + sizeof(r) + sizeof(c) + row_heap_bytes(r);
      if (a.ints) b += a.ints->size() * kIntCountBytes + kMapNodeBytes;
      if (a.strings)
        for (const auto& [r, c] : *a.strings) b += kMapNodeBytes + sizeof(r) + sizeof(c) + row_heap_bytes(r);
      if (a.distinct)
        for (const auto& [dk, e] : *a.distinct)
          b += kMapNodeBytes + sizeof(dk) + sizeof(e) + string_heap_bytes(dk) + row_heap_bytes(e.value);
      if (a.distinct_ints) b += a.distinct_ints->capacity() * (2 * sizeof(int64_t) + 1) + kMapNodeBytes;
    }
    return b;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Datum> row;
    const size_t naggs = spec_.aggregates.size();
    const bool merge = spec_.phase == ReduceSpec::Phase::kMerge;
    // Only the columns the key and the aggregates read are decoded (a merge reads them all).
    const size_t prefix = merge ? spec_.group_key.size() + naggs + 1 : input_prefix();
    size_t n = 0;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      if ((++n & kPollMask) == 0) ctx.check_cancelled();
      row.clear();
      unpack_prefix_into(u.row, row, prefix);
      if (!merge) {
        add_row(row, u.diff, ctx.eval);
        continue;
      }
      uint32_t gi = group_of(row, ctx.eval);
      AggState* st = aggs_.data() + gi * naggs;
      // A partial row: key columns, one encoded state per aggregate, the row count.
      const size_t k = spec_.group_key.size();
      FRESHET_ASSERT(row.size() == k + naggs + 1);
      rows_[gi] = add_diffs(rows_[gi], mul_diffs(row[k + naggs].as_int(), u.diff));
      for (size_t i = 0; i < naggs; ++i) merge_state(spec_.aggregates[i], st[i], row[k + i].as_string(), u.diff);
      ctx.eval.arena->reset();
    }
    emit(ctx.time, ctx.eval, out);
  }

  // The prefix of an input row that the key and the aggregates read.
  size_t input_prefix() const override {
    size_t prefix = columns_needed(spec_.group_key);
    for (const AggregateExpr& a : spec_.aggregates) {
      prefix = std::max({prefix, columns_needed(a.arg), columns_needed(a.separator), columns_needed(a.order_exprs)});
      if (a.filter) prefix = std::max(prefix, columns_needed(*a.filter));
    }
    return prefix;
  }

  // Adds one input row (its datums, at least input_prefix() of them) with its diff to its
  // group. Resets ev.arena. REQUIRES: phase kFull or kPartial.
  void add_row(std::span<const Datum> row, int64_t diff, EvalContext& ev) override {
    add_to_group(group_of(row, ev), row, diff, ev);
  }
  uint32_t group_slot(std::span<const Datum> row, EvalContext& ev) override { return group_of(row, ev); }
  void add_to_group(uint32_t gi, std::span<const Datum> row, int64_t diff, EvalContext& ev) override {
    const size_t naggs = spec_.aggregates.size();
    FRESHET_ASSERT(gi < rows_.size() && dirty_mark_[gi]);
    AggState* st = aggs_.data() + gi * naggs;
    // The accumulators are a cache miss per row when the groups outgrow the cache (10,000
    // customers): fetched while the aggregates' arguments are evaluated below.
    __builtin_prefetch(st);
    __builtin_prefetch(reinterpret_cast<const char*>(st) + 64);
    rows_[gi] = add_diffs(rows_[gi], diff);
    std::fill(filter_value_.begin(), filter_value_.end(), kFilterUnknown);
    for (size_t i = 0; i < naggs; ++i) {
      const AggregateExpr& a = spec_.aggregates[i];
      if (filter_slot_[i] >= 0) {
        uint8_t& known = filter_value_[static_cast<size_t>(filter_slot_[i])];
        if (known == kFilterUnknown) {
          Datum f = eval(*a.filter, row, ev);
          known = !f.is_null() && f.as_bool() ? kFilterTrue : kFilterFalse;
        }
        if (known != kFilterTrue) continue;
      }
      if (a.kind == AggKind::kCountStar) {
        st[i].count = add_diffs(st[i].count, diff);
        continue;
      }
      Datum v = eval(a.arg, row, ev);
      if (v.is_null() && !keeps_nulls(a.kind)) continue;  // array_agg keeps NULLs
      Datum sep;
      if (has_second_arg(a.kind)) sep = eval(a.separator, row, ev);
      if (a.distinct) {
        update_distinct(a, st[i], v, sep, diff);
      } else {
        order_vals_.clear();
        for (const ScalarExpr& o : a.order_exprs) order_vals_.push_back(eval(o, row, ev));
        if (spec_.append_only && (a.kind == AggKind::kMin || a.kind == AggKind::kMax)) {
          update_extreme(a, st[i], v, diff);
        } else if ((a.kind == AggKind::kMin || a.kind == AggKind::kMax) && v.kind() == PhysicalKind::kInt) {
          pending_ints_.push_back(PendingInt{gi * naggs + i, v.as_int(), diff});
        } else {
          update_state(a, st[i], v, sep, diff, order_vals_);
        }
      }
    }
    ev.arena->reset();
  }

  // Emits the groups changed since the last emit (kFull: retraction of the old row, the new
  // row; kPartial: every changed group's state) and drops the groups that became empty.
  void emit(uint64_t time, EvalContext& ev, Batch& out) override {
    apply_pending_ints();
    std::vector<uint32_t> dirty = std::move(dirty_);
    dirty_.clear();
    const size_t naggs = spec_.aggregates.size();
    std::vector<Datum> outrow;
    if (spec_.phase == ReduceSpec::Phase::kPartial) {
      // Every group's state (one step: all groups are dirty), for the merge to combine.
      std::vector<std::string> enc(naggs);
      for (uint32_t gi : dirty) {
        dirty_mark_[gi] = 0;
        outrow.clear();
        RowRef(index_.extra(gi)).unpack_into(outrow);
        const AggState* st = aggs_.data() + gi * naggs;
        for (size_t i = 0; i < naggs; ++i) {
          encode_state(spec_.aggregates[i], st[i], enc[i]);
          outrow.push_back(Datum::from_string(enc[i]));
        }
        outrow.push_back(Datum::from_int(rows_[gi]));
        out.push_back(Update{Row::pack(outrow), time, 1});
      }
      return;
    }
    // Emit changed groups.
    for (uint32_t gi : dirty) {
      Group& g = groups_[gi];
      dirty_mark_[gi] = 0;
      std::optional<Row> now;
      if (rows_[gi] > 0) {
        outrow.clear();
        RowRef(index_.extra(gi)).unpack_into(outrow);
        const AggState* st = aggs_.data() + gi * naggs;
        for (size_t i = 0; i < naggs; ++i) outrow.push_back(result(spec_.aggregates[i], st[i], ev));
        now = Row::pack(outrow);
        ev.arena->reset();
      }
      if (g.emitted && now && *g.emitted == *now) continue;
      if (g.emitted) out.push_back(Update{std::move(*g.emitted), time, -1});
      if (now) out.push_back(Update{*now, time, 1});
      g.emitted = std::move(now);
    }
    // Drop the dirty groups that became empty. Only groups touched by this step can have
    // become empty: the work is proportional to the input change, never to the number of
    // groups.
    for (uint32_t gi : dirty) {
      Group& g = groups_[gi];
      if (rows_[gi] != 0 || g.emitted) continue;
      for (size_t i = 0; i < naggs; ++i) aggs_[gi * naggs + i] = AggState{};  // frees min/max maps
      index_.erase(gi);
      direct_ = {};  // its slot may be reused by another key
    }
  }

  // The slot of the row's group (made, with fresh accumulators, when new), marked dirty.
  // Key expressions are evaluated in ev.arena; the key is copied before it is reset.
  uint32_t group_of(std::span<const Datum> row, EvalContext& ev) {
    const size_t naggs = spec_.aggregates.size();
    key_.clear();
    for (const ScalarExpr& e : spec_.group_key) key_.push_back(eval(e, row, ev));
    // One small non-negative integer key (a customer id): its slot straight from a direct
    // array, without encoding, hashing and comparing the key (two cache misses per row
    // fewer). Only for a row aggregator, which never drops a group before its last emit.
    uint32_t* direct = nullptr;
    if (direct_keys_ && key_.size() == 1 && !key_[0].is_null() && key_[0].kind() == PhysicalKind::kInt) {
      const int64_t v = key_[0].as_int();
      if (v >= 0 && v < kMaxDirectKey) {
        if (static_cast<size_t>(v) >= direct_.size()) direct_.resize(std::bit_ceil(static_cast<size_t>(v) + 1), FlatKeyIndex::kNone);
        direct = &direct_[static_cast<size_t>(v)];
        if (*direct != FlatKeyIndex::kNone) {
          if (!dirty_mark_[*direct]) {
            dirty_mark_[*direct] = 1;
            dirty_.push_back(*direct);
          }
          return *direct;
        }
      }
    }
    kbytes_.clear();
    append_canonical_key(key_, kbytes_);
    uint32_t gi = index_.find(kbytes_);
    if (direct != nullptr && gi != FlatKeyIndex::kNone) *direct = gi;
    if (gi == FlatKeyIndex::kNone) {
      // A new group: its key row is kept in the index's arena after the canonical key.
      keyrow_.clear();
      RowPacker packer(keyrow_);
      for (const Datum& d : key_) packer.push(d);
      gi = index_.insert(kbytes_, keyrow_).first;
      if (groups_.size() < index_.slot_limit()) {
        groups_.resize(index_.slot_limit());
        rows_.resize(index_.slot_limit());
        dirty_mark_.resize(index_.slot_limit());
        aggs_.resize(index_.slot_limit() * naggs);
      }
      groups_[gi] = Group{};
      rows_[gi] = 0;
      dirty_mark_[gi] = 0;
      for (size_t i = 0; i < naggs; ++i) {
        AggState& st = aggs_[gi * naggs + i];
        st = AggState{};
        init_state(spec_.aggregates[i], st);
      }
      if (direct != nullptr) *direct = gi;
    }
    if (!dirty_mark_[gi]) {
      dirty_mark_[gi] = 1;
      dirty_.push_back(gi);
    }
    return gi;
  }

 private:
  // Per group, indexed by its FlatKeyIndex slot. The canonical key and the key row live in
  // the index's arena and the accumulators in aggs_, so a group allocates nothing of its own
  // (its min/max and list aggregates' ordered multisets and its emitted row excepted).
  // A group's row count and dirty mark are kept apart from it (rows_, dirty_mark_), in
  // arrays of 8 and 1 bytes per group that stay in cache: every input row touches them,
  // while `emitted` is read only at emit (with 10,000 groups the Group's cache line was a
  // miss per row, a sixth of a scan aggregate's time).
  struct Group {
    std::optional<Row> emitted;
  };

 public:
  // The accumulator functions, shared with window aggregates (Accumulator below).
  static void init_state(const AggregateExpr& a, AggState& s) {
    if (is_list_agg(a.kind)) {
      s.strings = std::make_unique<std::map<Row, int64_t, RowLess>>(RowLess{a.distinct ? nullptr : &a.order_keys});
    } else if (is_variance_agg(a.kind)) {
      s.var = std::make_unique<VarianceState>();
    }
    if (a.distinct) s.distinct = std::make_unique<std::unordered_map<std::string, AggState::DistinctEntry, StringHash, std::equal_to<>>>();
  }

  static void update_distinct(const AggregateExpr& a, AggState& s, const Datum& v, const Datum& sep, int64_t diff) {
    if (v.kind() == PhysicalKind::kInt && !has_second_arg(a.kind)) {
      // An integer's canonical form is itself: the value is its own key.
      if (!s.distinct_ints) s.distinct_ints = std::make_unique<absl::flat_hash_map<int64_t, int64_t>>();
      auto [it, inserted] = s.distinct_ints->try_emplace(v.as_int(), 0);
      const int64_t before = it->second;
      const int64_t after = add_diffs(before, diff);
      if (after == 0) {
        s.distinct_ints->erase(it);
      } else {
        it->second = after;
      }
      if (before <= 0 && after > 0) update_state(a, s, v, sep, 1, {});
      if (before > 0 && after <= 0) update_state(a, s, v, sep, -1, {});
      return;
    }
    std::string k;
    Datum parts[2] = {v, sep};
    append_canonical_key(std::span<const Datum>(parts, has_second_arg(a.kind) ? 2 : 1), k);
    if (v.is_null()) k.push_back('\x01');  // array_agg: NULL apart from every value
    auto it = s.distinct->find(std::string_view(k));
    if (it == s.distinct->end()) {
      it = s.distinct->emplace(std::move(k), AggState::DistinctEntry{Row::pack(std::span<const Datum>(parts, 2)), 0}).first;
    }
    int64_t before = it->second.count;
    int64_t after = add_diffs(before, diff);
    it->second.count = after;
    Row value = it->second.value;  // keep the bytes alive past a possible erase
    if (after == 0) s.distinct->erase(it);
    Datum dv = value.get(0), ds = value.get(1);
    if (before <= 0 && after > 0) update_state(a, s, dv, ds, 1, {});
    if (before > 0 && after <= 0) update_state(a, s, dv, ds, -1, {});
  }

  // Partial aggregation (ReduceSpec::Phase): the fields of a state that
  // partial_aggregate_ok() aggregates hold, as bytes, then min/max's extreme (a packed
  // one-datum row) when there is one. Read back by merge_state on the same binary only.
  struct EncodedState {
    int64_t count, nan, pinf, ninf, trues, falses;
    __int128 isum, months, days;
    Numeric nsum;  // whole: a 39-digit sum past 2^127 keeps its high bits in ext
  };
  static void encode_state(const AggregateExpr& a, const AggState& s, std::string& out) {
    EncodedState e{};
    e.count = s.count;
    e.nan = s.nan;
    e.pinf = s.pinf;
    e.ninf = s.ninf;
    e.trues = s.trues;
    e.falses = s.falses;
    e.isum = s.isum;
    e.months = s.months;
    e.days = s.days;
    e.nsum = s.nsum;
    out.assign(reinterpret_cast<const char*>(&e), sizeof e);
    if ((a.kind == AggKind::kMin || a.kind == AggKind::kMax) && s.ordered && !s.ordered->empty())
      out.append(s.ordered->begin()->first.bytes());
  }
  static void merge_state(const AggregateExpr& a, AggState& s, std::string_view bytes, int64_t diff) {
    FRESHET_ASSERT(bytes.size() >= sizeof(EncodedState));
    EncodedState e;
    std::memcpy(&e, bytes.data(), sizeof e);
    s.count = add_diffs(s.count, mul_diffs(e.count, diff));
    s.nan = add_diffs(s.nan, mul_diffs(e.nan, diff));
    s.pinf = add_diffs(s.pinf, mul_diffs(e.pinf, diff));
    s.ninf = add_diffs(s.ninf, mul_diffs(e.ninf, diff));
    s.trues = add_diffs(s.trues, mul_diffs(e.trues, diff));
    s.falses = add_diffs(s.falses, mul_diffs(e.falses, diff));
    s.isum += e.isum * diff;
    s.months += e.months * diff;
    s.days += e.days * diff;
    if (e.nsum.mantissa != 0 || e.nsum.scale != 0 || e.nsum.ext != 0)
      s.nsum = numeric_add_exact(s.nsum, diff == 1 ? e.nsum : numeric_mul_exact(e.nsum, numeric_from_int(diff)));
    if (bytes.size() > sizeof e) {
      FRESHET_ASSERT(a.kind == AggKind::kMin || a.kind == AggKind::kMax);
      Datum v = RowRef(bytes.substr(sizeof e)).get(0);
      update_extreme(a, s, v, diff);
    }
  }

  // min/max over an append-only input: only the extreme so far is kept (the first of equal
  // values, as the ordered map keeps it), with no allocation unless it changes.
  static void update_extreme(const AggregateExpr& a, AggState& s, const Datum& v, int64_t diff) {
    if (diff < 0) throw SqlError(sqlstate::kInternalError, "a retraction reached an append-only min/max");
    if (!s.ordered) s.ordered = std::make_unique<std::map<Row, int64_t, DatumRowLess>>();
    if (!s.ordered->empty()) {
      int c = compare_datums(v, s.ordered->begin()->first.get(0));
      if (a.kind == AggKind::kMin ? c >= 0 : c <= 0) return;
      s.ordered->clear();
    }
    s.ordered->emplace(Row::pack(std::span<const Datum>(&v, 1)), diff);
  }

  static void update_state(const AggregateExpr& a, AggState& s, const Datum& v, const Datum& sep, int64_t diff,
                           std::span<const Datum> order_vals) {
    switch (a.kind) {
      case AggKind::kCountStar:
      case AggKind::kCount:
        s.count = add_diffs(s.count, diff);
        return;
      case AggKind::kSum:
      case AggKind::kAvg:
        s.count = add_diffs(s.count, diff);
        switch (v.kind()) {
          case PhysicalKind::kInt:
            s.isum += static_cast<__int128>(v.as_int()) * diff;
            return;
          case PhysicalKind::kNumeric: {
            Numeric n = v.as_numeric();
            if (n.is_nan()) {
              s.nan += diff;
            } else {
              s.nsum = numeric_add_exact(s.nsum, diff == 1 ? n : numeric_mul_exact(n, numeric_from_int(diff)));
            }
            return;
          }
          case PhysicalKind::kFloat: {
            double f = v.as_float();
            if (std::isnan(f)) {
              s.nan += diff;
            } else if (std::isinf(f)) {
              (f > 0 ? s.pinf : s.ninf) += diff;
            } else if (materialize_dialect()) {
              s.isum = mz_float_sum_add(s.isum, f, diff);
            } else {
              s.fsum += f * static_cast<double>(diff);
            }
            return;
          }
          case PhysicalKind::kInterval: {
            Interval iv = v.as_interval();
            s.months += static_cast<__int128>(iv.months) * diff;
            s.days += static_cast<__int128>(iv.days) * diff;
            s.isum += static_cast<__int128>(iv.micros) * diff;
            return;
          }
          default:
            throw SqlError(sqlstate::kFeatureNotSupported, "sum/avg over this type is not supported");
        }
      case AggKind::kMin:
      case AggKind::kMax: {
        if (v.kind() == PhysicalKind::kInt) {
          if (!s.ints) s.ints = std::make_unique<IntCounts>();
          auto [it, inserted] = s.ints->try_emplace(v.as_int(), 0);
          it->second = add_diffs(it->second, diff);
          if (it->second == 0) s.ints->erase(it);
          return;
        }
        if (!s.ordered) s.ordered = std::make_unique<std::map<Row, int64_t, DatumRowLess>>();
        Row r = Row::pack(std::span<const Datum>(&v, 1));
        auto [it, inserted] = s.ordered->try_emplace(std::move(r), 0);
        it->second = add_diffs(it->second, diff);
        if (it->second == 0) s.ordered->erase(it);
        return;
      }
      case AggKind::kBoolAnd:
      case AggKind::kBoolOr:
        (v.as_bool() ? s.trues : s.falses) += diff;
        return;
      case AggKind::kVarSamp:
      case AggKind::kVarPop:
      case AggKind::kStddevSamp:
      case AggKind::kStddevPop:
        update_variance(s, v, diff);
        return;
      case AggKind::kStringAgg:
      case AggKind::kArrayAgg:
      case AggKind::kJsonbAgg:
      case AggKind::kJsonbObjectAgg: {
        // Materialize skips a NULL key (expr/src/relation/func.rs dict_agg); PostgreSQL refuses it.
        if (a.kind == AggKind::kJsonbObjectAgg && v.is_null() && !materialize_dialect())
          throw SqlError(sqlstate::kInvalidParameterValue, "field name must not be null");
        std::vector<Datum> parts(order_vals.begin(), order_vals.end());
        parts.push_back(v);
        parts.push_back(sep);
        Row r = Row::pack(parts);
        auto [it, inserted] = s.strings->try_emplace(std::move(r), 0);
        it->second = add_diffs(it->second, diff);
        if (it->second == 0) s.strings->erase(it);
        if (v.kind() == PhysicalKind::kString) {
          s.string_bytes += static_cast<__int128>(v.as_string().size()) * diff;
          // PostgreSQL's 1 GB field limit (string_agg: "Cannot enlarge string buffer"), checked
          // as the values arrive so that a 20 GB string_agg holds about 1 GB, not 20.
          if (s.string_bytes > static_cast<__int128>(kMaxAggregateValueBytes)) aggregate_too_large(s.string_bytes);
        }
        return;
      }
    }
  }

  static void update_variance(AggState& s, const Datum& v, int64_t diff) {
    VarianceState& vs = *s.var;
    auto add_numeric = [&](const Numeric& n) {
      Numeric d = numeric_from_int(diff);
      vs.nsum = numeric_add_exact(vs.nsum, numeric_mul_exact(n, d));
      vs.nsum2 = numeric_add_exact(vs.nsum2, numeric_mul_exact(numeric_mul_exact(n, n), d));
    };
    switch (v.kind()) {
      case PhysicalKind::kInt: {
        __int128 x = v.as_int(), x2 = x * x, dx, dx2;  // |x| < 2^63: x * x fits
        if (__builtin_mul_overflow(x, static_cast<__int128>(diff), &dx) ||
            __builtin_mul_overflow(x2, static_cast<__int128>(diff), &dx2) || __builtin_add_overflow(vs.isum, dx, &vs.isum) ||
            __builtin_add_overflow(vs.isum2, dx2, &vs.isum2)) {
          throw SqlError(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
        }
        break;
      }
      case PhysicalKind::kNumeric: {
        Numeric n = v.as_numeric();
        if (n.is_nan()) {
          s.nan += diff;
        } else {
          add_numeric(n);
          int sc = std::clamp<int>(n.scale, 0, kNumericMaxDigits);
          vs.scale_count[sc] = add_diffs(vs.scale_count[sc], diff);
        }
        break;
      }
      case PhysicalKind::kFloat: {
        double f = v.as_float();
        if (std::isnan(f)) {
          s.nan += diff;
        } else if (std::isinf(f)) {
          (f > 0 ? s.pinf : s.ninf) += diff;
        } else {
          char buf[40];
          auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);  // shortest round trip
          // A double beyond numeric's 39 digits (1e300, 1e-300) has no exact sum here; while
          // such values are present only the Youngs-Cramer accumulator can answer.
          std::optional<Numeric> exact;
          try {
            exact = numeric_parse_impl(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
          } catch (const SqlError&) {
            vs.inexact = add_diffs(vs.inexact, diff);
          }
          if (exact) add_numeric(*exact);
          // A value repeated more than a few times at once (a consolidated multiplicity) is no
          // longer a sequence PostgreSQL would have read: the exact sums answer.
          constexpr int64_t kMaxRepeat = 64;
          if (diff > 0 && diff <= kMaxRepeat && vs.yc.valid) {
            for (int64_t i = 0; i < diff; ++i) vs.yc.add(f);
          } else {
            vs.yc.valid = false;
          }
        }
        break;
      }
      default:
        throw SqlError(sqlstate::kFeatureNotSupported, "variance/stddev over this type is not supported");
    }
    s.count = add_diffs(s.count, diff);
    if (s.count == 0) vs.yc = YoungsCramer{};  // empty again: PostgreSQL's order from here on
  }

  // PostgreSQL's numeric_stddev_internal / float8_var_samp and friends over the exact sums:
  // NULL for no values (and for one value in the sample forms), else NaN when a NaN or an
  // infinity is among them, else (N * sum(x^2) - sum(x)^2) / (N * (N - 1)) (N * N
  // for the population forms); a numerator that is not positive gives 0. Numeric: divided at
  // PostgreSQL's division scale and the square root taken at that same scale; float: the exact
  // numerator and denominator as doubles, divided and rooted in double precision.
  static Datum variance_result(const AggregateExpr& a, const AggState& s) {
    const VarianceState& vs = *s.var;
    bool sample = a.kind == AggKind::kVarSamp || a.kind == AggKind::kStddevSamp;
    bool root = a.kind == AggKind::kStddevSamp || a.kind == AggKind::kStddevPop;
    bool is_float = a.result_type.id == TypeId::kFloat8;
    int64_t n = s.count;
    if (n <= 0 || (sample && n == 1)) return Datum::null();
    if (s.nan > 0 || s.pinf > 0 || s.ninf > 0) {
      if (is_float) return Datum::from_float(std::numeric_limits<double>::quiet_NaN());
      Numeric nan;
      nan.scale = Numeric::kNaNScale;
      return Datum::from_numeric(nan);
    }
    if (is_float && vs.yc.valid && vs.yc.n == static_cast<double>(n)) {
      // float8_var_samp / float8_var_pop / float8_stddev_*: Sxx is never negative.
      double r = vs.yc.sxx / (sample ? vs.yc.n - 1.0 : vs.yc.n);
      return Datum::from_float(root ? std::sqrt(r) : r);
    }
    if (vs.inexact != 0)
      throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow")
          .with_detail("After a retraction the variance of floats beyond 39 significant digits is not kept.");
    Numeric sum, sum2;
    if (is_integer_type(a.arg.type.id) || a.arg.type.id == TypeId::kUInt2 || a.arg.type.id == TypeId::kUInt4) {
      sum = numeric_of_int128(vs.isum);
      sum2 = numeric_of_int128(vs.isum2);
    } else if (is_float) {
      sum = vs.nsum;
      sum2 = vs.nsum2;
    } else {
      int scale = 0;
      for (int i = kNumericMaxDigits; i > 0; --i) {
        if (vs.scale_count[i] > 0) {
          scale = i;
          break;
        }
      }
      sum = numeric_round(vs.nsum, scale);  // exact: every value present has at most `scale` digits
      sum2 = numeric_round(vs.nsum2, 2 * scale);
    }
    Numeric nn = numeric_from_int(n);
    if (materialize_dialect() && !is_float && !is_unsigned_type(a.arg.type.id)) {
      // Materialize's plan (sql/src/plan/transform_ast.rs, plan_variance):
      // (sum(x^2) - sum(x)^2 / N) / (N - 1) (N for the population forms), each operation in its
      // 39-digit context (numeric_mz.hpp), so its last digit is Materialize's; negative is 0.
      Numeric var = numeric_div(numeric_sub(sum2, numeric_div(numeric_mul(sum, sum), nn)),
                                sample ? numeric_from_int(n - 1) : nn);
      if (numeric_sign(var) <= 0) return Datum::from_numeric(Numeric{});
      return Datum::from_numeric(root ? numeric_sqrt(var, var.scale) : var);
    }
    Numeric numerator = numeric_sub(numeric_mul(nn, sum2), numeric_mul(sum, sum));
    Numeric denominator = numeric_mul(nn, sample ? numeric_from_int(n - 1) : nn);
    if (is_float) {
      double num = numeric_to_double(numerator);
      double r = num <= 0 ? 0.0 : num / numeric_to_double(denominator);
      return Datum::from_float(root ? std::sqrt(r) : r);
    }
    if (numeric_compare(numerator, Numeric{}) <= 0) return Datum::from_numeric(Numeric{});
    if (is_unsigned_type(a.arg.type.id)) return unsigned_variance(numerator, denominator, root);
    Numeric var = numeric_div(numerator, denominator);
    return Datum::from_numeric(root ? numeric_sqrt(var, var.scale) : var);
  }

  // Materialize's own types (uint2/uint4/uint8) get Materialize's answer: the quotient and the
  // root to 38 significant digits (its numeric context has 39), not PostgreSQL's division
  // scale. numerator and denominator are positive integers here; the quotient is computed by
  // long division, exact up to the last digit kept, which is rounded half away from zero.
  static Datum unsigned_variance(const Numeric& numerator, const Numeric& denominator, bool root) {
    constexpr int kDigits = 38;
    Numeric rem = numeric_mod(numerator, denominator);
    Numeric q = numeric_trunc(numeric_div(numeric_sub(numerator, rem), denominator), 0);
    std::string text = numeric_to_string(q);
    if (text == "0") text.clear();
    int frac = kDigits - static_cast<int>(text.size());
    if (frac <= 0) {  // no fraction digits fit: PostgreSQL's quotient (scale 0 here)
      Numeric var = numeric_div(numerator, denominator);
      return Datum::from_numeric(root ? numeric_sqrt(var, std::max(0, kDigits - static_cast<int>(text.size() + 1) / 2)) : var);
    }
    __int128 r = static_cast<__int128>(numeric_to_int(rem)), d = static_cast<__int128>(numeric_to_int(denominator));
    std::string digits;
    for (int i = 0; i < frac + 1; ++i) {
      r *= 10;
      digits.push_back(static_cast<char>('0' + static_cast<int>(r / d)));
      r %= d;
    }
    // One guard digit, then half away from zero.
    Numeric v = numeric_parse_impl((text.empty() ? "0" : text) + "." + digits);
    Numeric var = numeric_round(v, frac);
    if (!root) return Datum::from_numeric(numeric_normalize(var));
    std::string whole = numeric_to_string(numeric_trunc(numeric_sqrt(numeric_trunc(var, 0), 0), 0));
    int rscale = std::max(0, kDigits - static_cast<int>(whole.size()));
    return Datum::from_numeric(numeric_normalize(numeric_sqrt(var, rscale)));
  }

  static Datum result(const AggregateExpr& a, const AggState& s, EvalContext& ctx) {
    TypeId rt = a.result_type.id;
    switch (a.kind) {
      case AggKind::kVarSamp:
      case AggKind::kVarPop:
      case AggKind::kStddevSamp:
      case AggKind::kStddevPop:
        return variance_result(a, s);
      case AggKind::kCountStar:
      case AggKind::kCount:
        return Datum::from_int(s.count);
      case AggKind::kSum:
      case AggKind::kAvg: {
        if (s.count <= 0) return Datum::null();
        TypeId at = a.arg.type.id;
        bool avg = a.kind == AggKind::kAvg;
        if (is_integer_type(at)) {
          if (!avg && rt == TypeId::kUInt8) {  // Materialize's sum(uint2), sum(uint4)
            if (s.isum < 0 || s.isum > static_cast<__int128>(UINT64_MAX))
              uint_out_of_range(TypeId::kUInt8, numeric_to_string(numeric_of_int128(s.isum)));
            return uint_datum(static_cast<uint64_t>(s.isum), TypeId::kUInt8);
          }
          if (!avg && rt != TypeId::kNumeric) {
            if (s.isum > std::numeric_limits<int64_t>::max() || s.isum < std::numeric_limits<int64_t>::min()) {
              throw SqlError(sqlstate::kNumericValueOutOfRange, "bigint out of range");
            }
            return Datum::from_int(static_cast<int64_t>(s.isum));
          }
          Numeric sum = numeric_of_int128(s.isum);
          if (!avg) return Datum::from_numeric(sum);
          return Datum::from_numeric(numeric_div(sum, numeric_from_int(s.count)));
        }
        if (at == TypeId::kUInt8) return unsigned_variance(s.nsum, numeric_from_int(s.count), false);  // avg(uint8)
        if (at == TypeId::kNumeric) {
          if (s.nan > 0) {
            Numeric n;
            n.scale = Numeric::kNaNScale;
            return Datum::from_numeric(n);
          }
          if (!avg) return Datum::from_numeric(s.nsum);
          return Datum::from_numeric(numeric_div(s.nsum, numeric_from_int(s.count)));
        }
        if (at == TypeId::kFloat4 || at == TypeId::kFloat8) {
          double r;
          if (s.nan > 0 || (s.pinf > 0 && s.ninf > 0)) {
            r = std::numeric_limits<double>::quiet_NaN();
          } else if (s.pinf > 0) {
            r = std::numeric_limits<double>::infinity();
          } else if (s.ninf > 0) {
            r = -std::numeric_limits<double>::infinity();
          } else {
            r = materialize_dialect() ? static_cast<double>(s.isum) / kMzFloatScale : s.fsum;
            if (avg) r /= static_cast<double>(s.count);
          }
          if (rt == TypeId::kFloat4) {
            float f = static_cast<float>(r);
            if (std::isinf(f) && !std::isinf(r)) {
              throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow");
            }
            r = f;
          }
          return Datum::from_float(r);
        }
        if (at == TypeId::kInterval) {
          auto to32 = [](__int128 v) {
            if (v > std::numeric_limits<int32_t>::max() || v < std::numeric_limits<int32_t>::min()) {
              throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range");
            }
            return static_cast<int32_t>(v);
          };
          if (!avg) {
            if (s.isum > std::numeric_limits<int64_t>::max() || s.isum < std::numeric_limits<int64_t>::min()) {
              throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range");
            }
            return Datum::from_interval(Interval{to32(s.months), to32(s.days), static_cast<int64_t>(s.isum)});
          }
          // PostgreSQL's interval_div: fractional months cascade into days (30 per month),
          // fractional days into microseconds.
          double n = static_cast<double>(s.count);
          double m = static_cast<double>(s.months) / n;
          int32_t mi = static_cast<int32_t>(m);
          double d = static_cast<double>(s.days) / n + (m - mi) * 30.0;
          int32_t di = static_cast<int32_t>(d);
          double us = static_cast<double>(s.isum) / n + (d - di) * 86'400'000'000.0;
          return Datum::from_interval(Interval{mi, di, static_cast<int64_t>(std::llround(us))});
        }
        throw SqlError(sqlstate::kFeatureNotSupported, "sum/avg over this type is not supported");
      }
      case AggKind::kMin:
      case AggKind::kMax: {
        // Entries with a negative count (a retraction of something never inserted) are bugs
        // upstream; skip them rather than show them.
        Datum best = Datum::null();
        if (s.ordered && a.kind == AggKind::kMin) {
          for (auto it = s.ordered->begin(); it != s.ordered->end(); ++it) {
            if (it->second > 0) {
              best = it->first.get(0);
              break;
            }
          }
        } else if (s.ordered) {
          for (auto it = s.ordered->rbegin(); it != s.ordered->rend(); ++it) {
            if (it->second > 0) {
              best = it->first.get(0);
              break;
            }
          }
        }
        if (!s.ints) return best;
        // Integer values (one typed argument gives one kind; both maps only by accident).
        Datum iv = Datum::null();
        if (a.kind == AggKind::kMin) {
          for (auto it = s.ints->begin(); it != s.ints->end(); ++it) {
            if (it->second > 0) {
              iv = Datum::from_int(it->first);
              break;
            }
          }
        } else {
          for (auto it = s.ints->rbegin(); it != s.ints->rend(); ++it) {
            if (it->second > 0) {
              iv = Datum::from_int(it->first);
              break;
            }
          }
        }
        if (iv.is_null()) return best;
        if (best.is_null()) return iv;
        int c = compare_datums(iv, best);
        return (a.kind == AggKind::kMin ? c < 0 : c > 0) ? iv : best;
      }
      case AggKind::kBoolAnd:
        if (s.trues + s.falses <= 0) return Datum::null();
        return Datum::from_bool(s.falses <= 0);
      case AggKind::kBoolOr:
        if (s.trues + s.falses <= 0) return Datum::null();
        return Datum::from_bool(s.trues > 0);
      case AggKind::kArrayAgg: {
        size_t at = a.distinct ? 0 : a.order_exprs.size();
        std::vector<Datum> elems;
        for (const auto& [r, c] : *s.strings)
          for (int64_t i = 0; i < c; ++i) elems.push_back(r.get(at));
        if (elems.empty()) return Datum::null();
        if (a.result_type.id == TypeId::kList) return Datum::from_string(ctx.arena->copy(list_literal(elems, a.result_type)));
        TypeId et = array_element_type(a.result_type.id).value_or(TypeId::kText);
        return Datum::from_string(ctx.arena->copy(array_literal(elems, et)));
      }
      case AggKind::kJsonbAgg:
      case AggKind::kJsonbObjectAgg: {
        // Values arrive as jsonb text (NULL: JSON null); keys as text.
        size_t at = a.distinct ? 0 : a.order_exprs.size();
        JsonValue doc;
        doc.kind = a.kind == AggKind::kJsonbAgg ? JsonValue::Kind::kArray : JsonValue::Kind::kObject;
        bool any = false;
        for (const auto& [r, c] : *s.strings) {
          Datum v = r.get(at);
          for (int64_t i = 0; i < c; ++i) {
            any = true;
            if (a.kind == AggKind::kJsonbAgg) {
              doc.array.push_back(v.is_null() ? JsonValue() : json_parse(v.as_string()));
              continue;
            }
            if (v.is_null()) continue;  // a NULL key (materialize dialect): skipped
            Datum val = r.get(at + 1);
            JsonValue jv = val.is_null() ? JsonValue() : json_parse(val.as_string());
            std::string key(v.as_string());
            bool replaced = false;  // jsonb: a later duplicate key wins
            for (auto& [name, old] : doc.object)
              if (name == key) {
                old = jv;
                replaced = true;
                break;
              }
            if (!replaced) doc.object.emplace_back(std::move(key), std::move(jv));
          }
        }
        if (!any) return Datum::null();
        if (materialize_dialect() && a.kind == AggKind::kJsonbAgg && a.order_exprs.empty())
          std::stable_sort(doc.array.begin(), doc.array.end(),
                           [](const JsonValue& x, const JsonValue& y) { return json_mz_compare(x, y) < 0; });
        // jsonb's key order (json_key_less).
        std::stable_sort(doc.object.begin(), doc.object.end(),
                         [](const auto& x, const auto& y) { return json_key_less(x.first, y.first); });
        std::string out;
        json_write(doc, out);
        return Datum::from_string(ctx.arena->copy(out));
      }
      case AggKind::kStringAgg: {
        size_t at = a.distinct ? 0 : a.order_exprs.size();
        std::string acc;
        bool first = true;
        for (const auto& [r, c] : *s.strings) {
          Datum v = r.get(at);
          Datum sep = r.get(at + 1);
          for (int64_t i = 0; i < c; ++i) {
            size_t more = (!first && !sep.is_null() ? sep.as_string().size() : 0) + v.as_string().size();
            if (acc.size() + more > kMaxAggregateValueBytes) aggregate_too_large(static_cast<__int128>(acc.size() + more));
            if (!first && !sep.is_null()) acc.append(sep.as_string());
            acc.append(v.as_string());
            first = false;
          }
        }
        if (first) return Datum::null();
        return Datum::from_string(ctx.arena->copy(acc));
      }
    }
    return Datum::null();
  }

 private:
  ReduceSpec spec_;
  FlatKeyIndex index_;
  std::vector<Group> groups_;   // by slot
  std::vector<int64_t> rows_;    // by slot: the group's row count
  std::vector<uint8_t> dirty_mark_;  // by slot: 1 while the group is in dirty_
  std::vector<AggState> aggs_;  // by slot * aggregates + aggregate
  std::vector<uint32_t> dirty_;  // slots changed since the last emit
  // min/max updates of integer values since the last emit, applied by emit() sorted by
  // (accumulator, value): each accumulator's map then takes its values in order with a hint
  // (amortized O(1) per new value where one insert at a time walked the tree, a cache miss
  // per level: 28% of Nexmark q7's hydration, max(price) over 10 windows of 92,000 bids).
  struct PendingInt {
    size_t state;  // index into aggs_
    int64_t value, diff;
  };
  std::vector<PendingInt> pending_ints_;
  void apply_pending_ints() {
    if (pending_ints_.empty()) return;
    std::sort(pending_ints_.begin(), pending_ints_.end(), [](const PendingInt& a, const PendingInt& b) {
      return a.state != b.state ? a.state < b.state : a.value < b.value;
    });
    for (size_t i = 0; i < pending_ints_.size();) {
      AggState& s = aggs_[pending_ints_[i].state];
      if (!s.ints) s.ints = std::make_unique<IntCounts>();
      auto hint = s.ints->begin();
      const size_t state = pending_ints_[i].state;
      while (i < pending_ints_.size() && pending_ints_[i].state == state) {
        const int64_t v = pending_ints_[i].value;
        int64_t d = 0;
        for (; i < pending_ints_.size() && pending_ints_[i].state == state && pending_ints_[i].value == v; ++i)
          d = add_diffs(d, pending_ints_[i].diff);
        if (d == 0) continue;
        auto it = s.ints->try_emplace(hint, v, 0);
        it->second = add_diffs(it->second, d);
        hint = it->second == 0 ? s.ints->erase(it) : std::next(it);
      }
    }
    if (pending_ints_.capacity() > (size_t{1} << 16)) std::vector<PendingInt>().swap(pending_ints_);
    else pending_ints_.clear();
  }
  // Per aggregate, the index of its FILTER among the distinct ones (-1: none), and their
  // values for the row being added (add_to_group; an aggregate's own filter computes it).
  static constexpr uint8_t kFilterUnknown = 0, kFilterFalse = 1, kFilterTrue = 2;
  std::vector<int32_t> filter_slot_;
  std::vector<uint8_t> filter_value_;
  // Row aggregators (make_row_aggregator): slots of small integer keys by value (group_of).
  static constexpr int64_t kMaxDirectKey = int64_t{1} << 20;
  bool direct_keys_ = false;
  std::vector<uint32_t> direct_;
  std::vector<Datum> key_, order_vals_;  // scratch of add_row / group_of
  std::string kbytes_, keyrow_;
};

// ---------------------------------------------------------------------------------------------
// TopK

// Per group (a FlatKeyIndex slot): its rows in an ordered map (order_by, then row bytes) with
// their multiplicities. What a group showed is not stored: it is the first offset + limit
// positions of its rows, recomputed when the group is first touched in a step (before any
// change is applied) and again after the step's changes; the difference is emitted. Rows
// whose multiplicity reaches 0 stay in the map until the end of the step, so the positions
// read before the changes point at live rows. Cost per dirty group: O(offset + limit) plus
// O(log n) per change. (The output used to be kept as copies of the emitted rows: a second
// copy of every row for DISTINCT ON over mostly one-row groups.)
class TopKOp final : public Operator {
 public:
  explicit TopKOp(TopKSpec spec) : spec_(std::move(spec)) {
    for (uint32_t c : spec_.group_columns) prefix_ = std::max<size_t>(prefix_, c + 1);
    // Within a group its columns are equal (DISTINCT ON's ORDER BY starts with them), so the
    // rows of a group are ordered by the other keys alone: fewer columns decoded per compare.
    for (const SortKey& k : spec_.order_by)
      if (std::find(spec_.group_columns.begin(), spec_.group_columns.end(), k.column) == spec_.group_columns.end())
        within_group_.push_back(k);
  }
  std::string name() const override { return "TopK"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }
  size_t state_size() const override { return index_.size(); }
  Exchange exchange(size_t) const override { return Exchange::by_columns(spec_.group_columns); }
  size_t state_bytes() const override {
    size_t b = index_.size_bytes() + groups_.capacity() * sizeof(Group);
    for (const Group& g : groups_)
      for (const auto& [r, c] : g.rows) b += kMapNodeBytes + sizeof(r) + sizeof(c) + row_heap_bytes(r);
    return b;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    dirty_.clear();
    shown_.clear();
    size_t polled = 0;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      if ((++polled & kPollMask) == 0) ctx.check_cancelled();
      kbytes_.clear();
      if (!spec_.group_columns.empty()) {
        row_.clear();
        unpack_prefix_into(u.row.ref(), row_, prefix_);
        key_.clear();
        for (uint32_t c : spec_.group_columns) key_.push_back(row_[c]);
        append_canonical_key(key_, kbytes_);
      }
      auto [gi, new_group] = index_.insert(kbytes_, {});
      if (new_group) {
        if (groups_.size() < index_.slot_limit()) groups_.resize(index_.slot_limit());
        groups_[gi] = Group(Less{&within_group_});
      }
      Group& g = groups_[gi];
      if (!g.dirty) {  // first touched in this step: what it shows now, before any change
        g.dirty = true;
        dirty_.push_back(Dirty{gi, shown_.size(), 0});
        positions(g, shown_);
        dirty_.back().shown_end = shown_.size();
      }
      auto [rit, inserted] = g.rows.try_emplace(std::move(u.row), 0);
      rit->second = add_diffs(rit->second, u.diff);
      if (rit->second == 0) zeroed_.push_back(Zeroed{gi, rit});
    }
    std::vector<Shown> now;
    for (const Dirty& d : dirty_) {
      Group& g = groups_[d.slot];
      g.dirty = false;
      now.clear();
      positions(g, now);
      emit_difference(ctx, std::span<Shown>(shown_.data() + d.shown_at, d.shown_end - d.shown_at), now, out);
    }
    ctx.check_size(out.size());
    // Rows that reached 0 leave once the difference is out (each once: a row can reach 0 more
    // than once in a step); only touched groups can have become empty (see ReduceOp).
    std::sort(zeroed_.begin(), zeroed_.end(),
              [](const Zeroed& a, const Zeroed& b) { return &*a.it < &*b.it; });
    for (size_t i = 0; i < zeroed_.size(); ++i) {
      if (i > 0 && &*zeroed_[i].it == &*zeroed_[i - 1].it) continue;
      if (zeroed_[i].it->second == 0) groups_[zeroed_[i].slot].rows.erase(zeroed_[i].it);
    }
    zeroed_.clear();
    for (const Dirty& d : dirty_) {
      Group& g = groups_[d.slot];
      if (!g.rows.empty()) continue;
      g = Group();
      index_.erase(d.slot);
    }
    if (shown_.capacity() > (size_t{1} << 16)) std::vector<Shown>().swap(shown_);
    if (zeroed_.capacity() > (size_t{1} << 16)) std::vector<Zeroed>().swap(zeroed_);
  }

 private:
  struct Less {
    const std::vector<SortKey>* keys = nullptr;
    bool operator()(const Row& a, const Row& b) const { return compare_by_sort_keys(a.ref(), b.ref(), *keys) < 0; }
  };
  // Per group, indexed by its FlatKeyIndex slot (the canonical key lives in the index's arena):
  // no hash node or key string per group; the ordered rows are a map by nature.
  struct Group {
    Group() = default;
    explicit Group(Less l) : rows(l) {}
    std::map<Row, int64_t, Less> rows;  // multiplicity 0 only within a step
    bool dirty = false;
  };
  // A row in the output and how many times (its map node lives through the step).
  struct Shown {
    RowRef row;
    int64_t count;
  };
  using Rows = std::map<Row, int64_t, Less>;
  struct Zeroed {  // a row whose multiplicity reached 0 in this step
    uint32_t slot;
    Rows::iterator it;
  };
  struct Dirty {
    uint32_t slot;
    size_t shown_at, shown_end;  // what it showed before the step: shown_[shown_at, shown_end)
  };

  // The group's positions offset .. offset + limit: its output.
  void positions(const Group& g, std::vector<Shown>& into) const {
    uint64_t skip = spec_.offset;
    uint64_t take = spec_.limit.value_or(std::numeric_limits<uint64_t>::max());
    for (const auto& [r, c] : g.rows) {
      if (take == 0) break;
      if (c <= 0) continue;
      uint64_t cnt = static_cast<uint64_t>(c);
      if (skip >= cnt) {
        skip -= cnt;
        continue;
      }
      cnt -= skip;
      skip = 0;
      uint64_t n = std::min(cnt, take);
      take -= n;
      into.push_back(Shown{r.ref(), static_cast<int64_t>(n)});
    }
  }

  // Emits now - before. Both lists are in the map's order (a strict order of distinct rows),
  // so one merge by that order pairs a row shown before and after.
  void emit_difference(StepContext& ctx, std::span<Shown> before, std::span<Shown> now, Batch& out) const {
    auto less = [&](RowRef a, RowRef b) { return compare_by_sort_keys(a, b, within_group_) < 0; };
    size_t i = 0, j = 0;
    while (i < before.size() || j < now.size()) {
      if (j == now.size() || (i < before.size() && less(before[i].row, now[j].row))) {
        out.emplace_back(before[i].row, ctx.time, -before[i].count);
        ++i;
      } else if (i == before.size() || less(now[j].row, before[i].row)) {
        out.emplace_back(now[j].row, ctx.time, now[j].count);
        ++j;
      } else {
        int64_t d = add_diffs(now[j].count, -before[i].count);
        if (d != 0) out.emplace_back(now[j].row, ctx.time, d);
        ++i;
        ++j;
      }
    }
  }

  TopKSpec spec_;
  std::vector<SortKey> within_group_;  // spec_.order_by without the group columns
  size_t prefix_ = 0;  // columns decoded per update: up to the last group column
  FlatKeyIndex index_;
  std::vector<Group> groups_;  // by slot
  std::vector<Dirty> dirty_;   // scratch of step
  std::vector<Shown> shown_;
  std::vector<Zeroed> zeroed_;
  std::vector<Datum> row_, key_;
  std::string kbytes_;
};

// ---------------------------------------------------------------------------------------------
// Distinct and threshold

class CountingOp final : public Operator {
 public:
  explicit CountingOp(bool distinct) : distinct_(distinct) {}
  std::string name() const override { return distinct_ ? "Distinct" : "Threshold"; }
  size_t state_size() const override { return counts_.size(); }
  size_t state_bytes() const override {
    size_t b = counts_.bucket_count() * sizeof(void*);
    for (const auto& [k, e] : counts_) b += kMapNodeBytes + sizeof(k) + sizeof(e) + string_heap_bytes(k) + row_heap_bytes(e.row);
    return b;
  }
  Exchange exchange(size_t) const override {
    Exchange x;
    x.kind = Exchange::Kind::kByKey;
    x.whole_row = true;
    return x;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> before;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      Row key = canonical_row(u.row.ref());
      auto it = counts_.find(key.bytes());
      if (it == counts_.end()) {
        it = counts_.emplace(std::string(key.bytes()), Entry{std::move(u.row), 0}).first;
      }
      before.try_emplace(it->first, it->second.count);
      it->second.count = add_diffs(it->second.count, u.diff);
    }
    for (const auto& [k, b] : before) {
      auto it = counts_.find(std::string_view(k));
      int64_t a = it->second.count;
      int64_t out_before = distinct_ ? (b > 0 ? 1 : 0) : std::max<int64_t>(b, 0);
      int64_t out_after = distinct_ ? (a > 0 ? 1 : 0) : std::max<int64_t>(a, 0);
      if (out_after != out_before) out.push_back(Update{it->second.row, ctx.time, out_after - out_before});
      if (a == 0) counts_.erase(it);
    }
  }

 private:
  struct Entry {
    Row row;  // the first representative seen (what is emitted)
    int64_t count = 0;
  };
  bool distinct_;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> counts_;
};

}  // namespace

struct AccumulatorState {
  AggState s;
};

Accumulator::Accumulator(const AggregateExpr& agg) : agg_(&agg) { clear(); }
Accumulator::~Accumulator() = default;
Accumulator::Accumulator(Accumulator&&) noexcept = default;
Accumulator& Accumulator::operator=(Accumulator&&) noexcept = default;

void Accumulator::clear() {
  state_ = std::make_unique<AccumulatorState>();
  ReduceOp::init_state(*agg_, state_->s);
}

void Accumulator::update(std::span<const Datum> row, int64_t diff, EvalContext& ctx) {
  const AggregateExpr& a = *agg_;
  AggState& s = state_->s;
  if (a.filter) {
    Datum f = eval(*a.filter, row, ctx);
    if (f.is_null() || !f.as_bool()) return;
  }
  if (a.kind == AggKind::kCountStar) {
    s.count = add_diffs(s.count, diff);
    return;
  }
  Datum v = eval(a.arg, row, ctx);
  if (v.is_null() && !keeps_nulls(a.kind)) return;
  Datum sep;
  if (has_second_arg(a.kind)) sep = eval(a.separator, row, ctx);
  std::vector<Datum> order_vals;
  for (const ScalarExpr& o : a.order_exprs) order_vals.push_back(eval(o, row, ctx));
  ReduceOp::update_state(a, s, v, sep, diff, order_vals);
}

Datum Accumulator::result(EvalContext& ctx) const { return ReduceOp::result(*agg_, state_->s, ctx); }

bool Accumulator::exact_retraction() const {
  switch (agg_->kind) {
    case AggKind::kCountStar:
    case AggKind::kCount:
    case AggKind::kMin:
    case AggKind::kMax:
    case AggKind::kBoolAnd:
    case AggKind::kBoolOr:
    case AggKind::kStringAgg:
    case AggKind::kArrayAgg:
    case AggKind::kJsonbAgg:
    case AggKind::kJsonbObjectAgg:
      return true;
    case AggKind::kVarSamp:
    case AggKind::kVarPop:
    case AggKind::kStddevSamp:
    case AggKind::kStddevPop:
      // Exact sums (and per-scale counts for numeric): a value leaves without a trace.
      return true;
    case AggKind::kSum:
    case AggKind::kAvg:
      // Float sums round differently once values leave; numeric sums keep the scale of
      // values that left. Integer and interval sums are exact.
      return is_integer_type(agg_->arg.type.id) || agg_->arg.type.id == TypeId::kInterval;
  }
  return false;
}

int compare_by_sort_keys(RowRef a, RowRef b, const std::vector<SortKey>& keys) {
  if (!keys.empty()) {
    thread_local std::vector<Datum> da, db;
    size_t prefix = 0;  // decode only the columns up to the last key's
    for (const SortKey& k : keys) prefix = std::max<size_t>(prefix, k.column + 1);
    da.clear();
    db.clear();
    unpack_prefix_into(a, da, prefix);
    unpack_prefix_into(b, db, prefix);
    for (const SortKey& k : keys) {
      const Datum& x = da[k.column];
      const Datum& y = db[k.column];
      int c;
      if (x.is_null() || y.is_null()) {
        if (x.is_null() && y.is_null()) continue;
        c = x.is_null() ? (k.nulls_first ? -1 : 1) : (k.nulls_first ? 1 : -1);
        if (c != 0) return c;
        continue;
      }
      c = compare_datums(x, y);
      if (k.descending) c = -c;
      if (c != 0) return c;
    }
  }
  // Materialize breaks ties by the whole row's value (expr/src/relation/func.rs
  // order_aggregate_datums: `compare_columns(order_by, .., || payload_left.cmp(payload_right))`),
  // so that e.g. last_value(x) OVER () is the greatest row's; PostgreSQL leaves ties unordered.
  if (materialize_dialect()) {
    int c = compare_rows(a, b);
    if (c != 0) return c;
  }
  return a.bytes() < b.bytes() ? -1 : (a.bytes() == b.bytes() ? 0 : 1);
}

std::unique_ptr<Operator> make_mfp(std::vector<MfpStage> stages) { return std::make_unique<MfpOp>(std::move(stages)); }

MfpProgram::MfpProgram(std::vector<MfpStage> stages) : stages_(std::move(stages)) {
  for (const MfpStage& s : stages_) filter_only_ = filter_only_ && s.kind == MfpStage::Kind::kFilter;
  if (stages_.size() == 1 && stages_[0].kind == MfpStage::Kind::kProject) {
    project_only_ = true;
    for (uint32_t c : stages_[0].columns) project_prefix_ = std::max<size_t>(project_prefix_, c + 1);
    offsets_.resize(project_prefix_ + 1);
  }
}

bool MfpProgram::apply(RowRef in, EvalContext& ctx, RowRef& out) {
  if (project_only_) {
    const size_t n = column_offsets(in, project_prefix_, offsets_.data());
    FRESHET_ASSERT(n == project_prefix_);
    packed_.clear();
    const char* bytes = in.bytes().data();
    for (uint32_t c : stages_[0].columns) packed_.append(bytes + offsets_[c], offsets_[c + 1] - offsets_[c]);
    out = RowRef(packed_);
    return true;
  }
  row_.clear();
  in.unpack_into(row_);
  for (const MfpStage& s : stages_) {
    switch (s.kind) {
      case MfpStage::Kind::kMap:
        for (const ScalarExpr& e : s.exprs) {
          Datum d = eval(e, row_, ctx);
          row_.push_back(d);
        }
        break;
      case MfpStage::Kind::kFilter:
        for (const ScalarExpr& e : s.exprs)
          if (!eval_predicate(e, row_, ctx)) return false;
        break;
      case MfpStage::Kind::kProject:
        tmp_.clear();
        for (uint32_t c : s.columns) {
          FRESHET_ASSERT(c < row_.size());
          tmp_.push_back(row_[c]);
        }
        row_.swap(tmp_);
        break;
    }
  }
  if (filter_only_) {
    out = in;
  } else {
    packed_.clear();
    RowPacker(packed_).push_all(row_);
    out = RowRef(packed_);
  }
  return true;
}
std::unique_ptr<Operator> make_union() { return std::make_unique<UnionOp>(); }
std::unique_ptr<Operator> make_negate() { return std::make_unique<NegateOp>(); }
std::unique_ptr<Operator> make_constant(std::vector<std::pair<Row, int64_t>> rows) {
  return std::make_unique<ConstantOp>(std::move(rows));
}
std::unique_ptr<Operator> make_equality_filter(std::vector<std::pair<ScalarExpr, ScalarExpr>> pairs) {
  return std::make_unique<EqualityFilterOp>(std::move(pairs));
}
std::unique_ptr<Operator> make_join(JoinSpec spec) { return std::make_unique<JoinOp>(std::move(spec)); }
std::unique_ptr<Operator> make_reduce(ReduceSpec spec) { return std::make_unique<ReduceOp>(std::move(spec)); }
std::unique_ptr<Operator> make_join_reduce(JoinSpec join, ReduceSpec reduce) {
  FRESHET_ASSERT(join.keep_state && reduce.phase == ReduceSpec::Phase::kFull && !reduce.local && !reduce.append_only);
  auto r = std::make_unique<ReduceOp>(std::move(reduce));
  RowAggregator* agg = r.get();
  return std::make_unique<JoinOp>(std::move(join), std::move(r), agg);
}

std::unique_ptr<RowAggregator> make_row_aggregator(ReduceSpec spec) {
  FRESHET_ASSERT(spec.phase == ReduceSpec::Phase::kFull);
  auto op = std::make_unique<ReduceOp>(std::move(spec));
  op->use_direct_keys();
  return op;
}

bool join_residual_passes(RowRef a, RowRef b, const std::vector<std::pair<ScalarExpr, ScalarExpr>>& residual_equal,
                          const std::vector<ScalarExpr>& residual, EvalContext& ev, std::vector<Datum>& scratch) {
  scratch.clear();
  a.unpack_into(scratch);
  b.unpack_into(scratch);
  bool ok = true;
  for (const auto& [x, y] : residual_equal) {
    if (!sql_equal(eval(x, scratch, ev), eval(y, scratch, ev))) {
      ok = false;
      break;
    }
  }
  for (size_t i = 0; ok && i < residual.size(); ++i) {
    Datum d = eval(residual[i], scratch, ev);
    ok = !d.is_null() && d.as_bool();
  }
  ev.arena->reset();
  return ok;
}

bool join_key_bytes(RowRef row, const std::vector<ScalarExpr>& key, size_t prefix, EvalContext& ev,
                    std::vector<Datum>& cols, std::vector<Datum>& k, std::string& kbytes) {
  kbytes.clear();
  cols.clear();
  unpack_prefix_into(row, cols, prefix);
  k.clear();
  for (const ScalarExpr& e : key) {
    Datum d = eval(e, cols, ev);
    if (d.is_null()) {
      ev.arena->reset();
      return false;
    }
    k.push_back(d);
  }
  append_canonical_key(k, kbytes);
  ev.arena->reset();
  return true;
}

bool partial_aggregate_ok(const AggregateExpr& a, bool append_only) {
  if (a.distinct || !a.order_exprs.empty()) return false;
  switch (a.kind) {
    case AggKind::kCountStar:
    case AggKind::kCount:
    case AggKind::kBoolAnd:
    case AggKind::kBoolOr:
      return true;
    case AggKind::kSum:
    case AggKind::kAvg:
      return is_integer_type(a.arg.type.id) || a.arg.type.id == TypeId::kNumeric || a.arg.type.id == TypeId::kInterval;
    case AggKind::kMin:
    case AggKind::kMax:
      return append_only;
    default:
      return false;
  }
}
std::unique_ptr<Operator> make_topk(TopKSpec spec) { return std::make_unique<TopKOp>(std::move(spec)); }
std::unique_ptr<Operator> make_distinct() { return std::make_unique<CountingOp>(true); }
std::unique_ptr<Operator> make_threshold() { return std::make_unique<CountingOp>(false); }

}  // namespace freshet::dataflow
