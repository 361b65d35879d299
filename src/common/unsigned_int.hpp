#pragma once
// Materialize's unsigned integers uint2, uint4, uint8 (types.hpp TypeId::kUInt2..kUInt8): how a
// value sits in a Datum, its text input, and the range errors in Materialize's words. The
// operators and casts are in functions_unsigned.cpp.
//
// uint2 and uint4 are int64 Datums (PhysicalKind::kInt). uint8 reaches 2^64 - 1, past int64,
// so it is a Numeric with scale 0 and ext 0 (PhysicalKind::kNumeric): it orders, hashes, packs
// into rows and sums as a numeric does, with no new physical kind. Every uint8 Datum is made
// by uint_datum (never a scale other than 0), so uint_value may read the mantissa directly.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet {

// The largest value of an unsigned type. REQUIRES: is_unsigned_type(t).
inline uint64_t uint_max(TypeId t) {
  return t == TypeId::kUInt2 ? 0xFFFFu : t == TypeId::kUInt4 ? 0xFFFFFFFFu : UINT64_MAX;
}

inline Datum uint_datum(uint64_t v, TypeId t) {
  if (t != TypeId::kUInt8) return Datum::from_int(static_cast<int64_t>(v));
  Numeric n;
  n.mantissa = static_cast<__int128>(v);
  return Datum::from_numeric(n);
}

// REQUIRES: d is a non-NULL Datum of unsigned type t (made by uint_datum).
inline uint64_t uint_value(const Datum& d, TypeId t) {
  if (t != TypeId::kUInt8) return static_cast<uint64_t>(d.as_int());
  return static_cast<uint64_t>(d.as_numeric().mantissa);
}

// 22003 `"<shown>" uint2 out of range` (Materialize's words; shown is the offending value or
// expression, "65535 + 1").
[[noreturn]] void uint_out_of_range(TypeId t, std::string_view shown);

// Text input as Materialize's strconv::parse_uint16/32/64: surrounding white space is
// trimmed, an optional '+', then decimal digits. 22P02 `invalid input syntax for type uint2:
// invalid digit found in string: "-44"` (or "number too large to fit in target type",
// "cannot parse integer from empty string").
uint64_t parse_unsigned(std::string_view text, TypeId t);

// mz_timestamp (TypeId::kMzTimestamp) is stored as a uint8: uint_datum(ms, TypeId::kUInt8),
// read with uint_value(d, TypeId::kUInt8).
//
// Text input as Materialize's strconv::parse_mz_timestamp: a number of milliseconds (as
// uint8 reads it), else a timestamptz literal ('1970-01-01 00:00:01+00' is 1000). 22P02
// `invalid input syntax for type mz_timestamp: ...` when it is neither; 22008 for a time before
// the Unix epoch.
uint64_t parse_mz_timestamp(std::string_view text, Arena& arena);
// A timestamp / timestamptz Datum's microseconds (PostgreSQL's epoch, 2000-01-01) as
// mz_timestamp milliseconds (truncated); 22008 before 1970-01-01 or for infinity.
uint64_t mz_timestamp_from_pg_micros(int64_t micros);

}  // namespace freshet
