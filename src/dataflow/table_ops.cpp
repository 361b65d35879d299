// Table functions (kFlatMap) and window functions (kWindow); see operators.hpp.

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "dataflow/eval.hpp"
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
      for (const Datum& d : array_elements(args[0].as_string(), exprs[0].type.id, *ctx.arena)) emit(d);
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
          emit(Datum::from_int(static_cast<int64_t>(v)));
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
          emit(Datum::from_numeric(v));
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
        emit(v);
        Datum pa[2] = {v, args[2]};
        v = plus->fn(std::span<const Datum>(pa, 2), ctx);
      }
      return;
    }
  }
}

class FlatMapOp final : public Operator {
 public:
  explicit FlatMapOp(FlatMapSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "FlatMap"; }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Datum> row, args;
    size_t n = 0;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      if ((++n & 0xfff) == 0) ctx.check_cancelled();
      row.clear();
      u.row.unpack_into(row);
      args.clear();
      for (const ScalarExpr& e : spec_.args) args.push_back(eval(e, row, ctx.eval));
      size_t base = row.size();
      int64_t ordinal = 0;
      run_table_func(spec_.func, spec_.args, args, ctx.eval, [&](const Datum& d) {
        row.resize(base);
        row.push_back(d);
        if (spec_.with_ordinality) row.push_back(Datum::from_int(++ordinal));
        out.push_back(Update{Row::pack(row), u.time, u.diff});
        if ((out.size() & 0xffff) == 0) {  // one row may produce billions (generate_series)
          ctx.check_cancelled();
          ctx.check_size(out.size());
          ctx.check_memory(out.size() * (sizeof(Update) + out.back().row.size_bytes()));
        }
      });
      ctx.check_size(out.size());
      ctx.eval.arena->reset();
    }
  }

 private:
  FlatMapSpec spec_;
};

// Per partition: the rows in window order with their multiplicities, and the output rows
// (row + function values) last emitted. A step recomputes each partition it touched and
// emits the difference, so the cost of a change is the size of its partition.
class WindowOp final : public Operator {
 public:
  explicit WindowOp(WindowSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "Window"; }
  size_t state_size() const override { return partitions_.size(); }
  Exchange exchange(size_t) const override { return Exchange::by_columns(spec_.partition); }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    std::vector<Partition*> dirty;
    std::vector<Datum> row, key;
    std::string kbytes;
    for (Update& u : inputs[0]) {
      if (u.diff == 0) continue;
      kbytes.clear();
      if (!spec_.partition.empty()) {
        row.clear();
        u.row.unpack_into(row);
        key.clear();
        for (uint32_t c : spec_.partition) key.push_back(row[c]);
        append_canonical_key(key, kbytes);
      }
      auto it = partitions_.find(kbytes);
      if (it == partitions_.end()) it = partitions_.emplace(kbytes, Partition(Less{&spec_.order_by})).first;
      Partition& p = it->second;
      if (!p.dirty) {
        p.dirty = true;
        dirty.push_back(&p);
      }
      auto [rit, inserted] = p.rows.try_emplace(std::move(u.row), 0);
      rit->second = add_diffs(rit->second, u.diff);
      if (rit->second == 0) p.rows.erase(rit);
    }
    std::vector<Datum> prev, cur, outrow;
    for (Partition* p : dirty) {
      p->dirty = false;
      std::vector<std::pair<Row, int64_t>> now;
      int64_t position = 0, rank = 0, dense = 0;
      prev.clear();
      bool first = true;
      for (const auto& [r, c] : p->rows) {
        if (c <= 0) continue;  // a retraction of a row never inserted: a bug upstream
        cur.clear();
        r.unpack_into(cur);
        bool peer = !first && same_order_values(prev, cur);
        for (int64_t k = 0; k < c; ++k) {
          ++position;
          if (!(peer || k > 0)) {
            rank = position;
            ++dense;
          }
          outrow = cur;
          for (const WindowFunc& f : spec_.funcs) {
            switch (f.kind) {
              case WindowFuncKind::kRowNumber: outrow.push_back(Datum::from_int(position)); break;
              case WindowFuncKind::kRank: outrow.push_back(Datum::from_int(rank)); break;
              case WindowFuncKind::kDenseRank: outrow.push_back(Datum::from_int(dense)); break;
            }
          }
          now.emplace_back(Row::pack(outrow), 1);
        }
        prev.swap(cur);
        first = false;
      }
      std::vector<std::pair<Row, int64_t>> delta = now;
      for (const auto& [r, c] : p->emitted) delta.emplace_back(r, -c);
      consolidate(delta);
      for (auto& [r, c] : delta) out.push_back(Update{std::move(r), ctx.time, c});
      consolidate(now);
      p->emitted = std::move(now);
    }
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      if (it->second.rows.empty() && it->second.emitted.empty()) {
        it = partitions_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
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
  struct Less {
    const std::vector<SortKey>* keys;
    bool operator()(const Row& a, const Row& b) const { return compare_by_sort_keys(a.ref(), b.ref(), *keys) < 0; }
  };
  struct Partition {
    explicit Partition(Less l) : rows(l) {}
    std::map<Row, int64_t, Less> rows;
    std::vector<std::pair<Row, int64_t>> emitted;
    bool dirty = false;
  };
  WindowSpec spec_;
  std::unordered_map<std::string, Partition> partitions_;
};

}  // namespace

std::unique_ptr<Operator> make_flat_map(FlatMapSpec spec) { return std::make_unique<FlatMapOp>(std::move(spec)); }
std::unique_ptr<Operator> make_window(WindowSpec spec) { return std::make_unique<WindowOp>(std::move(spec)); }

}  // namespace freshet::dataflow
