#pragma once
// Materialize's order of whole rows (its `impl Ord for RowRef`, src/repr/src/row.rs): the
// encoded length first, then the encoded bytes. Materialize sorts a query's result (its
// RowSetFinishing, expr/src/row/collection.rs) by the ORDER BY keys and breaks ties with that
// order, so that rows tied in ORDER BY come out shortest encoding first. Freshet follows it
// under --sql-dialect materialize (server/sequencer/peek.cpp); src/common/README.md "SQL
// dialect".
//
// The encoding is Materialize's push_datum: a tag byte per datum, integers in the fewest
// bytes with a tag per sign and width, strings, bytes and lists with a length of 1, 2, 4 or 8
// bytes, arrays with their dimensions, numerics reduced (no trailing zeros) as decNumber's
// digit count, exponent, sign and base-1000 units. Thread-safety: pure functions.
#include <optional>
#include <span>
#include <string>

#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet {

// Appends Materialize's encoding of d (of type t) to out. False for a type whose encoding is
// not reproduced here (jsonb, time, ranges, lists and records, "char", NaN): the caller then
// keeps its own order.
bool mz_encode_datum(const Datum& d, const Type& t, std::string& out);

// Materialize's order of two rows of the given column types: <0, 0, >0; nullopt when a column's
// type has no encoding here (mz_encode_datum).
std::optional<int> mz_compare_encoded_rows(std::span<const Datum> a, std::span<const Datum> b, std::span<const Type> types);

}  // namespace freshet
