#pragma once
// tsrange: PostgreSQL's range over timestamp (without time zone), the one range type Freshet
// has (Materialize's session-window examples use it). A value is stored as its canonical
// PostgreSQL text form in a string Datum ("empty", `["2021-01-01 10:00:00","2021-01-01
// 10:05:00")`, `(,"2021-01-01 00:00:00"]`), which is unique per range (tsrange is continuous:
// bounds are kept as written, `[a,a)` is empty), so equality, GROUP BY and DISTINCT on the
// bytes are the range's equality. Ordering is not byte order: the `<` family of operators
// compares ranges as PostgreSQL's range_cmp does, and sql/ refuses ORDER BY on a tsrange.

#include <cstdint>
#include <string>
#include <string_view>

namespace freshet {

struct TsRange {
  bool empty = true;
  bool lower_inf = false, upper_inf = false;  // unbounded (not the timestamp 'infinity')
  bool lower_inc = false, upper_inc = false;
  int64_t lower = 0, upper = 0;  // timestamp microseconds; meaningful when not *_inf
};

// range_in: parses the text form; 22P02 "malformed range literal" on bad syntax, the
// timestamp's own errors for a bad bound, 22000 when the lower bound is above the upper.
TsRange tsrange_parse(std::string_view text);
// range_out: the canonical text form.
std::string tsrange_format(const TsRange& r);
// make_range: normalises (a range with equal bounds not both inclusive is empty; an unbounded
// side is never inclusive); 22000 when lower > upper.
TsRange tsrange_make(bool lower_inf, int64_t lower, bool upper_inf, int64_t upper, bool lower_inc, bool upper_inc);
// PostgreSQL's range_cmp: empty first, then by lower bound, then by upper bound.
int tsrange_compare(const TsRange& a, const TsRange& b);

}  // namespace freshet
