// Table functions (kFlatMap) and window functions (kWindow); see operators.hpp.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/flat_index.hpp"
#include "dataflow/operators.hpp"

namespace freshet::dataflow {

namespace {

// Most rows one call of a table function may produce (generate_series(1, 10^12) is a mistake,
// not a query).
constexpr uint64_t kMaxRowsPerCall = 100'000'000;

[[noreturn]] void too_many_rows() {
  throw SqlError(sqlstate::kProgramLimitExceeded, "a table function produced more than " + std::to_string(kMaxRowsPerCall) + " rows");
}

const FunctionImpl* find_operator(std::string_view op, TypeId left, TypeId right) {
  for (const FunctionImpl* f : lookup_operators(op, false))
    if (f->arg_types.size() == 2 && f->arg_types[0].id == left && f->arg_types[1].id == right) return f;
  return nullptr;
}

// Calls emit(value) for each value of the table function over args (already evaluated).
template <typename Emit>
void run_table_func(TableFunc func, const std::vector<ScalarExpr>& exprs, std::span<const Datum> args, EvalContext& ctx,
                    Emit&& emit) {
  switch (func) {
    case TableFunc::kUnnest: {
      if (args[0].is_null()) return;
      for (const Datum& d : array_elements(args[0].as_string(), exprs[0].type.id, *ctx.arena)) emit(&d, 1);
      return;
    }
    case TableFunc::kGenerateSeries: {
      for (const Datum& a : args)
        if (a.is_null()) return;
      TypeId t = exprs[0].type.id;
      uint64_t n = 0;
      if (is_integer_type(t)) {
        __int128 start = args[0].as_int(), stop = args[1].as_int();
        __int128 step = args.size() > 2 ? args[2].as_int() : 1;
        if (step == 0) throw SqlError(sqlstate::kInvalidParameterValue, "step size cannot equal zero");
        for (__int128 v = start; step > 0 ? v <= stop : v >= stop; v += step) {
          if (++n > kMaxRowsPerCall) too_many_rows();
          Datum d = Datum::from_int(static_cast<int64_t>(v));
          emit(&d, 1);
        }
        return;
      }
      if (t == TypeId::kNumeric) {
        Numeric v = args[0].as_numeric(), stop = args[1].as_numeric();
        Numeric step = args.size() > 2 ? args[2].as_numeric() : numeric_from_int(1);
        if (v.is_nan() || stop.is_nan() || step.is_nan())
          throw SqlError(sqlstate::kInvalidParameterValue, "start value cannot be NaN");
        int dir = numeric_compare(step, numeric_from_int(0));
        if (dir == 0) throw SqlError(sqlstate::kInvalidParameterValue, "step size cannot equal zero");
        while (dir > 0 ? numeric_compare(v, stop) <= 0 : numeric_compare(v, stop) >= 0) {
          if (++n > kMaxRowsPerCall) too_many_rows();
          Datum d = Datum::from_numeric(v);
          emit(&d, 1);
          v = numeric_add(v, step);
        }
        return;
      }
      // timestamp / timestamptz with an interval step.
      const FunctionImpl* plus = find_operator("+", t, TypeId::kInterval);
      if (plus == nullptr || args.size() < 3) throw SqlError(sqlstate::kUndefinedFunction, "generate_series needs an interval step here");
      Interval step = args[2].as_interval();
      if (step.months == 0 && step.days == 0 && step.micros == 0)
        throw SqlError(sqlstate::kInvalidParameterValue, "step size cannot equal zero");
      // The sign of the step as PostgreSQL decides it (interval_cmp against zero).
      __int128 span = static_cast<__int128>(step.months) * 30 * kMicrosPerDay + static_cast<__int128>(step.days) * kMicrosPerDay + step.micros;
      int64_t stop = args[1].as_int();
      Datum v = args[0];
      while (span > 0 ? v.as_int() <= stop : v.as_int() >= stop) {
        if (++n > kMaxRowsPerCall) too_many_rows();
        emit(&v, 1);
        Datum pa[2] = {v, args[2]};
        v = plus->fn(std::span<const Datum>(pa, 2), ctx);
      }
      return;
    }
    case TableFunc::kJsonbArrayElements:
    case TableFunc::kJsonbArrayElementsText:
    case TableFunc::kJsonbEach:
    case TableFunc::kJsonbEachText:
    case TableFunc::kJsonbObjectKeys: {
      if (args[0].is_null()) return;
      JsonValue doc = json_parse(args[0].as_string());
      bool text = func == TableFunc::kJsonbArrayElementsText || func == TableFunc::kJsonbEachText;
      // A value as jsonb text, or (the _text forms) strings unquoted and JSON null as NULL.
      auto value = [&](const JsonValue& v) -> Datum {
        if (text && v.kind == JsonValue::Kind::kNull) return Datum::null();
        if (text && v.kind == JsonValue::Kind::kString) return Datum::from_string(ctx.arena->copy(v.str));
        std::string out;
        json_write(v, out);
        return Datum::from_string(ctx.arena->copy(out));
      };
      const char* name = table_func_name(func);
      // Materialize (expr/src/relation/func.rs): the wrong kind of value has no elements / no
      // entries, where PostgreSQL raises 22023.
      bool mz = materialize_dialect();
      if (func == TableFunc::kJsonbArrayElements || func == TableFunc::kJsonbArrayElementsText) {
        if (mz && doc.kind != JsonValue::Kind::kArray) return;
        if (doc.kind == JsonValue::Kind::kObject) throw SqlError(sqlstate::kInvalidParameterValue, "cannot extract elements from an object");
        if (doc.kind != JsonValue::Kind::kArray) throw SqlError(sqlstate::kInvalidParameterValue, "cannot extract elements from a scalar");
        for (const JsonValue& e : doc.array) {
          Datum d = value(e);
          emit(&d, 1);
        }
        return;
      }
      if (doc.kind != JsonValue::Kind::kObject) {
        if (mz) return;
        if (func == TableFunc::kJsonbObjectKeys)
          throw SqlError(sqlstate::kInvalidParameterValue,
                         std::string("cannot call ") + name + (doc.kind == JsonValue::Kind::kArray ? " on an array" : " on a scalar"));
        throw SqlError(sqlstate::kInvalidParameterValue, std::string("cannot call ") + name + " on a non-object");
      }
      for (const auto& [k, v] : doc.object) {
        Datum d[2] = {Datum::from_string(ctx.arena->copy(k)), Datum()};
        if (func != TableFunc::kJsonbObjectKeys) d[1] = value(v);
        emit(d, func == TableFunc::kJsonbObjectKeys ? 1 : 2);
      }
      return;
    }
  }
}

class FlatMapOp final : public Operator {
 public:
  explicit FlatMapOp(FlatMapSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "FlatMap"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Datum> row, args;
    std::string packed;  // the row being packed (copied into the output batch)
    size_t n = 0;
    size_t reserved = 0;  // ctx.reserve_output
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      if ((++n & 0xfff) == 0) ctx.check_cancelled();
      row.clear();
      u.row.unpack_into(row);
      args.clear();
      for (const ScalarExpr& e : spec_.args) args.push_back(eval(e, row, ctx.eval));
      size_t base = row.size();
      int64_t ordinal = 0;
      run_table_func(spec_.func, spec_.args, args, ctx.eval, [&](const Datum* d, size_t nd) {
        row.resize(base);
        row.insert(row.end(), d, d + nd);
        if (spec_.with_ordinality) row.push_back(Datum::from_int(++ordinal));
        packed.clear();
        RowPacker(packed).push_all(row);
        out.emplace_back(RowRef(packed), u.time, u.diff);
        if ((out.size() & kPollMask) == 0) {  // one row may produce billions (generate_series)
          ctx.check_cancelled();
          ctx.check_size(out.size());
          ctx.check_memory(out.size() * (sizeof(Update) + out.back().row.size_bytes()));
          ctx.reserve_output(out, reserved);
        }
      });
      ctx.check_size(out.size());
      ctx.eval.arena->reset();
    }
  }

