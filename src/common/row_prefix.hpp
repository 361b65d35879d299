#pragma once
// Decoding only the leading columns of a packed row. (Beside row.hpp rather than in it so
// that adding it did not rebuild everything that includes row.hpp.)

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/datum.hpp"
#include "common/row.hpp"

namespace freshet {

// Appends at most the first n datums of `row` (all of them when it has fewer), borrowing its
// bytes: an operator that reads only leading columns skips decoding the rest. O(n).
void unpack_prefix_into(RowRef row, std::vector<Datum>& out, size_t n);
// The bytes of the first n datums of `row` (all of it when it has fewer): rows are their
// datums' encodings one after the other, so this splits a row into column ranges. O(n).
size_t prefix_bytes(RowRef row, size_t n);
// Where each of the first n datums of `row` starts, without decoding them: offsets[k] for
// k < returned count (n, or fewer when the row has fewer datums), and offsets[count] = the end
// of the last one. Datum k's encoding is bytes [offsets[k], offsets[k + 1]): since packing is
// canonical, those bytes are what RowPacker::push of the decoded datum appends, so a projection
// onto columns is the concatenation of their slices. REQUIRES: offsets has room for n + 1. O(n).
size_t column_offsets(RowRef row, size_t n, uint32_t* offsets);

}  // namespace freshet
