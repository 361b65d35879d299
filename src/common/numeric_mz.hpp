#pragma once
// Materialize's numeric arithmetic, used where the server runs with `--sql-dialect materialize`
// (sql_dialect.hpp) and PostgreSQL's rules would answer differently.
//
// Materialize computes numeric in a decimal context of 39 significant digits (rust-dec over
// decNumber: Context<Decimal<13>>, rounding half up, adjusted exponents in [-39, 38]) and then
// keeps at most 39 digits after the point (mz_repr::adt::numeric::munge_numeric). So where
// PostgreSQL answers exactly (+, -, *, input) or at its own result scale (division, sqrt, exp,
// ln, log, power), Materialize answers with the 39 most significant digits:
//   2.0 / 1.1 = 1.81818181818181818181818181818181818182, exp(1) = 2.718...249776,
//   1e38 + 1e-39 = 100000000000000000000000000000000000000.
// A result whose integer part needs more than 39 digits is 22003 "value out of range:
// overflow"; a nonzero product, quotient, exp or power below 1e-39 is 22003 "value out of
// range: underflow" (decNumber's Subnormal), as Materialize.
//
// The digits come from exact integer arithmetic (GMP): +, -, *, / and sqrt are correctly
// rounded; exp, ln, log10 and non-integral powers are computed with 100 digits after the
// point and then rounded, which gives decNumber's correctly rounded answer (an error of 1e-90
// decides a 39-digit rounding only when the value lies that close to a rounding boundary).
//
// Thread-safe (no shared mutable state; ln 10 is computed once). Cost: microseconds per call;
// only the materialize dialect calls these.
//
// REQUIRES (all): no NaN arguments (callers handle NaN first).

#include <string_view>

#include "common/datum.hpp"

namespace freshet {

Numeric mz_numeric_add(const Numeric& a, const Numeric& b);
Numeric mz_numeric_mul(const Numeric& a, const Numeric& b);
// REQUIRES: b != 0.
Numeric mz_numeric_div(const Numeric& a, const Numeric& b);
// REQUIRES: a >= 0.
Numeric mz_numeric_sqrt(const Numeric& a);
Numeric mz_numeric_exp(const Numeric& a);
// REQUIRES: a > 0.
Numeric mz_numeric_ln(const Numeric& a);
// REQUIRES: a > 0.
Numeric mz_numeric_log10(const Numeric& a);
// log(base, x) as Materialize's log_base_numeric: ln x / ln base, each rounded to 39 digits,
// the quotient snapped to an integer when its first 38 digits are one.
// REQUIRES: base > 0, x > 0. base = 1 is 22012.
Numeric mz_numeric_log(const Numeric& base, const Numeric& x);
// decNumber's power: an integral exponent by exact multiplication, another as
// exp(y * ln x). REQUIRES: not (x = 0 and y < 0); not (x < 0 and y fractional).
Numeric mz_numeric_pow(const Numeric& x, const Numeric& y);
// Numeric input as Materialize reads it: the text rounded to 39 significant digits and a scale
// of at most 39. Returns false when the text is not a plain decimal literal (the caller reports
// its own syntax error); throws 22003 when the value is out of range.
bool mz_numeric_parse_rounded(std::string_view s, Numeric& out);

}  // namespace freshet