 private:
  FlatMapSpec spec_;
};

// Per partition: the rows in window order with their multiplicities, and, for large partitions
// only, the output rows (row + function values) last emitted. A step recomputes each partition
// it touched and emits the difference, so the cost of a change is the size of its partition.
// A small partition's last output is recomputed from its rows before they change instead of
// being kept: for views of many small partitions (Nexmark q18: one or two rows per (bidder,
// auction)) the kept output was a second copy of nearly every row, half of the state.
class WindowOp final : public Operator {
 public:
  explicit WindowOp(WindowSpec spec) : spec_(std::move(spec)) {
    for (uint32_t c : spec_.partition) prefix_ = std::max<size_t>(prefix_, c + 1);
    for (const SortKey& k : spec_.order_by) prefix_ = std::max<size_t>(prefix_, k.column + 1);
    aggs_.resize(spec_.funcs.size());
    for (size_t i = 0; i < spec_.funcs.size(); ++i) {
      const WindowFunc& f = spec_.funcs[i];
      if (f.kind != WindowFuncKind::kAggregate) continue;
      AggregateExpr& a = aggs_[i];
      a.kind = f.agg_kind;
      a.result_type = f.result_type;
      size_t k = 0;
      auto col = [&](uint32_t c) { return ScalarExpr::column_ref(c, spec_.input_types.at(c)); };
      if (a.kind != AggKind::kCountStar) a.arg = col(f.args.at(k++));
      if (a.kind == AggKind::kStringAgg || a.kind == AggKind::kJsonbObjectAgg) a.separator = col(f.args.at(k++));
      if (f.agg_filter) a.filter = col(f.args.at(k++));
      // string_agg/array_agg list their values in window order, as PostgreSQL feeds them.
      // Materialize orders an aggregate's values by the aggregate's own ORDER BY, then by the
      // value (expr/src/relation/func.rs order_aggregate_datums), not by the window's order:
      // array_agg(v) OVER (ORDER BY o) lists v sorted, NULLs last.
      if (!materialize_dialect() &&
          (a.kind == AggKind::kStringAgg || a.kind == AggKind::kArrayAgg || a.kind == AggKind::kJsonbAgg ||
           a.kind == AggKind::kJsonbObjectAgg)) {
        for (const SortKey& o : spec_.order_by) {
          SortKey key = o;
          key.column = static_cast<uint32_t>(a.order_exprs.size());
          a.order_exprs.push_back(col(o.column));
          a.order_keys.push_back(key);
        }
      }
    }
  }
  std::string name() const override { return "Window"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }
  size_t state_size() const override { return index_.size(); }
  size_t state_bytes() const override {
    size_t b = index_.size_bytes() + parts_.capacity() * sizeof(Partition);
    for (const Partition& p : parts_) {
      b += p.rows.capacity() * sizeof(p.rows[0]) + p.emitted.capacity() * sizeof(p.emitted[0]);
      for (const auto& [r, c] : p.rows) b += row_heap_bytes(r);
      for (const auto& [r, c] : p.emitted) b += row_heap_bytes(r);
    }
    return b;
  }
  Exchange exchange(size_t) const override { return Exchange::by_columns(spec_.partition); }

