#pragma once
// Interval input as Materialize reads it, for a server started with `--sql-dialect
// materialize` (common/sql_dialect.hpp). PostgreSQL's and Materialize's interval input differ
// in many corners (README "SQL dialect"); Materialize's own sqllogictest files expect its rules.
// This is Materialize's algorithm (src/repr/src/adt/datetime.rs, commit e7ac38b338:
// tokenize_time_str, ParsedDateTime::build_parsed_datetime_interval, compute_interval, and
// src/sql/src/plan/literal.rs plan_interval with Interval::truncate_high_fields /
// truncate_low_fields), written anew in C++:
//  - the text is split into parts at blanks; a part is SQL-standard (`1-2`, `3:4:5.6`) or
//    PostgreSQL-style (`1.5 month`); a bare number takes the unit of the next part, or `DAY`
//    when a time follows, or the qualifier's last field when it ends the text;
//  - each field may be set once ("YEAR field set twice"), SQL-standard groups are bounded
//    (MONTH in [-12, 12], MINUTE in [-59, 59], SECOND in [-60, 60]);
//  - fractions keep 9 digits; a fraction of years becomes whole months (truncated), of months
//    days and microseconds, of a day or time unit microseconds rounded half away from zero;
//  - a qualifier `HIGH TO LOW` drops the fields above HIGH and below LOW (`'12:34:56' MINUTE TO
//    SECOND` is 00:34:56), SECOND(p) rounds to p digits.
// Errors are 22007 `invalid input syntax for type interval: <why>: "<text>"` (Materialize's
// words) and 22015 when rounding to a precision overflows.
//
// Thread-safe, no state. Cost linear in the text.

#include <cstdint>
#include <string_view>

#include "common/datum.hpp"

namespace freshet {

// `typmod` as parse_interval takes it (PostgreSQL's (range << 16) | precision, -1 for none).
Interval parse_interval_materialize(std::string_view text, int32_t typmod);

}  // namespace freshet
