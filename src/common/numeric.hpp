#pragma once
// Exact decimal arithmetic on Numeric (datum.hpp): a mantissa of up to 39 significant digits
// (128 bits plus a few in `ext`) and a decimal scale of at most 39 (Materialize's numeric has
// 39 digits; PostgreSQL's is unbounded). A value is exact or an
// error, never silently rounded: input and +, -, * whose exact result does not fit raise
// SqlError 22003 (PostgreSQL would answer them exactly); only operations whose result
// PostgreSQL rounds too (division, sqrt, exp, ..., round(), numeric(p, s)) round, at
// PostgreSQL's scale (division and sqrt: exact at that scale or 22003). Division by zero
// raises 22012. Display keeps the scale, as PostgreSQL does ("1.50"); comparison ignores it
// (1.5 = 1.50).
// Under --sql-dialect materialize (sql_dialect.hpp) these follow Materialize instead: results
// rounded to 39 significant digits (numeric_mz.hpp), output without trailing zeros
// (numeric_for_output); the *_exact functions keep PostgreSQL's exact-or-error rule for
// accumulators in both dialects.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/datum.hpp"

namespace freshet {

// Every 38-digit value is stored; other modules (Avro, pgwire binary, MySQL) keep to 38.
inline constexpr int kNumericMaxPrecision = 38;
// What SQL accepts, as Materialize: numeric(p, s) with p up to 39, a scale up to 39, and any
// value of 39 significant digits (up to 10^39 - 1); beyond that 22003.
inline constexpr int kNumericMaxDigits = 39;

Numeric numeric_from_int(int64_t v);
// Rounds to 15 significant digits first, like PostgreSQL's float8 -> numeric. NaN -> NaN;
// infinities raise 22003.
Numeric numeric_from_double(double v);
// Parses PostgreSQL's numeric input syntax ("12.50", "-1e3", " NaN "). Throws SqlError 22P02.
Numeric numeric_parse(std::string_view s);
// The same for text Freshet computed itself (function results): 22003 "value overflows numeric
// format" rather than numeric_parse's input message. Under the materialize dialect a value with
// more than 39 significant digits is rounded to 39 (Materialize's input), not refused.
Numeric numeric_parse_impl(std::string_view s);
// Exact or 22003 whatever the dialect.
Numeric numeric_parse_exact(std::string_view s);
std::string numeric_to_string(const Numeric& n);
// The value as clients see it (text and binary wire formats, ::text, jsonb): PostgreSQL keeps
// the scale (1.50); under the materialize dialect trailing fractional zeros are dropped (1.5,
// 1.0 -> 1), as Materialize stores every numeric reduced (mz_repr::row packs it after
// Context::reduce) and prints it in standard notation.
Numeric numeric_for_output(const Numeric& n);
// The decimal digits of |mantissa| ("12345" for -123.45), for encoders. REQUIRES: not NaN.
std::string numeric_abs_digits(const Numeric& n);
// -1, 0 or 1 (0 for NaN too).
int numeric_sign(const Numeric& n);
// The same value without trailing fractional zeros (1.500 -> 1.5, 0.00 -> 0).
Numeric numeric_normalize(const Numeric& n);
double numeric_to_double(const Numeric& n);
// Rounds half away from zero; throws 22003 when out of int64 range.
int64_t numeric_to_int(const Numeric& n);

int numeric_compare(const Numeric& a, const Numeric& b);
// Consistent with numeric_compare == 0.
uint64_t numeric_hash(const Numeric& n);

Numeric numeric_add(const Numeric& a, const Numeric& b);
Numeric numeric_sub(const Numeric& a, const Numeric& b);
Numeric numeric_mul(const Numeric& a, const Numeric& b);
// Exact or 22003 whatever the dialect: for accumulators, which must stay invertible (a
// retraction subtracts exactly what the insertion added; a rounded sum would drift).
Numeric numeric_add_exact(const Numeric& a, const Numeric& b);
Numeric numeric_mul_exact(const Numeric& a, const Numeric& b);
// Result scale as PostgreSQL's select_div_scale (at least 16 significant digits).
Numeric numeric_div(const Numeric& a, const Numeric& b);
Numeric numeric_mod(const Numeric& a, const Numeric& b);
// The square root of a >= 0 at exactly `rscale` digits after the point (PostgreSQL's
// numeric_sqrt scale, computed by the caller), rounded half away from zero from the exact
// root; 22003 when that scale or the result does not fit (never a differently rounded value).
Numeric numeric_sqrt(const Numeric& a, int rscale);
Numeric numeric_neg(const Numeric& a);
Numeric numeric_abs(const Numeric& a);
// Rounds (half away from zero) to the given scale; scale may be negative (round(1234, -2)).
Numeric numeric_round(const Numeric& a, int scale);
Numeric numeric_trunc(const Numeric& a, int scale);
// Applies a numeric(p, s) type modifier: rounds to s, 22003 if more than p - s integer digits.
Numeric numeric_apply_typmod(const Numeric& a, int32_t typmod);

}  // namespace freshet