  // One step: the input's updates are decoded once (the columns up to the last partition or
  // ORDER BY column), sorted by (partition, window order) and merged into each touched
  // partition's sorted rows in one pass; each touched partition then recomputes its output
  // (its first row_limit positions when the spec has one) and emits the difference.
  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Change> changes;
    changes.reserve(inputs[0].size());
    keys_.clear();
    keys_.reserve(inputs[0].size() * spec_.order_by.size());
    std::vector<Datum> row, key;
    std::string kbytes;
    size_t polled = 0;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      if ((++polled & kPollMask) == 0) ctx.check_cancelled();
      row.clear();
      unpack_prefix_into(u.row, row, prefix_);
      kbytes.clear();
      if (!spec_.partition.empty()) {
        key.clear();
        for (uint32_t c : spec_.partition) key.push_back(row[c]);
        append_canonical_key(key, kbytes);
      }
      auto [slot, fresh] = index_.insert(kbytes, {});
      if (fresh && parts_.size() < index_.slot_limit()) parts_.resize(index_.slot_limit());
      // The ORDER BY datums borrow the input row's bytes (the batch lives through the step).
      changes.push_back(Change{slot, static_cast<uint32_t>(keys_.size()), u.row, u.diff});
      for (const SortKey& k : spec_.order_by) keys_.push_back(row[k.column]);
    }
    const Datum* kd = keys_.data();
    std::sort(changes.begin(), changes.end(), [&](const Change& a, const Change& b) {
      if (a.slot != b.slot) return a.slot < b.slot;
      int c = compare_keys(kd + a.key_at, kd + b.key_at);
      if (c != 0) return c < 0;
      if (mz_ties_) {  // Materialize: ties by the row's value (compare_by_sort_keys)
        c = compare_rows(a.row, b.row);
        if (c != 0) return c < 0;
      }
      return a.row.bytes() < b.row.bytes();
    });
    std::vector<Insertion> inserts;
    for (size_t i = 0; i < changes.size();) {
      size_t j = i;
      while (j < changes.size() && changes[j].slot == changes[i].slot) ++j;
      uint32_t slot = changes[i].slot;
      Partition& p = parts_[slot];
      std::vector<std::pair<Row, int64_t>> before;
      if (p.kept) {
        before = std::move(p.emitted);
        p.emitted = {};
        p.kept = false;
      } else if (!p.rows.empty()) {
        before = compute(ctx, p);
        consolidate(before);
      }
      merge_changes(p, std::span<const Change>(changes.data() + i, j - i), inserts);
      i = j;
      std::vector<std::pair<Row, int64_t>> now = compute(ctx, p);
      consolidate(now);
      emit_difference(ctx, before, now, out);
      if (keeps_output(p)) {
        p.emitted = std::move(now);
        p.kept = true;
      }
      ctx.check_size(out.size());
      // Only partitions touched by this step can have become empty.
      if (p.rows.empty() && p.emitted.empty()) {
        p = Partition();
        index_.erase(slot);
      }
    }
    // A big step's (a hydration's) ORDER BY datums are not kept for the small steps after it.
    if (keys_.capacity() > kKeepKeys) std::vector<Datum>().swap(keys_);
  }

 private:
  static constexpr size_t kKeepKeys = 1 << 16;  // keys_ capacity kept between steps
  struct Insertion {
    size_t at;  // placed before p.rows[at] (as p.rows was before the insertions)
    RowRef row;
    int64_t diff;
  };
  struct Change {
    uint32_t slot;    // the partition's FlatKeyIndex slot
    uint32_t key_at;  // its ORDER BY datums: keys_[key_at, key_at + order_by.size())
    RowRef row;
    int64_t diff;
  };
  struct Partition {
    // In window order (compare_by_sort_keys: ORDER BY keys, then row bytes), with their
    // multiplicities (never 0): a sorted vector, rebuilt by merging when changed. A change
    // to a partition recomputes its output anyway, so a merge costs no more than the step.
    std::vector<std::pair<Row, int64_t>> rows;
    // The output last emitted, consolidated, when `kept` (keeps_output); else it is
    // compute() of `rows`, recomputed when the partition next changes.
    std::vector<std::pair<Row, int64_t>> emitted;
    bool kept = false;
  };

  // Whether a partition keeps its last output rather than recomputing it at its next change:
  // only when recomputing would cost more than a few dozen rows' work (more than
  // kRecomputeRows rows within the row limit), so that the partitions that keep it are few
  // and large.
  static constexpr uint64_t kRecomputeRows = 32;
  bool keeps_output(const Partition& p) const {
    return std::min<uint64_t>(spec_.row_limit.value_or(std::numeric_limits<uint64_t>::max()), p.rows.size()) >
           kRecomputeRows;
  }

  // Under --sql-dialect materialize rows that tie in the ORDER BY are in the order of their
  // values, as compare_by_sort_keys orders them (so last_value(x) OVER () is the greatest row's).
  const bool mz_ties_ = materialize_dialect();
  // ORDER BY datums a against b (NULLS FIRST/LAST, DESC), as compare_by_sort_keys.
  int compare_keys(const Datum* a, const Datum* b) const {
    for (size_t i = 0; i < spec_.order_by.size(); ++i) {
      const SortKey& k = spec_.order_by[i];
      const Datum& x = a[i];
      const Datum& y = b[i];
      if (x.is_null() || y.is_null()) {
        if (x.is_null() && y.is_null()) continue;
        return x.is_null() ? (k.nulls_first ? -1 : 1) : (k.nulls_first ? 1 : -1);
      }
      int c = compare_datums(x, y);
      if (k.descending) c = -c;
      if (c != 0) return c;
    }
    return 0;
  }
  // A stored row against a change, in window order.
  int compare_stored(const Row& r, const Change& c) {
    scratch_.clear();
    unpack_prefix_into(r.ref(), scratch_, prefix_);
    scratch_keys_.clear();
    for (const SortKey& k : spec_.order_by) scratch_keys_.push_back(scratch_[k.column]);
    int cmp = compare_keys(scratch_keys_.data(), keys_.data() + c.key_at);
    if (cmp != 0) return cmp;
    if (mz_ties_ && (cmp = compare_rows(r.ref(), c.row)) != 0) return cmp;
    std::string_view a = r.ref().bytes(), b = c.row.bytes();
    return a < b ? -1 : (a == b ? 0 : 1);
  }

  // p.rows merged with the changes (sorted in window order): equal rows sum their
  // multiplicities, rows that reach 0 leave. Each change finds its place by binary search
  // from the previous one's (O(log n) decodes). In place: a row already there has its count
  // changed where it is; new rows are placed by one pass from the back that moves only the
  // rows after the first new one, and rows that reached 0 are compacted away from the first
  // of them. So a step allocates nothing but the vector's geometric growth: it used to build
  // each touched partition anew in a second vector, and a hot partition (a Nexmark auction
  // with thousands of bids, touched by every step of a catch-up) got a fresh buffer past the
  // mmap threshold every step, its pages faulted in and unmapped again.
  // O(m log n + the rows from the first change on) for m changes to a partition of n rows.
  void merge_changes(Partition& p, std::span<const Change> ch, std::vector<Insertion>& inserts) {
    inserts.clear();
    size_t at = 0;
    size_t first_zero = SIZE_MAX;
    for (size_t k = 0; k < ch.size();) {
      // This row's diffs (equal rows are adjacent in the sorted changes).
      int64_t d = 0;
      size_t e = k;
      while (e < ch.size() && ch[e].row.bytes() == ch[k].row.bytes()) d = add_diffs(d, ch[e++].diff);
      const Change& c = ch[k];
      k = e;
      if (d == 0) continue;
      size_t lo = at, hi = p.rows.size();
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare_stored(p.rows[mid].first, c) < 0) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
      if (at < p.rows.size() && p.rows[at].first.ref().bytes() == c.row.bytes()) {
        int64_t& n = p.rows[at].second;
        n = add_diffs(n, d);
        if (n == 0) first_zero = std::min(first_zero, at);
        ++at;  // the next change is after this row
      } else {
        inserts.push_back(Insertion{at, c.row, d});  // before the row now at `at`
      }
    }
    if (!inserts.empty()) {
      // From the back: each stored row moves up by the number of new rows before it.
      const size_t old_n = p.rows.size();
      p.rows.resize(old_n + inserts.size());
      size_t read = old_n, write = p.rows.size();
      for (size_t j = inserts.size(); j-- > 0;) {
        const Insertion& ins = inserts[j];
        while (read > ins.at) p.rows[--write] = std::move(p.rows[--read]);
        p.rows[--write] = {Row(ins.row), ins.diff};
      }
      // Indices of rows at or after the first insertion moved: zeros are found again below.
      if (first_zero != SIZE_MAX && first_zero >= inserts.front().at) first_zero = inserts.front().at;
    }
    if (first_zero != SIZE_MAX) {
      auto from = p.rows.begin() + static_cast<std::ptrdiff_t>(first_zero);
      p.rows.erase(std::remove_if(from, p.rows.end(), [](const auto& r) { return r.second == 0; }), p.rows.end());
    }
  }

  // Emits now - before (both consolidated, sorted by row bytes) in one merge: rows in both
  // with equal counts cost a comparison, nothing is copied for them.
  static void emit_difference(StepContext& ctx, const std::vector<std::pair<Row, int64_t>>& before,
                              const std::vector<std::pair<Row, int64_t>>& now, Batch& out) {
    size_t i = 0, j = 0;
    while (i < before.size() || j < now.size()) {
      int c;
      if (i == before.size()) c = 1;
      else if (j == now.size()) c = -1;
      else {
        std::string_view a = before[i].first.ref().bytes(), b = now[j].first.ref().bytes();
        c = a < b ? -1 : (a == b ? 0 : 1);
      }
      if (c < 0) {
        out.emplace_back(before[i].first.ref(), ctx.time, -before[i].second);
        ++i;
      } else if (c > 0) {
        out.emplace_back(now[j].first.ref(), ctx.time, now[j].second);
        ++j;
      } else {
        int64_t d = add_diffs(now[j].second, -before[i].second);
        if (d != 0) out.emplace_back(now[j].first.ref(), ctx.time, d);
        ++i;
        ++j;
      }
    }
  }

  // Peers: equal in every ORDER BY column (NULLs equal each other).
  bool same_order_values(const std::vector<Datum>& a, const std::vector<Datum>& b) const {
    for (const SortKey& k : spec_.order_by) {
      const Datum& x = a[k.column];
      const Datum& y = b[k.column];
      if (x.is_null() || y.is_null()) {
        if (x.is_null() != y.is_null()) return false;
        continue;
      }
      if (compare_datums(x, y) != 0) return false;
    }
    return true;
  }

  // x compared with v + sign * k (RANGE offsets over the one ORDER BY column; x, v not NULL).
  static int compare_offset(const Datum& x, const Datum& v, int sign, const Datum& k) {
    switch (v.kind()) {
      case PhysicalKind::kInt: {
        __int128 t = static_cast<__int128>(v.as_int()) + sign * static_cast<__int128>(k.as_int());
        __int128 a = x.as_int();
        return a < t ? -1 : a > t ? 1 : 0;
      }
      case PhysicalKind::kFloat: {
        // PostgreSQL's in_range_float8_float8: NaN is above every other value and equal to
        // itself; an infinite offset from an infinite value in the same direction holds all.
        double a = x.as_float(), base = v.as_float(), off = k.as_float();
        if (std::isnan(a)) return std::isnan(base) ? 0 : 1;
        if (std::isnan(base)) return -1;
        if (std::isinf(off) && std::isinf(base) && (sign < 0 ? base > 0 : base < 0)) return 0;
        double t = sign < 0 ? base - off : base + off;
        return a < t ? -1 : a > t ? 1 : 0;
      }
      case PhysicalKind::kNumeric: {
        if (x.as_numeric().is_nan()) return v.as_numeric().is_nan() ? 0 : 1;
        if (v.as_numeric().is_nan()) return -1;
        Numeric kk = k.as_numeric();
        Numeric t = sign > 0 ? numeric_add(v.as_numeric(), kk) : numeric_sub(v.as_numeric(), kk);
        return numeric_compare(x.as_numeric(), t);
      }
      default:
        throw SqlError(sqlstate::kFeatureNotSupported, "RANGE with an offset over this ORDER BY type is not supported");
    }
  }

  // The output rows of one partition.
  std::vector<std::pair<Row, int64_t>> compute(StepContext& ctx, Partition& p) {
    // Positions in window order (a row of multiplicity c fills c positions).
    std::vector<std::vector<Datum>> distinct_rows;
    distinct_rows.reserve(p.rows.size());
    std::vector<uint32_t> at;  // position -> index into distinct_rows
    // With a row limit only the first row_limit positions are output (row_number, rank and
    // dense_rank of a position read only the positions before it).
    const uint64_t limit = spec_.row_limit.value_or(std::numeric_limits<uint64_t>::max());
    for (const auto& [r, c] : p.rows) {
      if (at.size() >= limit) break;
      if (c <= 0) continue;  // a retraction of a row never inserted: a bug upstream
      distinct_rows.emplace_back();
      r.unpack_into(distinct_rows.back());
      for (int64_t k = 0; k < c && at.size() < limit; ++k) at.push_back(static_cast<uint32_t>(distinct_rows.size() - 1));
      if ((at.size() & kPollMask) == 0) ctx.check_cancelled();
      ctx.check_size(at.size());
    }
    size_t n = at.size();
    if (n == 0) return {};  // the partition is empty now: retract what it showed
    auto value = [&](size_t i, uint32_t col) -> const Datum& { return distinct_rows[at[i]][col]; };
    // Peer groups: [peer_start[i], peer_end[i]) and their ordinal.
    std::vector<size_t> peer_start(n), peer_end(n), group(n);
    for (size_t i = 0; i < n; ++i) {
      bool peer = i > 0 && (at[i] == at[i - 1] || same_order_values(distinct_rows[at[i - 1]], distinct_rows[at[i]]));
      peer_start[i] = peer ? peer_start[i - 1] : i;
      group[i] = i == 0 ? 0 : group[i - 1] + (peer ? 0 : 1);
    }
    for (size_t i = n; i-- > 0;) peer_end[i] = (i + 1 < n && peer_start[i + 1] == peer_start[i]) ? peer_end[i + 1] : i + 1;

    // Whether position j is left out of row i's frame by EXCLUDE (only i and its peers can be).
    auto excluded = [&](const WindowFrame& fr, size_t i, size_t j) {
      switch (fr.exclude) {
        case FrameExclude::kNoOthers: return false;
        case FrameExclude::kCurrentRow: return j == i;
        case FrameExclude::kGroup: return j >= peer_start[i] && j < peer_end[i];
        case FrameExclude::kTies: return j != i && j >= peer_start[i] && j < peer_end[i];
      }
      return false;
    };
    std::vector<std::vector<Datum>> results(spec_.funcs.size(), std::vector<Datum>(n));
    std::vector<size_t> fs(n), fe(n);
    for (size_t fi = 0; fi < spec_.funcs.size(); ++fi) {
      const WindowFunc& f = spec_.funcs[fi];
      std::vector<Datum>& res = results[fi];
      switch (f.kind) {
        case WindowFuncKind::kRowNumber:
          for (size_t i = 0; i < n; ++i) res[i] = Datum::from_int(static_cast<int64_t>(i + 1));
          continue;
        case WindowFuncKind::kRank:
          for (size_t i = 0; i < n; ++i) res[i] = Datum::from_int(static_cast<int64_t>(peer_start[i] + 1));
          continue;
        case WindowFuncKind::kDenseRank:
          for (size_t i = 0; i < n; ++i) res[i] = Datum::from_int(static_cast<int64_t>(group[i] + 1));
          continue;
        case WindowFuncKind::kPercentRank:
          for (size_t i = 0; i < n; ++i)
            res[i] = Datum::from_float(n > 1 ? static_cast<double>(peer_start[i]) / static_cast<double>(n - 1) : 0.0);
          continue;
        case WindowFuncKind::kCumeDist:
          for (size_t i = 0; i < n; ++i) res[i] = Datum::from_float(static_cast<double>(peer_end[i]) / static_cast<double>(n));
          continue;
        case WindowFuncKind::kNtile: {
          // The argument is read at the partition's first row, as PostgreSQL does.
          const Datum& b = value(0, f.args.at(0));
          if (b.is_null()) continue;  // all NULL
          int64_t buckets = b.as_int();
          if (buckets <= 0) throw SqlError("22014", "argument of ntile must be greater than zero");
          uint64_t k = static_cast<uint64_t>(buckets);
          uint64_t per = n / k, extra = n % k;  // the first `extra` buckets get per + 1 rows
          for (size_t i = 0; i < n; ++i) {
            uint64_t bucket;
            if (per == 0) {
              bucket = i + 1;
            } else if (i < extra * (per + 1)) {
              bucket = i / (per + 1) + 1;
            } else {
              bucket = extra + (i - extra * (per + 1)) / per + 1;
            }
            res[i] = Datum::from_int(static_cast<int64_t>(bucket));
          }
          continue;
        }
        case WindowFuncKind::kLag:
        case WindowFuncKind::kLead: {
          // IGNORE NULLS: the offset counts only the rows whose value is not NULL (`nn`, their
          // positions in order); offset 0 is the row itself.
          std::vector<size_t> nn;
          if (f.ignore_nulls)
            for (size_t i = 0; i < n; ++i)
              if (!value(i, f.args[0]).is_null()) nn.push_back(i);
          for (size_t i = 0; i < n; ++i) {
            if (f.ignore_nulls) {
              int64_t off = 1;
              if (f.args.size() > 1) {
                const Datum& o = value(i, f.args[1]);
                if (o.is_null()) continue;  // NULL
                off = o.as_int();
              }
              __int128 step = f.kind == WindowFuncKind::kLag ? -static_cast<__int128>(off) : off;
              if (step == 0) {
                res[i] = value(i, f.args[0]);
                continue;
              }
              // Non-NULL rows before i: [0, below); after i: [above, nn.size()).
              auto below = static_cast<__int128>(std::lower_bound(nn.begin(), nn.end(), i) - nn.begin());
              auto above = static_cast<__int128>(std::upper_bound(nn.begin(), nn.end(), i) - nn.begin());
              __int128 k = step < 0 ? below + step : above + step - 1;
              if (k >= 0 && k < static_cast<__int128>(nn.size())) {
                res[i] = value(nn[static_cast<size_t>(k)], f.args[0]);
              } else if (f.args.size() > 2) {
                res[i] = value(i, f.args[2]);
              }
              continue;
            }
            int64_t off = 1;
            if (f.args.size() > 1) {
              const Datum& o = value(i, f.args[1]);
              if (o.is_null()) continue;  // NULL
              off = o.as_int();
            }
            __int128 j = static_cast<__int128>(i) + (f.kind == WindowFuncKind::kLag ? -static_cast<__int128>(off) : off);
            if (j >= 0 && j < static_cast<__int128>(n)) {
              res[i] = value(static_cast<size_t>(j), f.args[0]);
            } else if (f.args.size() > 2) {
              res[i] = value(i, f.args[2]);
            }
          }
          continue;
        }
        default:
          break;
      }
      // Frame functions.
      frame_bounds(f.frame, n, peer_start, peer_end, group, value, fs, fe);
      switch (f.kind) {
        case WindowFuncKind::kFirstValue:
          for (size_t i = 0; i < n; ++i) {
            size_t j = fs[i];
            while (j < fe[i] && excluded(f.frame, i, j)) ++j;
            if (j < fe[i]) res[i] = value(j, f.args.at(0));
          }
          break;
        case WindowFuncKind::kLastValue:
          for (size_t i = 0; i < n; ++i) {
            size_t j = fe[i];
            while (j > fs[i] && excluded(f.frame, i, j - 1)) --j;
            if (j > fs[i]) res[i] = value(j - 1, f.args.at(0));
          }
          break;
        case WindowFuncKind::kNthValue:
          for (size_t i = 0; i < n; ++i) {
            const Datum& nth = value(i, f.args.at(1));
            if (nth.is_null()) continue;
            int64_t k = nth.as_int();
            if (k <= 0) throw SqlError("22016", "argument of nth_value must be greater than zero");
            if (f.frame.exclude == FrameExclude::kNoOthers) {
              if (static_cast<uint64_t>(k) <= fe[i] - fs[i]) res[i] = value(fs[i] + static_cast<size_t>(k) - 1, f.args[0]);
              continue;
            }
            // The k-th position of the frame that is not excluded (the excluded ones are at
            // most the row's peers, so this walks at most k + peers positions).
            for (size_t j = fs[i]; j < fe[i]; ++j) {
              if (excluded(f.frame, i, j)) continue;
              if (--k == 0) {
                res[i] = value(j, f.args[0]);
                break;
              }
            }
          }
          break;
        case WindowFuncKind::kAggregate: {
          Accumulator acc(aggs_[fi]);
          bool exact = acc.exact_retraction();
          bool excluding = f.frame.exclude != FrameExclude::kNoOthers;
          size_t cs = 0, ce = 0;  // the accumulated positions [cs, ce)
          for (size_t i = 0; i < n; ++i) {
            size_t s = fs[i], e = fe[i];
            if (s >= ce || e < ce || (!exact && (s != cs || excluding))) {
              acc.clear();
              cs = ce = s;
            }
            if (excluding && !exact) {
              // Re-accumulate this row's frame without the excluded rows.
              for (size_t j = s; j < e; ++j)
                if (!excluded(f.frame, i, j)) acc.update(distinct_rows[at[j]], 1, ctx.eval);
              Datum r = acc.result(ctx.eval);
              if (r.kind() == PhysicalKind::kString) r = Datum::from_string(ctx.eval.arena->copy(r.as_string()));
              res[i] = r;
              acc.clear();
              cs = ce = e;
              continue;
            }
            while (ce < e) acc.update(distinct_rows[at[ce++]], 1, ctx.eval);
            while (cs < s) acc.update(distinct_rows[at[cs++]], -1, ctx.eval);
            // EXCLUDE: take the excluded rows (the row and/or its peers) out for this row only.
            size_t xs = 0, xe = 0;
            if (excluding) {
              xs = std::max(s, peer_start[i]);
              xe = std::min(e, peer_end[i]);
              for (size_t j = xs; j < xe; ++j)
                if (excluded(f.frame, i, j)) acc.update(distinct_rows[at[j]], -1, ctx.eval);
            }
            Datum r = acc.result(ctx.eval);
            for (size_t j = xs; j < xe; ++j)
              if (excluded(f.frame, i, j)) acc.update(distinct_rows[at[j]], 1, ctx.eval);
            // min/max of strings point into the accumulator, which changes as the frame
            // slides: keep a copy that lives until the rows are packed.
            if (r.kind() == PhysicalKind::kString) r = Datum::from_string(ctx.eval.arena->copy(r.as_string()));
            res[i] = r;
            if ((i & kPollMask) == kPollMask) ctx.check_cancelled();
          }
          break;
        }
        default:
          throw SqlError(sqlstate::kInternalError, "unknown window function");
      }
    }
    std::vector<std::pair<Row, int64_t>> now;
    now.reserve(n);
    std::vector<Datum> outrow;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; ++i) {
      outrow = distinct_rows[at[i]];
      for (size_t fi = 0; fi < spec_.funcs.size(); ++fi) outrow.push_back(results[fi][i]);
      now.emplace_back(Row::pack(outrow), 1);
      bytes += sizeof(now.back()) + now.back().first.size_bytes();
      // The partition's output is built whole before it is diffed: count it against the
      // query's memory budget (one-shot queries have one).
      if ((i & kPollMask) == kPollMask) ctx.check_memory(bytes);
    }
    ctx.check_memory(bytes);
    ctx.eval.arena->reset();
    return now;
  }

  // Each position's frame [fs[i], fe[i]) (empty frames have fs == fe). Both are
  // non-decreasing in i, which the sliding accumulators rely on.
  template <typename Value>
  void frame_bounds(const WindowFrame& fr, size_t n, const std::vector<size_t>& peer_start, const std::vector<size_t>& peer_end,
                    const std::vector<size_t>& group, Value&& value, std::vector<size_t>& fs, std::vector<size_t>& fe) const {
    // GROUPS: the first and past-the-last position of each peer group.
    std::vector<size_t> group_start, group_end;
    if (fr.groups) {
      for (size_t i = 0; i < n; ++i) {
        if (i == 0 || group[i] != group[i - 1]) group_start.push_back(i);
        if (i + 1 == n || group[i + 1] != group[i]) group_end.push_back(i + 1);
      }
    }
    uint64_t ngroups = group_start.size();
    // RANGE offsets: positions of the non-NULL block of the ORDER BY column.
    size_t nn_begin = 0, nn_end = n;
    uint32_t oc = 0;
    int dir = 1;
    bool range_offset = !fr.rows && !fr.groups && (fr.start.kind == FrameBoundKind::kPreceding || fr.start.kind == FrameBoundKind::kFollowing ||
                                     fr.end.kind == FrameBoundKind::kPreceding || fr.end.kind == FrameBoundKind::kFollowing);
    if (range_offset) {
      oc = spec_.order_by.at(0).column;
      dir = spec_.order_by[0].descending ? -1 : 1;
      if (spec_.order_by[0].nulls_first) {
        while (nn_begin < n && value(nn_begin, oc).is_null()) ++nn_begin;
      } else {
        while (nn_end > 0 && value(nn_end - 1, oc).is_null()) --nn_end;
      }
    }
    // First position in the non-NULL block whose value is >= (or, for the end, >) v + sign * k
    // in the sort direction, searched forward from `from` (bounds only move forward).
    auto range_bound = [&](size_t i, const FrameBound& b, bool end, size_t from) -> size_t {
      const Datum& v = value(i, oc);
      if (v.is_null()) return end ? peer_end[i] : peer_start[i];
      int sign = (b.kind == FrameBoundKind::kPreceding ? -1 : 1) * dir;
      Datum k = b.range.get(0);
      size_t j = std::max(from, nn_begin);
      while (j < nn_end) {
        int c = compare_offset(value(j, oc), v, sign, k) * dir;
        if (end ? c > 0 : c >= 0) break;
        ++j;
      }
      return j;
    };
    size_t rs = 0, re = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t s = 0, e = n;
      switch (fr.start.kind) {
        case FrameBoundKind::kUnboundedPreceding: s = 0; break;
        case FrameBoundKind::kCurrentRow: s = fr.rows ? i : peer_start[i]; break;
        case FrameBoundKind::kPreceding:
          if (fr.rows) {
            s = static_cast<uint64_t>(fr.start.rows) >= i ? 0 : i - static_cast<size_t>(fr.start.rows);
          } else if (fr.groups) {
            uint64_t k = static_cast<uint64_t>(fr.start.rows);
            s = group_start[k >= group[i] ? 0 : group[i] - k];
          } else {
            s = rs = range_bound(i, fr.start, false, value(i, oc).is_null() ? 0 : rs);
          }
          break;
        case FrameBoundKind::kFollowing:
          if (fr.rows) {
            s = static_cast<uint64_t>(fr.start.rows) >= n - i ? n : i + static_cast<size_t>(fr.start.rows);
          } else if (fr.groups) {
            uint64_t k = static_cast<uint64_t>(fr.start.rows);
            s = k >= ngroups - group[i] ? n : group_start[group[i] + k];
          } else {
            s = rs = range_bound(i, fr.start, false, value(i, oc).is_null() ? 0 : rs);
          }
          break;
        case FrameBoundKind::kUnboundedFollowing: s = n; break;
      }
      switch (fr.end.kind) {
        case FrameBoundKind::kUnboundedPreceding: e = 0; break;
        case FrameBoundKind::kCurrentRow: e = fr.rows ? i + 1 : peer_end[i]; break;
        case FrameBoundKind::kPreceding:
          if (fr.rows) {
            e = static_cast<uint64_t>(fr.end.rows) > i ? 0 : i - static_cast<size_t>(fr.end.rows) + 1;
          } else if (fr.groups) {
            uint64_t k = static_cast<uint64_t>(fr.end.rows);
            e = k > group[i] ? 0 : group_end[group[i] - k];
          } else {
            e = re = range_bound(i, fr.end, true, value(i, oc).is_null() ? 0 : re);
          }
          break;
        case FrameBoundKind::kFollowing:
          if (fr.rows) {
            e = static_cast<uint64_t>(fr.end.rows) >= n - i ? n : i + static_cast<size_t>(fr.end.rows) + 1;
          } else if (fr.groups) {
            uint64_t k = static_cast<uint64_t>(fr.end.rows);
            e = k >= ngroups - group[i] ? n : group_end[group[i] + k];
          } else {
            e = re = range_bound(i, fr.end, true, value(i, oc).is_null() ? 0 : re);
          }
          break;
        case FrameBoundKind::kUnboundedFollowing: e = n; break;
      }
      fs[i] = s;
      fe[i] = std::max(s, e);
    }
  }

  WindowSpec spec_;
  std::vector<AggregateExpr> aggs_;  // per function: the aggregate of kAggregate functions
  size_t prefix_ = 0;  // input columns decoded: up to the last partition or ORDER BY column
  FlatKeyIndex index_;  // partition key (canonical) -> slot in parts_
  std::vector<Partition> parts_;
  std::vector<Datum> keys_;  // the step's changes' ORDER BY datums
  std::vector<Datum> scratch_, scratch_keys_;
};

}  // namespace

std::unique_ptr<Operator> make_flat_map(FlatMapSpec spec) { return std::make_unique<FlatMapOp>(std::move(spec)); }
std::unique_ptr<Operator> make_window(WindowSpec spec) { return std::make_unique<WindowOp>(std::move(spec)); }

}  // namespace freshet::dataflow
