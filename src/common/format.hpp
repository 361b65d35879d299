#pragma once
// Text input and output of values, exactly as PostgreSQL's type input/output functions do
// (the text format of the wire protocol and of casts to and from text): "t"/"f" for booleans,
// "2024-01-31 12:00:00+00" for timestamptz in UTC, "1 year 2 mons 3 days 04:05:06" for
// intervals (IntervalStyle postgres), float8 with shortest round-trip digits
// (extra_float_digits = 1), bytea as "\x..." hex.

#include <string>
#include <string_view>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet {

// Appends the text form of d (of type t) to out. d must not be NULL.
void format_datum(const Datum& d, Type t, std::string& out);
inline std::string format_datum(const Datum& d, Type t) {
  std::string s;
  format_datum(d, t, s);
  return s;
}

// Parses the text form of a value of type t (PostgreSQL's input function, with typmod
// applied: varchar(n) length check 22001, bpchar padding, numeric(p,s) rounding).
// String bytes of the result live in arena. Throws SqlError 22P02 / 22007 / 22008 / 22003.
Datum parse_datum(std::string_view text, Type t, Arena& arena);

// Date/time helpers shared with functions (PostgreSQL epoch 2000-01-01).
int32_t date_from_ymd(int year, int month, int day);
void date_to_ymd(int32_t days, int& year, int& month, int& day);
inline constexpr int64_t kMicrosPerDay = 86'400'000'000LL;
inline constexpr int64_t kMicrosPerSecond = 1'000'000LL;
// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
inline constexpr int64_t kUnixToPgEpochMicros = 946'684'800'000'000LL;

}  // namespace freshet
