// The temporal filter operator (operators.hpp make_temporal_filter).
//
// Each input row gets a validity interval [from, until) of logical times (ms since the Unix
// epoch) from its temporal bounds. An update (row, t, d) becomes +d at max(t, from) (nothing
// if that is not before until) and -d at until: what is due now goes out at once, the rest
// waits in a queue ordered by time that every step releases up to its time. A retraction of
// the row mirrors its insertion, so the queued updates cancel. No input is ever rescanned.
//
// Cost: O(log q) per update for the q queued ones; memory: one queued update per row that is
// not yet valid and one per row that will expire.

#include <cmath>
#include <limits>
#include <map>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/operators.hpp"

namespace freshet::dataflow {

namespace {

using i128 = __int128;
constexpr i128 kPlusInf = static_cast<i128>(1) << 100;
constexpr i128 kMinusInf = -kPlusInf;
constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();

i128 floor_div(i128 a, i128 b) {
  i128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
i128 ceil_div(i128 a, i128 b) { return -floor_div(-a, b); }

// The bound as ms since the Unix epoch, rounded down and up (equal when it is whole ms).
struct Ms {
  i128 floor, ceil;
};

Ms to_ms(const Datum& d, Type t) {
  switch (t.id) {
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      int64_t us = d.as_int();
      if (us == kTimestampPosInfinity) return {kPlusInf, kPlusInf};
      if (us == kTimestampNegInfinity) return {kMinusInf, kMinusInf};
      i128 unix_us = static_cast<i128>(us) + kUnixToPgEpochMicros;
      return {floor_div(unix_us, 1000), ceil_div(unix_us, 1000)};
    }
    case TypeId::kDate: {
      int64_t days = d.as_int();
      if (days == kDatePosInfinity) return {kPlusInf, kPlusInf};
      if (days == kDateNegInfinity) return {kMinusInf, kMinusInf};
      i128 ms = (static_cast<i128>(days) * kMicrosPerDay + kUnixToPgEpochMicros) / 1000;
      return {ms, ms};
    }
    case TypeId::kFloat4:
    case TypeId::kFloat8: {
      double v = d.as_float();
      if (std::isnan(v) || v >= 1e30) return {kPlusInf, kPlusInf};
      if (v <= -1e30) return {kMinusInf, kMinusInf};
      return {static_cast<i128>(std::floor(v)), static_cast<i128>(std::ceil(v))};
    }
    case TypeId::kNumeric: {
      Numeric n = d.as_numeric();
      Numeric whole = numeric_trunc(n, 0);  // toward zero
      i128 w = 0;
      try {
        w = numeric_to_int(whole);
      } catch (const SqlError&) {
        // Beyond int64 ms but a timestamp (up to 2^64 - 1, Materialize's last time, which
        // `mz_now() >= 18446744073709551615` reaches): exact. Beyond that (or NaN, which sorts
        // above every number): out of every time's reach.
        static const Numeric kLastTime = numeric_parse_exact("18446744073709551615");
        if (numeric_compare(n, numeric_from_int(0)) > 0 && numeric_compare(whole, kLastTime) <= 0) {
          w = 0;
          for (char ch : numeric_to_string(whole)) {
            if (ch < '0' || ch > '9') break;
            w = w * 10 + (ch - '0');
          }
        } else {
          return numeric_compare(n, numeric_from_int(0)) > 0 ? Ms{kPlusInf, kPlusInf} : Ms{kMinusInf, kMinusInf};
        }
      }
      int c = numeric_compare(n, whole);
      return {c < 0 ? w - 1 : w, c > 0 ? w + 1 : w};
    }
    default:
      return {static_cast<i128>(d.as_int()), static_cast<i128>(d.as_int())};
  }
}

class TemporalFilterOp final : public Operator {
 public:
  TemporalFilterOp(std::vector<TemporalBound> bounds, bool keep_state) : bounds_(std::move(bounds)), keep_state_(keep_state) {}
  std::string name() const override { return "TemporalFilter"; }
  std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> in) const override { return in[0].parts; }
  size_t state_size() const override { return queued_; }
  size_t state_bytes() const override {
    size_t b = 0;
    for (const auto& [t, batch] : queue_) b += kMapNodeBytes + sizeof(t) + sizeof(batch) + batch.used_bytes();
    return b;
  }

  std::optional<uint64_t> next_due() const override {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    const uint64_t now = ctx.time;
    std::vector<Datum> row;
    size_t n = 0;
    for (Update& u : inputs[0]) {
      if ((++n & kPollMask) == 0) ctx.check_cancelled();
      row.clear();
      u.row.unpack_into(row);
      i128 from = 0, until = kPlusInf;
      for (const TemporalBound& b : bounds_) {
        Datum d = eval(b.expr, row, ctx.eval);
        if (d.is_null()) {
          until = from;
          break;
        }
        Ms v = to_ms(d, b.expr.type);
        switch (b.op) {
          case TemporalOp::kEq:
            from = std::max(from, v.ceil);
            until = std::min(until, v.floor + 1);
            break;
          case TemporalOp::kGe: from = std::max(from, v.ceil); break;
          case TemporalOp::kGt: from = std::max(from, v.floor + 1); break;
          case TemporalOp::kLe: until = std::min(until, v.floor + 1); break;
          case TemporalOp::kLt: until = std::min(until, v.ceil); break;
        }
      }
      i128 at = std::max(from, static_cast<i128>(now));
      if (at >= until) continue;
      uint64_t until64 = until >= static_cast<i128>(kForever) ? kForever : static_cast<uint64_t>(until);
      if (static_cast<uint64_t>(at) == now) {
        if (keep_state_ && until64 != kForever) schedule(until64, u.row, -u.diff);
        out.push_back(Update{u.row, now, u.diff});
      } else if (keep_state_) {
        // Not valid yet: it enters at `from`, and leaves at `until`.
        schedule(static_cast<uint64_t>(at), u.row, u.diff);
        if (until64 != kForever) schedule(until64, u.row, -u.diff);
      }
    }
    // Release what is due. A step may skip times: due updates all go out at this one.
    while (!queue_.empty() && queue_.begin()->first <= now) {
      Batch& b = queue_.begin()->second;
      queued_ -= b.size();
      for (Update& u : b) u.time = now;
      out.append(std::move(b));  // takes the queued batch's buffers
      queue_.erase(queue_.begin());
    }
    consolidate(out);
  }

 private:
  void schedule(uint64_t t, RowRef row, int64_t diff) {
    queue_[t].push_back(Update{row, t, diff});
    ++queued_;
  }

  std::vector<TemporalBound> bounds_;
  bool keep_state_;
  std::map<uint64_t, Batch> queue_;  // updates by the time they are due
  size_t queued_ = 0;
};

}  // namespace

std::unique_ptr<Operator> make_temporal_filter(std::vector<TemporalBound> bounds, bool keep_state) {
  return std::make_unique<TemporalFilterOp>(std::move(bounds), keep_state);
}

}  // namespace freshet::dataflow
