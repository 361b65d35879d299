#pragma once
// Updates and batches: the unit of change every operator consumes and produces.
//
// A collection is a multiset that changes over time, carried as updates (row, time, diff): at
// `time`, `row`'s multiplicity changes by `diff` (a Z-set per timestamp, in DBSP's terms). An
// upsert of key k is the retraction of the old row plus the insertion of the new one.
//
// Keys. Arrangements, groups and distinct rows are found by the bytes of a canonical key row
// (canonical_key()), so that values SQL's `=` / GROUP BY consider equal but whose packed bytes
// differ (numeric 1.5 and 1.50, float -0.0 and 0.0, interval '1 day' and '24 hours') fall
// into one bucket. The canonical key is an index only; outputs carry the original rows.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/datum.hpp"
#include "common/row.hpp"

namespace freshet::dataflow {

struct Update {
  Row row;
  uint64_t time = 0;
  int64_t diff = 0;
};

// A batch of updates. Operators process one timestamp's batch at a time.
using Batch = std::vector<Update>;

// Sums the diffs of equal (time, row) pairs and drops zeros. Order afterwards: unspecified
// but deterministic (by time, then row bytes). Cost: O(n log n).
void consolidate(Batch& batch);
// The same over (row, diff) pairs.
void consolidate(std::vector<std::pair<Row, int64_t>>& rows);

// Appends the canonical key encoding of datums to out (see above).
void append_canonical_key(std::span<const Datum> datums, std::string& out);
// True when d's packed bytes may differ between values that compare equal.
inline bool needs_canonical(const Datum& d) {
  return d.kind() == PhysicalKind::kNumeric || d.kind() == PhysicalKind::kFloat ||
         d.kind() == PhysicalKind::kInterval;
}
// Canonical key of a whole packed row (the row's own bytes when nothing needs rewriting).
Row canonical_row(RowRef row);

// Throws SqlError 22003 when a diff sum overflows int64 (cannot happen with sane inputs, but
// the arithmetic is checked rather than undefined).
int64_t add_diffs(int64_t a, int64_t b);

}  // namespace freshet::dataflow
