#include "common/sql_dialect.hpp"
#include "common/functions.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "common/format.hpp"
#include "common/type_io_functions.hpp"
#include "common/functions_internal.hpp"
#include "common/numeric.hpp"
#include "common/numeric_mz.hpp"
#include "common/sql_dialect.hpp"

// The registry, arithmetic and comparison operators of every type, math functions, casts
// (pg_cast) and aggregate signatures. String, date/time and other functions live in the
// sibling functions_*.cpp files.

namespace freshet {
namespace fn {

[[noreturn]] void integer_out_of_range(TypeId t) {
  const char* msg = t == TypeId::kInt2 ? "smallint out of range" : t == TypeId::kInt4 ? "integer out of range"
                                                                                        : "bigint out of range";
  throw SqlError(sqlstate::kNumericValueOutOfRange, msg);
}

int64_t check_int_range(__int128 v, TypeId t) {
  switch (t) {
    case TypeId::kInt2:
      if (v < INT16_MIN || v > INT16_MAX) integer_out_of_range(t);
      break;
    case TypeId::kInt4:
      if (v < INT32_MIN || v > INT32_MAX) integer_out_of_range(t);
      break;
    default:
      if (v < INT64_MIN || v > INT64_MAX) integer_out_of_range(TypeId::kInt8);
      break;
  }
  return static_cast<int64_t>(v);
}

int64_t date_to_timestamp(int32_t days) {
  if (days == kDatePosInfinity) return kTimestampPosInfinity;
  if (days == kDateNegInfinity) return kTimestampNegInfinity;
  return static_cast<int64_t>(days) * kMicrosPerDay;
}

int32_t timestamp_to_date(int64_t micros) {
  if (micros == kTimestampPosInfinity) return kDatePosInfinity;
  if (micros == kTimestampNegInfinity) return kDateNegInfinity;
  int64_t q = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay < 0) --q;
  return static_cast<int32_t>(q);
}

namespace {

constexpr Type kBoolT = TypeId::kBool;
constexpr Type kInt2T = TypeId::kInt2;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kInt8T = TypeId::kInt8;
constexpr Type kNumT = TypeId::kNumeric;
constexpr Type kF4T = TypeId::kFloat4;
constexpr Type kF8T = TypeId::kFloat8;

// ---------------------------------------------------------------------------------------------
// Integer arithmetic: every integer is an int64 physically; the result type bounds it.

template <TypeId R>
Datum int_add(Args a, EvalContext&) {
  return Datum::from_int(check_int_range(static_cast<__int128>(a[0].as_int()) + a[1].as_int(), R));
}
template <TypeId R>
Datum int_sub(Args a, EvalContext&) {
  return Datum::from_int(check_int_range(static_cast<__int128>(a[0].as_int()) - a[1].as_int(), R));
}
template <TypeId R>
Datum int_mul(Args a, EvalContext&) {
  return Datum::from_int(check_int_range(static_cast<__int128>(a[0].as_int()) * a[1].as_int(), R));
}
template <TypeId R>
Datum int_div(Args a, EvalContext&) {
  if (a[1].as_int() == 0) throw_error(sqlstate::kDivisionByZero, "division by zero");
  return Datum::from_int(check_int_range(static_cast<__int128>(a[0].as_int()) / a[1].as_int(), R));
}
template <TypeId R>
Datum int_mod(Args a, EvalContext&) {
  if (a[1].as_int() == 0) throw_error(sqlstate::kDivisionByZero, "division by zero");
  if (a[1].as_int() == -1) return Datum::from_int(0);
  return Datum::from_int(a[0].as_int() % a[1].as_int());
}
template <TypeId R>
Datum int_neg(Args a, EvalContext&) {
  return Datum::from_int(check_int_range(-static_cast<__int128>(a[0].as_int()), R));
}
template <TypeId R>
Datum int_abs(Args a, EvalContext&) {
  __int128 v = a[0].as_int();
  return Datum::from_int(check_int_range(v < 0 ? -v : v, R));
}
Datum identity(Args a, EvalContext&) { return a[0]; }

// ---------------------------------------------------------------------------------------------
// Float arithmetic, with PostgreSQL's overflow/underflow checks (float.h).

[[noreturn]] void float_overflow() { throw_error(sqlstate::kNumericValueOutOfRange, "value out of range: overflow"); }
[[noreturn]] void float_underflow() { throw_error(sqlstate::kNumericValueOutOfRange, "value out of range: underflow"); }

template <bool F4>
double fround(double v) {
  return F4 ? static_cast<double>(static_cast<float>(v)) : v;
}

template <bool F4>
Datum f_add(Args a, EvalContext&) {
  double x = a[0].as_float(), y = a[1].as_float();
  double r = fround<F4>(x + y);
  if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) float_overflow();
  return Datum::from_float(r);
}
template <bool F4>
Datum f_sub(Args a, EvalContext&) {
  double x = a[0].as_float(), y = a[1].as_float();
  double r = fround<F4>(x - y);
  if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) float_overflow();
  return Datum::from_float(r);
}
template <bool F4>
Datum f_mul(Args a, EvalContext&) {
  double x = a[0].as_float(), y = a[1].as_float();
  double r = fround<F4>(x * y);
  if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) float_overflow();
  if (r == 0.0 && x != 0.0 && y != 0.0) float_underflow();
  return Datum::from_float(r);
}
template <bool F4>
Datum f_div(Args a, EvalContext&) {
  double x = a[0].as_float(), y = a[1].as_float();
  if (y == 0.0 && !std::isnan(x)) throw_error(sqlstate::kDivisionByZero, "division by zero");
  double r = fround<F4>(x / y);
  if (std::isinf(r) && !std::isinf(x)) float_overflow();
  if (r == 0.0 && x != 0.0 && !std::isinf(y)) float_underflow();
  return Datum::from_float(r);
}
Datum f_neg(Args a, EvalContext&) { return Datum::from_float(-a[0].as_float()); }
Datum f_abs(Args a, EvalContext&) { return Datum::from_float(std::fabs(a[0].as_float())); }

// ---------------------------------------------------------------------------------------------
// Numeric arithmetic

Datum n_add(Args a, EvalContext&) { return Datum::from_numeric(numeric_add(a[0].as_numeric(), a[1].as_numeric())); }
Datum n_sub(Args a, EvalContext&) { return Datum::from_numeric(numeric_sub(a[0].as_numeric(), a[1].as_numeric())); }
Datum n_mul(Args a, EvalContext&) { return Datum::from_numeric(numeric_mul(a[0].as_numeric(), a[1].as_numeric())); }
Datum n_div(Args a, EvalContext&) { return Datum::from_numeric(numeric_div(a[0].as_numeric(), a[1].as_numeric())); }
Datum n_mod(Args a, EvalContext&) { return Datum::from_numeric(numeric_mod(a[0].as_numeric(), a[1].as_numeric())); }
Datum n_neg(Args a, EvalContext&) { return Datum::from_numeric(numeric_neg(a[0].as_numeric())); }
Datum n_abs(Args a, EvalContext&) { return Datum::from_numeric(numeric_abs(a[0].as_numeric())); }

// ---------------------------------------------------------------------------------------------
// Comparisons

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };
template <Cmp op>
bool cmp_result(int c) {
  switch (op) {
    case Cmp::kEq: return c == 0;
    case Cmp::kNe: return c != 0;
    case Cmp::kLt: return c < 0;
    case Cmp::kLe: return c <= 0;
    case Cmp::kGt: return c > 0;
    case Cmp::kGe: return c >= 0;
  }
  return false;
}

using Comparator = int (*)(const Datum&, const Datum&);

int cmp_default(const Datum& a, const Datum& b) { return compare_datums(a, b); }
int cmp_bpchar(const Datum& a, const Datum& b) {
  std::string_view x = a.as_string(), y = b.as_string();
  while (!x.empty() && x.back() == ' ') x.remove_suffix(1);
  while (!y.empty() && y.back() == ' ') y.remove_suffix(1);
  int c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
int cmp_i64(int64_t x, int64_t y) { return x < y ? -1 : (x > y ? 1 : 0); }
int cmp_date_ts(const Datum& a, const Datum& b) {
  return cmp_i64(date_to_timestamp(static_cast<int32_t>(a.as_int())), b.as_int());
}
int cmp_ts_date(const Datum& a, const Datum& b) {
  return cmp_i64(a.as_int(), date_to_timestamp(static_cast<int32_t>(b.as_int())));
}

template <Cmp op, Comparator C>
Datum cmp_fn(Args a, EvalContext&) {
  return Datum::from_bool(cmp_result<op>(C(a[0], a[1])));
}

template <Comparator C>
void add_comparisons(Registry& r, Type l, Type rt) {
  r.add("=", {l, rt}, kBoolT, &cmp_fn<Cmp::kEq, C>);
  r.add("<>", {l, rt}, kBoolT, &cmp_fn<Cmp::kNe, C>);
  r.add("<", {l, rt}, kBoolT, &cmp_fn<Cmp::kLt, C>);
  r.add("<=", {l, rt}, kBoolT, &cmp_fn<Cmp::kLe, C>);
  r.add(">", {l, rt}, kBoolT, &cmp_fn<Cmp::kGt, C>);
  r.add(">=", {l, rt}, kBoolT, &cmp_fn<Cmp::kGe, C>);
}

// ---------------------------------------------------------------------------------------------
// Math functions

// `integral_is_exact`: an integer v is the exact answer (log10 and log snap near-integers).
Numeric to_num_ld(long double v, int rscale, bool integral_is_exact = false) {
  if (!std::isfinite(v)) throw SqlError(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  if (rscale > kNumericMaxPrecision) rscale = kNumericMaxPrecision;
  if (rscale < 0) rscale = 0;
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "%.*Lf", rscale, v);
  if (n < 0 || n >= static_cast<int>(sizeof buf)) throw SqlError(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  // long double holds 18 significant decimal digits (LDBL_DIG): where PostgreSQL's result
  // scale asks for more (an argument of large scale, log(9e38, 1e-39)), the digits past the
  // 18th would be noise, so refuse rather than print a wrong value.
  int significant = 0;
  bool leading = true;
  for (const char* c = buf; *c; ++c) {
    if (*c < '0' || *c > '9') continue;
    if (leading && *c == '0') continue;
    leading = false;
    ++significant;
  }
  if (significant > 18 && !(integral_is_exact && v == std::nearbyint(v))) {
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "this numeric result needs " + std::to_string(significant) +
                       " significant digits; Freshet computes ln, log, exp and non-integral powers of numeric to 18")
        .with_detail("PostgreSQL's result scale grows with the arguments' scale; round the arguments or cast them to double precision.");
  }
  // A rounded result (PostgreSQL rounds these too): give up fractional digits rather than
  // exceed numeric's 38 significant digits (numeric_parse refuses to round).
  int digits = 0;
  for (const char* c = buf; *c; ++c) digits += *c >= '0' && *c <= '9';
  if (digits > kNumericMaxPrecision && rscale > 0) {
    rscale = std::max(0, rscale - (digits - kNumericMaxPrecision));
    std::snprintf(buf, sizeof buf, "%.*Lf", rscale, v);
  }
  return numeric_parse_impl(buf);
}
long double num_ld(const Numeric& n) { return std::strtold(numeric_to_string(n).c_str(), nullptr); }

// PostgreSQL picks the scale of transcendental numeric results to give at least 16
// significant digits: 16 - (decimal weight of the result), at least the input's scale.
int transcendental_scale(long double result, std::initializer_list<int> arg_scales) {
  int rscale = 16;
  if (result != 0 && std::isfinite(result))
    rscale = 16 - static_cast<int>(std::clamp(std::log10(std::fabs(result)), -1000.0L, 1000.0L));
  for (int s : arg_scales) rscale = std::max(rscale, s);
  return std::clamp(rscale, 0, kNumericMaxPrecision);
}

Datum m_round_f8(Args a, EvalContext&) { return Datum::from_float(std::nearbyint(a[0].as_float())); }
Datum m_round_n(Args a, EvalContext&) { return Datum::from_numeric(numeric_round(a[0].as_numeric(), 0)); }
Datum m_round_n2(Args a, EvalContext&) {
  return Datum::from_numeric(numeric_round(a[0].as_numeric(), static_cast<int>(a[1].as_int())));
}
Datum m_trunc_f8(Args a, EvalContext&) { return Datum::from_float(std::trunc(a[0].as_float())); }
Datum m_trunc_n(Args a, EvalContext&) { return Datum::from_numeric(numeric_trunc(a[0].as_numeric(), 0)); }
Datum m_trunc_n2(Args a, EvalContext&) {
  return Datum::from_numeric(numeric_trunc(a[0].as_numeric(), static_cast<int>(a[1].as_int())));
}
Datum m_ceil_f8(Args a, EvalContext&) { return Datum::from_float(std::ceil(a[0].as_float())); }
Datum m_floor_f8(Args a, EvalContext&) { return Datum::from_float(std::floor(a[0].as_float())); }
Datum m_ceil_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  Numeric t = numeric_trunc(n, 0);
  if (numeric_compare(t, n) < 0) t = numeric_add(t, numeric_from_int(1));
  return Datum::from_numeric(t);
}
Datum m_floor_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  Numeric t = numeric_trunc(n, 0);
  if (numeric_compare(t, n) > 0) t = numeric_sub(t, numeric_from_int(1));
  return Datum::from_numeric(t);
}
Datum m_sign_f8(Args a, EvalContext&) {
  double v = a[0].as_float();
  return Datum::from_float(v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0));
}
Datum m_sign_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  if (n.is_nan()) return a[0];
  return Datum::from_numeric(numeric_from_int(numeric_sign(n)));
}
Datum m_sqrt_f8(Args a, EvalContext&) {
  double v = a[0].as_float();
  if (v < 0) throw_error("2201F", "cannot take square root of a negative number");
  return Datum::from_float(std::sqrt(v));
}
Datum m_sqrt_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  if (n.is_nan()) return a[0];
  if (numeric_sign(n) < 0) throw_error("2201F", "cannot take square root of a negative number");
  if (materialize_dialect()) return Datum::from_numeric(mz_numeric_sqrt(n));
  // PostgreSQL's numeric_sqrt scale: from the base-10000 weight of the argument.
  long double v = num_ld(n);
  int dweight = v == 0 ? 0 : static_cast<int>(std::floor(std::log10(v)));
  int weight = dweight >= 0 ? dweight / 4 : -((-dweight + 3) / 4);
  int sweight = (weight + 1) * 4 / 2 - 1;
  int rscale = std::max(std::max(16 - sweight, static_cast<int>(n.scale)), 0);
  // Exact integer square root (not long double's 19 digits): PostgreSQL's digits.
  return Datum::from_numeric(numeric_sqrt(n, rscale));
}
Datum m_cbrt(Args a, EvalContext&) { return Datum::from_float(std::cbrt(a[0].as_float())); }
Datum m_pow_f8(Args a, EvalContext&) {
  double x = a[0].as_float(), y = a[1].as_float();
  if (x == 0 && y < 0) throw_error("2201F", "zero raised to a negative power is undefined");
  if (x < 0 && std::floor(y) != y && std::isfinite(y))
    throw_error("2201F", "a negative number raised to a non-integer power yields a complex result");
  double r = std::pow(x, y);
  if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) float_overflow();
  return Datum::from_float(r);
}
Datum m_pow_n(Args a, EvalContext&) {
  Numeric x = a[0].as_numeric(), y = a[1].as_numeric();
  if (x.is_nan() || y.is_nan()) return Datum::from_numeric(numeric_parse("NaN"));
  if (numeric_sign(x) == 0 && numeric_sign(y) < 0) throw_error("2201F", "zero raised to a negative power is undefined");
  Numeric yi = numeric_trunc(y, 0);
  bool integral = numeric_compare(yi, y) == 0;
  if (numeric_sign(x) < 0 && !integral)
    throw_error("2201F", materialize_dialect() ? "function pow cannot return complex numbers"
                                               : "a negative number raised to a non-integer power yields a complex result");
  if (materialize_dialect()) return Datum::from_numeric(mz_numeric_pow(x, y));
  long double r = std::pow(num_ld(x), num_ld(y));
  // An integral power is computed exactly below, so its scale may reach 39 (pow(9e-39, 1)).
  int rscale = integral ? std::clamp(std::max(16, static_cast<int>(x.scale)), 0, kNumericMaxDigits)
                        : transcendental_scale(r, {x.scale, y.scale});
  if (integral && numeric_sign(y) >= 0 && numeric_compare(y, numeric_from_int(128)) <= 0) {
    // Exact by repeated multiplication while it fits.
    Numeric acc = numeric_from_int(1);
    int64_t e = numeric_to_int(y);
    for (int64_t k = 0; k < e; ++k) acc = numeric_mul(acc, x);
    return Datum::from_numeric(numeric_round(acc, rscale));
  }
  if (std::isinf(r)) throw_error(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  // pow(1, y) is exactly 1 whatever y's scale.
  return Datum::from_numeric(to_num_ld(r, rscale, numeric_compare(x, numeric_from_int(1)) == 0));
}
Datum m_exp_f8(Args a, EvalContext&) {
  double r = std::exp(a[0].as_float());
  if (std::isinf(r) && std::isfinite(a[0].as_float())) float_overflow();
  return Datum::from_float(r);
}
Datum m_exp_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  if (n.is_nan()) return a[0];
  if (materialize_dialect()) return Datum::from_numeric(mz_numeric_exp(n));
  long double r = std::exp(num_ld(n));
  if (std::isinf(r)) throw_error(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
  return Datum::from_numeric(to_num_ld(r, transcendental_scale(r, {n.scale})));
}
void check_log_arg(double v) {
  if (v == 0) throw_error("2201E", "cannot take logarithm of zero");
  if (v < 0) throw_error("2201E", "cannot take logarithm of a negative number");
}
Datum m_ln_f8(Args a, EvalContext&) {
  check_log_arg(a[0].as_float());
  return Datum::from_float(std::log(a[0].as_float()));
}
Datum m_log10_f8(Args a, EvalContext&) {
  check_log_arg(a[0].as_float());
  return Datum::from_float(std::log10(a[0].as_float()));
}
// Materialize's words for a logarithm's domain (numeric arguments).
void check_log_arg_mz(const Numeric& n, const char* fn) {
  int s = numeric_sign(n);
  if (s == 0) throw_error("2201E", std::string("function ") + fn + " is not defined for zero");
  if (s < 0) throw_error("2201E", std::string("function ") + fn + " is not defined for negative numbers");
}
Datum m_ln_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  if (n.is_nan()) return a[0];
  if (materialize_dialect()) {
    check_log_arg_mz(n, "ln");
    return Datum::from_numeric(mz_numeric_ln(n));
  }
  long double v = num_ld(n);
  check_log_arg(static_cast<double>(v));
  long double r = std::log(v);
  return Datum::from_numeric(to_num_ld(r, transcendental_scale(r, {n.scale})));
}
Datum m_log10_n(Args a, EvalContext&) {
  Numeric n = a[0].as_numeric();
  if (n.is_nan()) return a[0];
  if (materialize_dialect()) {
    check_log_arg_mz(n, "log10");
    return Datum::from_numeric(mz_numeric_log10(n));
  }
  long double v = num_ld(n);
  check_log_arg(static_cast<double>(v));
  long double r = std::log10(v);
  long double rr = std::nearbyint(r);
  if (std::fabs(r - rr) < 1e-15L) r = rr;
  return Datum::from_numeric(to_num_ld(r, transcendental_scale(r, {n.scale}), true));
}
Datum m_log_n2(Args a, EvalContext&) {
  Numeric b = a[0].as_numeric(), x = a[1].as_numeric();
  if (b.is_nan() || x.is_nan()) return Datum::from_numeric(numeric_parse("NaN"));
  if (materialize_dialect()) {
    check_log_arg_mz(b, "log");
    check_log_arg_mz(x, "log");
    return Datum::from_numeric(mz_numeric_log(b, x));
  }
  long double bv = num_ld(b), xv = num_ld(x);
  check_log_arg(static_cast<double>(bv));
  check_log_arg(static_cast<double>(xv));
  if (bv == 1) throw_error(sqlstate::kDivisionByZero, "division by zero");
  long double r = std::log(xv) / std::log(bv);
  long double rr = std::nearbyint(r);
  if (std::fabs(r - rr) < 1e-15L) r = rr;
  return Datum::from_numeric(to_num_ld(r, transcendental_scale(r, {b.scale, x.scale}), true));
}
Datum m_div_n(Args a, EvalContext&) {
  Numeric x = a[0].as_numeric(), y = a[1].as_numeric();
  if (!y.is_nan() && numeric_sign(y) == 0) throw_error(sqlstate::kDivisionByZero, "division by zero");
  if (x.is_nan() || y.is_nan()) return Datum::from_numeric(numeric_parse("NaN"));
  // Truncated quotient: (x - x mod y) / y is exact.
  Numeric q = numeric_div(numeric_sub(x, numeric_mod(x, y)), y);
  return Datum::from_numeric(numeric_trunc(q, 0));
}
Datum m_pi(Args, EvalContext&) { return Datum::from_float(M_PI); }
Datum m_random(Args, EvalContext&) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return Datum::from_float(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}
Datum m_degrees(Args a, EvalContext&) { return Datum::from_float(a[0].as_float() * (180.0 / M_PI)); }
Datum m_radians(Args a, EvalContext&) { return Datum::from_float(a[0].as_float() * (M_PI / 180.0)); }

// Boolean comparisons use compare_datums too; bool has no arithmetic.

}  // namespace

void register_numeric_functions(Registry& r) {
  // Integer operators, including PostgreSQL's cross-type ones (int24pl, int48mul, ...): the
  // result is the wider of the two types.
  const Type ints[] = {kInt2T, kInt4T, kInt8T};
  auto wider = [](Type a, Type b) { return a.id >= b.id ? a : b; };  // kInt2 < kInt4 < kInt8
  for (Type a : ints) {
    for (Type b : ints) {
      Type res = wider(a, b);
      switch (res.id) {
        case TypeId::kInt2:
          r.add("+", {a, b}, res, &int_add<TypeId::kInt2>, 176);
          r.add("-", {a, b}, res, &int_sub<TypeId::kInt2>, 180);
          r.add("*", {a, b}, res, &int_mul<TypeId::kInt2>, 152);
          r.add("/", {a, b}, res, &int_div<TypeId::kInt2>, 153);
          break;
        case TypeId::kInt4:
          r.add("+", {a, b}, res, &int_add<TypeId::kInt4>, a == b ? 177 : 0);
          r.add("-", {a, b}, res, &int_sub<TypeId::kInt4>, a == b ? 181 : 0);
          r.add("*", {a, b}, res, &int_mul<TypeId::kInt4>, a == b ? 141 : 0);
          r.add("/", {a, b}, res, &int_div<TypeId::kInt4>, a == b ? 154 : 0);
          break;
        default:
          r.add("+", {a, b}, res, &int_add<TypeId::kInt8>, a == b ? 463 : 0);
          r.add("-", {a, b}, res, &int_sub<TypeId::kInt8>, a == b ? 464 : 0);
          r.add("*", {a, b}, res, &int_mul<TypeId::kInt8>, a == b ? 465 : 0);
          r.add("/", {a, b}, res, &int_div<TypeId::kInt8>, a == b ? 466 : 0);
          break;
      }
      add_comparisons<cmp_default>(r, a, b);
    }
  }
  r.add("%", {kInt2T, kInt2T}, kInt2T, &int_mod<TypeId::kInt2>, 155);
  r.add("%", {kInt4T, kInt4T}, kInt4T, &int_mod<TypeId::kInt4>, 156);
  r.add("%", {kInt8T, kInt8T}, kInt8T, &int_mod<TypeId::kInt8>, 945);
  r.add("mod", {kInt2T, kInt2T}, kInt2T, &int_mod<TypeId::kInt2>, 940);
  r.add("mod", {kInt4T, kInt4T}, kInt4T, &int_mod<TypeId::kInt4>, 941);
  r.add("mod", {kInt8T, kInt8T}, kInt8T, &int_mod<TypeId::kInt8>, 947);
  r.add("-", {kInt2T}, kInt2T, &int_neg<TypeId::kInt2>, 213);
  r.add("-", {kInt4T}, kInt4T, &int_neg<TypeId::kInt4>, 212);
  r.add("-", {kInt8T}, kInt8T, &int_neg<TypeId::kInt8>, 462);
  r.add("+", {kInt2T}, kInt2T, &identity, 1911);
  r.add("+", {kInt4T}, kInt4T, &identity, 1912);
  r.add("+", {kInt8T}, kInt8T, &identity, 1910);
  r.add("abs", {kInt2T}, kInt2T, &int_abs<TypeId::kInt2>, 1398);
  r.add("abs", {kInt4T}, kInt4T, &int_abs<TypeId::kInt4>, 1397);
  r.add("abs", {kInt8T}, kInt8T, &int_abs<TypeId::kInt8>, 1396);

  // Floats: float4 op float4 stays float4; any mix with float8 is float8 (float48pl, ...).
  r.add("+", {kF4T, kF4T}, kF4T, &f_add<true>, 204);
  r.add("-", {kF4T, kF4T}, kF4T, &f_sub<true>, 205);
  r.add("*", {kF4T, kF4T}, kF4T, &f_mul<true>, 207);
  r.add("/", {kF4T, kF4T}, kF4T, &f_div<true>, 203);
  for (auto [a, b] : {std::pair{kF8T, kF8T}, std::pair{kF4T, kF8T}, std::pair{kF8T, kF4T}}) {
    r.add("+", {a, b}, kF8T, &f_add<false>, a == b ? 218 : 0);
    r.add("-", {a, b}, kF8T, &f_sub<false>, a == b ? 219 : 0);
    r.add("*", {a, b}, kF8T, &f_mul<false>, a == b ? 216 : 0);
    r.add("/", {a, b}, kF8T, &f_div<false>, a == b ? 217 : 0);
  }
  for (Type a : {kF4T, kF8T})
    for (Type b : {kF4T, kF8T}) add_comparisons<cmp_default>(r, a, b);
  r.add("-", {kF4T}, kF4T, &f_neg, 206);
  r.add("-", {kF8T}, kF8T, &f_neg, 220);
  r.add("+", {kF4T}, kF4T, &identity, 1913);
  r.add("+", {kF8T}, kF8T, &identity, 1914);
  r.add("abs", {kF4T}, kF4T, &f_abs, 1394);
  r.add("abs", {kF8T}, kF8T, &f_abs, 1395);

  // Numeric.
  r.add("+", {kNumT, kNumT}, kNumT, &n_add, 1724);
  r.add("-", {kNumT, kNumT}, kNumT, &n_sub, 1725);
  r.add("*", {kNumT, kNumT}, kNumT, &n_mul, 1726);
  r.add("/", {kNumT, kNumT}, kNumT, &n_div, 1727);
  r.add("%", {kNumT, kNumT}, kNumT, &n_mod, 1728);
  r.add("mod", {kNumT, kNumT}, kNumT, &n_mod, 1729);
  r.add("-", {kNumT}, kNumT, &n_neg, 1771);
  r.add("+", {kNumT}, kNumT, &identity, 1915);
  r.add("abs", {kNumT}, kNumT, &n_abs, 1705);
  add_comparisons<cmp_default>(r, kNumT, kNumT);

  // Math functions.
  r.add("round", {kF8T}, kF8T, &m_round_f8, 228);
  r.add("round", {kNumT}, kNumT, &m_round_n, 1708);
  r.add("round", {kNumT, kInt4T}, kNumT, &m_round_n2, 1707);
  r.add("trunc", {kF8T}, kF8T, &m_trunc_f8, 229);
  r.add("trunc", {kNumT}, kNumT, &m_trunc_n, 1710);
  r.add("trunc", {kNumT, kInt4T}, kNumT, &m_trunc_n2, 1709);
  for (std::string_view name : {"ceil", "ceiling"}) {
    r.add(name, {kF8T}, kF8T, &m_ceil_f8);
    r.add(name, {kNumT}, kNumT, &m_ceil_n);
  }
  r.add("floor", {kF8T}, kF8T, &m_floor_f8, 2309);
  r.add("floor", {kNumT}, kNumT, &m_floor_n, 1712);
  r.add("sign", {kF8T}, kF8T, &m_sign_f8, 2310);
  r.add("sign", {kNumT}, kNumT, &m_sign_n, 1706);
  r.add("sqrt", {kF8T}, kF8T, &m_sqrt_f8, 230);
  r.add("sqrt", {kNumT}, kNumT, &m_sqrt_n, 1731);
  r.add("cbrt", {kF8T}, kF8T, &m_cbrt, 231);
  for (std::string_view name : {"power", "pow"}) {
    r.add(name, {kF8T, kF8T}, kF8T, &m_pow_f8);
    r.add(name, {kNumT, kNumT}, kNumT, &m_pow_n);
  }
  r.add("^", {kF8T, kF8T}, kF8T, &m_pow_f8, 232);
  r.add("^", {kNumT, kNumT}, kNumT, &m_pow_n, 1738);
  r.add("exp", {kF8T}, kF8T, &m_exp_f8, 233);
  r.add("exp", {kNumT}, kNumT, &m_exp_n, 1732);
  r.add("ln", {kF8T}, kF8T, &m_ln_f8, 234);
  r.add("ln", {kNumT}, kNumT, &m_ln_n, 1734);
  r.add("log", {kF8T}, kF8T, &m_log10_f8, 1194);
  r.add("log", {kNumT}, kNumT, &m_log10_n, 1741);
  r.add("log", {kNumT, kNumT}, kNumT, &m_log_n2, 1736);
  r.add("log10", {kF8T}, kF8T, &m_log10_f8, 1194);
  r.add("log10", {kNumT}, kNumT, &m_log10_n, 1481);
  r.add("div", {kNumT, kNumT}, kNumT, &m_div_n, 1973);
  r.add("pi", {}, kF8T, &m_pi, 1610);
  r.add("random", {}, kF8T, &m_random, 1598).volatility = Volatility::kVolatile;
  r.add("degrees", {kF8T}, kF8T, &m_degrees, 1608);
  r.add("radians", {kF8T}, kF8T, &m_radians, 1609);

  // Comparisons of the remaining types.
  add_comparisons<cmp_default>(r, kBoolT, kBoolT);
  add_comparisons<cmp_default>(r, TypeId::kText, TypeId::kText);
  add_comparisons<cmp_default>(r, TypeId::kName, TypeId::kName);
  add_comparisons<cmp_default>(r, TypeId::kName, TypeId::kText);
  add_comparisons<cmp_default>(r, TypeId::kText, TypeId::kName);
  add_comparisons<cmp_bpchar>(r, TypeId::kBpchar, TypeId::kBpchar);
  add_comparisons<cmp_default>(r, TypeId::kChar, TypeId::kChar);
  add_comparisons<cmp_default>(r, TypeId::kBytea, TypeId::kBytea);
  add_comparisons<cmp_default>(r, TypeId::kDate, TypeId::kDate);
  add_comparisons<cmp_default>(r, TypeId::kTime, TypeId::kTime);
  add_comparisons<cmp_default>(r, TypeId::kTimestamp, TypeId::kTimestamp);
  add_comparisons<cmp_default>(r, TypeId::kTimestampTz, TypeId::kTimestampTz);
  add_comparisons<cmp_default>(r, TypeId::kTimestamp, TypeId::kTimestampTz);
  add_comparisons<cmp_default>(r, TypeId::kTimestampTz, TypeId::kTimestamp);
  add_comparisons<cmp_date_ts>(r, TypeId::kDate, TypeId::kTimestamp);
  add_comparisons<cmp_date_ts>(r, TypeId::kDate, TypeId::kTimestampTz);
  add_comparisons<cmp_ts_date>(r, TypeId::kTimestamp, TypeId::kDate);
  add_comparisons<cmp_ts_date>(r, TypeId::kTimestampTz, TypeId::kDate);
  add_comparisons<cmp_default>(r, TypeId::kInterval, TypeId::kInterval);
  add_comparisons<cmp_default>(r, TypeId::kUuid, TypeId::kUuid);
  add_comparisons<cmp_default>(r, TypeId::kOid, TypeId::kOid);
  add_comparisons<cmp_default>(r, TypeId::kJsonb, TypeId::kJsonb);
}

}  // namespace fn

// -----------------------------------------------------------------------------------------------
// Registry

namespace {

bool is_operator_name(std::string_view name) {
  return !name.empty() && !std::isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_';
}

struct RegistryIndex {
  fn::Registry registry;
  std::unordered_map<std::string_view, std::vector<const FunctionImpl*>> functions;
  std::unordered_map<std::string_view, std::vector<const FunctionImpl*>> unary_ops;
  std::unordered_map<std::string_view, std::vector<const FunctionImpl*>> binary_ops;

  RegistryIndex() {
    fn::register_numeric_functions(registry);
    fn::register_string_functions(registry);
    fn::register_datetime_functions(registry);
    fn::register_misc_functions(registry);
    fn::register_catalog_functions(registry);
    fn::register_json_build_functions(registry);
    fn::register_bitwise_functions(registry);
    fn::register_to_char_functions(registry);
    fn::register_timezone_functions(registry);
    fn::register_to_jsonb_functions(registry);
    fn::register_bytea_functions(registry);
    fn::register_range_functions(registry);
    fn::register_unsigned_functions(registry);
    for (const FunctionImpl& f : registry.impls) {
      if (is_operator_name(f.name)) {
        (f.arg_types.size() == 1 ? unary_ops : binary_ops)[f.name].push_back(&f);
      } else {
        functions[f.name].push_back(&f);
      }
    }
  }
};

const RegistryIndex& registry_index() {
  static const RegistryIndex index;
  return index;
}

std::string_view strip_catalog(std::string_view name) {
  if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
  return name;
}

}  // namespace

std::span<const FunctionImpl* const> lookup_functions(std::string_view name) {
  const auto& idx = registry_index();
  auto it = idx.functions.find(strip_catalog(name));
  if (it == idx.functions.end()) return {};
  return it->second;
}

std::span<const FunctionImpl* const> lookup_operators(std::string_view symbol, bool unary) {
  const auto& idx = registry_index();
  const auto& m = unary ? idx.unary_ops : idx.binary_ops;
  auto it = m.find(strip_catalog(symbol));
  if (it == m.end()) return {};
  return it->second;
}

// -----------------------------------------------------------------------------------------------
// Casts (pg_cast)

namespace {

using C = CastContext;

bool is_numeric_family(TypeId t) {
  return t == TypeId::kInt2 || t == TypeId::kInt4 || t == TypeId::kInt8 || t == TypeId::kNumeric ||
         t == TypeId::kFloat4 || t == TypeId::kFloat8;
}
// Rank for numeric widening: int2 < int4 < int8 < numeric < float4 < float8.
int numeric_rank(TypeId t) {
  switch (t) {
    case TypeId::kInt2: return 0;
    case TypeId::kInt4: return 1;
    case TypeId::kInt8: return 2;
    case TypeId::kNumeric: return 3;
    case TypeId::kFloat4: return 4;
    case TypeId::kFloat8: return 5;
    default: return -1;
  }
}

// The pg_cast context of a cast, or nullopt when pg_cast has none (I/O conversion casts are
// handled by the caller).
std::optional<CastContext> pg_cast_context(TypeId from, TypeId to) {
  if (from == TypeId::kMzTimestamp || to == TypeId::kMzTimestamp) return fn::mz_timestamp_cast_context(from, to);
  if (is_unsigned_type(from) || is_unsigned_type(to)) return fn::unsigned_cast_context(from, to);
  if (is_numeric_family(from) && is_numeric_family(to)) {
    // Widening is implicit; narrowing is assignment. numeric -> float is implicit, float ->
    // numeric assignment.
    int rf = numeric_rank(from), rt = numeric_rank(to);
    return rf < rt ? C::kImplicit : C::kAssignment;
  }
  auto is = [&](TypeId f, TypeId t) { return from == f && to == t; };
  // oid and the reg* types.
  if ((is_integer_type(from) && from != TypeId::kInt2 && (to == TypeId::kOid || is_reg_type(to))) ||
      (from == TypeId::kInt2 && (to == TypeId::kOid || is_reg_type(to))))
    return C::kImplicit;
  if ((from == TypeId::kOid || is_reg_type(from)) && (to == TypeId::kInt4 || to == TypeId::kInt8))
    return C::kAssignment;
  if ((from == TypeId::kOid && is_reg_type(to)) || (is_reg_type(from) && to == TypeId::kOid)) return C::kImplicit;
  if (is(TypeId::kBool, TypeId::kInt4) || is(TypeId::kInt4, TypeId::kBool)) return C::kExplicit;
  // Materialize also casts bigint and boolean both ways (its typeconv.rs; boolean.slt:223).
  if (materialize_dialect() && (is(TypeId::kBool, TypeId::kInt8) || is(TypeId::kInt8, TypeId::kBool)))
    return C::kExplicit;
  if (is(TypeId::kInt4, TypeId::kChar) || is(TypeId::kChar, TypeId::kInt4)) return C::kExplicit;
  // The string family.
  if (is(TypeId::kText, TypeId::kVarchar) || is(TypeId::kVarchar, TypeId::kText) ||
      is(TypeId::kBpchar, TypeId::kText) || is(TypeId::kBpchar, TypeId::kVarchar) ||
      is(TypeId::kVarchar, TypeId::kBpchar) || is(TypeId::kText, TypeId::kBpchar) ||
      is(TypeId::kName, TypeId::kText) || is(TypeId::kText, TypeId::kName) || is(TypeId::kVarchar, TypeId::kName) ||
      is(TypeId::kBpchar, TypeId::kName) || is(TypeId::kChar, TypeId::kText))
    return C::kImplicit;
  if (is(TypeId::kName, TypeId::kVarchar) || is(TypeId::kName, TypeId::kBpchar) || is(TypeId::kText, TypeId::kChar) ||
      is(TypeId::kChar, TypeId::kVarchar) || is(TypeId::kChar, TypeId::kBpchar) || is(TypeId::kVarchar, TypeId::kChar) ||
      is(TypeId::kBpchar, TypeId::kChar))
    return C::kAssignment;
  // Dates and times.
  if (is(TypeId::kDate, TypeId::kTimestamp) || is(TypeId::kDate, TypeId::kTimestampTz) ||
      is(TypeId::kTimestamp, TypeId::kTimestampTz) || is(TypeId::kTime, TypeId::kInterval))
    return C::kImplicit;
  if (is(TypeId::kTimestamp, TypeId::kDate) || is(TypeId::kTimestampTz, TypeId::kDate) ||
      is(TypeId::kTimestampTz, TypeId::kTimestamp) || is(TypeId::kTimestamp, TypeId::kTime) ||
      is(TypeId::kTimestampTz, TypeId::kTime) || is(TypeId::kInterval, TypeId::kTime))
    return C::kAssignment;
  // jsonb to scalars.
  if (from == TypeId::kJsonb && (is_numeric_family(to) || to == TypeId::kBool)) return C::kExplicit;
  // Arrays: as their elements cast (PostgreSQL's array coercion), the string family by I/O.
  auto fe = array_element_type(from), te = array_element_type(to);
  if (fe && te) {
    if (*fe == *te) return C::kImplicit;
    if (auto c = pg_cast_context(*fe, *te)) return c;
    if (is_string_type(*te)) return C::kAssignment;
    if (is_string_type(*fe)) return C::kExplicit;
  }
  return std::nullopt;
}

// The name of a library function by its pg_proc oid (regproc output).
std::optional<std::string_view> function_by_oid(uint32_t oid) {
  for (const FunctionImpl& f : registry_index().registry.impls)
    if (f.oid == oid && !is_operator_name(f.name)) return f.name;
  return std::nullopt;
}

// The text form of a reg* value: the object's name (through the catalog for relations,
// namespaces and roles), "-" for oid 0, the bare oid when nothing has that oid.
std::string reg_to_text(int64_t oid, TypeId t, EvalContext& ctx) {
  if (oid == 0) return "-";
  uint32_t o = static_cast<uint32_t>(oid);
  std::optional<std::string> name;
  switch (t) {
    case TypeId::kRegclass:
      if (ctx.catalog) name = ctx.catalog->relation_name(o);
      break;
    case TypeId::kRegnamespace:
      if (ctx.catalog) name = ctx.catalog->namespace_name(o);
      break;
    case TypeId::kRegrole:
      if (ctx.catalog) name = ctx.catalog->role_name(o);
      break;
    case TypeId::kRegtype:
      if (auto other = other_type_name(o)) name = std::string(*other);  // json is read as jsonb, but named json
      else if (auto id = type_from_oid(o)) name = type_name(Type(*id));
      break;
    case TypeId::kRegproc:
      if (auto n = io_function_name(o)) {
        name = std::string(*n);
      } else if (auto f = function_by_oid(o)) {
        name = std::string(*f);
      }
      break;
    default:
      break;
  }
  return name ? *name : std::to_string(o);
}

// A reg* value from its text form: an oid as digits, or a name looked up as PostgreSQL's
// regclassin & co. do (42P01 / 42704 / 3F000 when nothing has that name).
Datum reg_from_text(std::string_view text, TypeId t, EvalContext& ctx) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+')) {
    if (s == "-") return Datum::from_int(0);
    return parse_datum(s, Type(t), *ctx.arena);
  }
  std::optional<uint32_t> oid;
  std::string name(s);
  switch (t) {
    case TypeId::kRegclass:
      if (ctx.catalog) oid = ctx.catalog->relation_oid(s);
      if (!oid) throw SqlError(sqlstate::kUndefinedTable, "relation \"" + name + "\" does not exist");
      break;
    case TypeId::kRegnamespace:
      if (ctx.catalog) oid = ctx.catalog->namespace_oid(s);
      if (!oid) throw SqlError("3F000", "schema \"" + name + "\" does not exist");
      break;
    case TypeId::kRegrole:
      if (ctx.catalog) oid = ctx.catalog->role_oid(s);
      if (!oid) throw SqlError(sqlstate::kUndefinedObject, "role \"" + name + "\" does not exist");
      break;
    case TypeId::kRegtype: {
      std::string lower;
      for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      auto id = type_from_name(lower);
      if (auto other = other_type_oid(lower); !id && other) return Datum::from_int(*other);
      if (!id) throw SqlError(sqlstate::kUndefinedObject, "type \"" + name + "\" does not exist");
      oid = type_oid(*id);
      break;
    }
    default: {
      // regproc: "pg_catalog.f" or "f"; the type I/O functions pgJDBC names (array_in) are
      // catalog facts rather than callable functions.
      std::string_view fname = s.starts_with("pg_catalog.") ? s.substr(11) : s;
      if (auto io = io_function_oid(fname)) return Datum::from_int(*io);
      auto fs = lookup_functions(fname);
      if (fs.empty()) throw SqlError(sqlstate::kUndefinedFunction, "function \"" + name + "\" does not exist");
      if (fs.size() > 1) throw SqlError(sqlstate::kAmbiguousFunction, "more than one function named \"" + name + "\"");
      oid = fs[0]->oid;
      break;
    }
  }
  return Datum::from_int(*oid);
}

bool allowed(CastContext have, CastContext want) { return static_cast<int>(have) <= static_cast<int>(want); }

[[noreturn]] void out_of_range_for(TypeId t) { fn::integer_out_of_range(t); }

int64_t float_to_int(double v, TypeId t) {
  double r = std::nearbyint(v);  // PostgreSQL's rint: half to even
  bool ok;
  switch (t) {
    case TypeId::kInt2: ok = !std::isnan(r) && r >= -32768.0 && r < 32768.0; break;
    case TypeId::kInt4: ok = !std::isnan(r) && r >= -2147483648.0 && r < 2147483648.0; break;
    default: ok = !std::isnan(r) && r >= -9223372036854775808.0 && r < 9223372036854775808.0; break;
  }
  if (!ok) out_of_range_for(t);
  return static_cast<int64_t>(r);
}

std::string_view apply_string_typmod(std::string_view s, Type to, bool explicit_cast, Arena& arena) {
  if (to.id == TypeId::kChar) return s.substr(0, s.empty() ? 0 : 1);
  if (to.id == TypeId::kName) return s.substr(0, std::min<size_t>(s.size(), 63));
  if ((to.id != TypeId::kVarchar && to.id != TypeId::kBpchar) || to.typmod < 0) return s;
  if (explicit_cast) {
    // Explicit casts truncate silently.
    size_t n = 0, i = 0;
    for (; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        if (n == static_cast<size_t>(to.typmod)) break;
        ++n;
      }
    }
    s = s.substr(0, i);
  }
  // parse_datum pads bpchar and raises 22001 on non-space overflow.
  return parse_datum(s, to, arena).as_string();
}

}  // namespace

bool cast_exists(TypeId from, TypeId to, CastContext ctx) {
  if (from == to) return true;
  if (from == TypeId::kUnknown) return true;
  if (to == TypeId::kUnknown || to == TypeId::kRecord) return false;
  // A record to the string types (its text, record_out), as any type in assignment context.
  if (from == TypeId::kRecord) return is_string_type(to) && to != TypeId::kChar && allowed(C::kAssignment, ctx);
  if (auto c = pg_cast_context(from, to)) return allowed(*c, ctx);
  // I/O conversion casts: anything to the string types in assignment context, the string types
  // to anything explicitly.
  if (to == TypeId::kText || to == TypeId::kVarchar || to == TypeId::kBpchar || to == TypeId::kName)
    return allowed(C::kAssignment, ctx);
  if (is_string_type(from)) return allowed(C::kExplicit, ctx);
  // Materialize: a one-dimensional array to a list, explicitly ('{1,2}'::int[]::int list).
  if (is_array_type(from) && to == TypeId::kList) return allowed(C::kExplicit, ctx);
  return false;
}

Datum cast_datum(const Datum& v, Type from, Type to, EvalContext& ctx, bool explicit_cast) {
  if (v.is_null()) return v;
  Arena& arena = *ctx.arena;
  TypeId f = from.id, t = to.id;
  // The per-row cast of arithmetic over an integer and a numeric column (`qty * price` is
  // `qty::numeric * price`) first: the general path below tests the string, array and list
  // families before it gets here. Same result as the numeric family's case below.
  if (t == TypeId::kNumeric && to.typmod < 0) {
    if (is_integer_type(f)) return Datum::from_numeric(numeric_from_int(v.as_int()));
    if (f == TypeId::kNumeric) return v;
  }
  // Into the string family.
  if (is_string_type(t)) {
    std::string_view s;
    std::string buf;
    if (is_reg_type(f)) {
      buf = v.kind() == PhysicalKind::kString ? std::string(v.as_string()) : reg_to_text(v.as_int(), f, ctx);
      s = buf;
    } else if (is_string_type(f) || f == TypeId::kUnknown) {
      s = v.as_string();
      if (f == TypeId::kBpchar && t != TypeId::kBpchar) {
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);  // rtrim on bpchar -> text
      }
    } else if (f == TypeId::kBool) {
      s = v.as_bool() ? "true" : "false";
    } else if (f == TypeId::kChar) {
      s = v.as_string();
    } else {
      format_datum(v, from, buf);
      s = buf;
    }
    if (t == TypeId::kChar && f == TypeId::kInt4) {
      char c = static_cast<char>(v.as_int());
      return Datum::from_string(arena.copy(c == 0 ? std::string_view() : std::string_view(&c, 1)));
    }
    s = apply_string_typmod(s, to, explicit_cast, arena);
    if (!buf.empty() || f == TypeId::kBool) s = arena.copy(s);
    return Datum::from_string(s);
  }
  if (f == TypeId::kChar && t == TypeId::kInt4) {
    std::string_view s = v.as_string();
    return Datum::from_int(s.empty() ? 0 : static_cast<signed char>(s[0]));
  }
  // Out of the string family (I/O conversion).
  if ((is_string_type(f) || f == TypeId::kUnknown) && is_reg_type(t)) return reg_from_text(v.as_string(), t, ctx);
  if (is_string_type(f) || f == TypeId::kUnknown) return parse_datum(v.as_string(), to, arena);
  // List to list: element by element (the element types' casts, numeric(p, s) rounding).
  if (f == TypeId::kList && t == TypeId::kList) {
    if (from == to) return v;
    Type fe = list_element_type(from), te = list_element_type(to);
    std::vector<Datum> elems = list_elements(v.as_string(), from, arena);
    for (Datum& d : elems) d = cast_datum(d, fe, te, ctx, explicit_cast);
    return Datum::from_string(arena.copy(list_literal(elems, to)));
  }
  // Array to list (Materialize's CastArrayToListOneDim): element by element.
  if (auto fe = array_element_type(f); fe && t == TypeId::kList) {
    Type te = list_element_type(to);
    if (te.id != *fe && !cast_exists(*fe, te.id, CastContext::kExplicit))
      throw SqlError(sqlstate::kCannotCoerce, "cannot cast type " + type_name(from) + " to " + type_name(to));
    std::vector<Datum> elems = array_elements(v.as_string(), f, arena);
    for (Datum& d : elems) d = cast_datum(d, Type(*fe), te, ctx, explicit_cast);
    return Datum::from_string(arena.copy(list_literal(elems, to)));
  }
  // Array to array: element by element.
  if (auto fe = array_element_type(f), te = array_element_type(t); fe && te) {
    if (*fe == *te) return v;
    std::vector<Datum> elems = array_elements(v.as_string(), f, arena);
    for (Datum& d : elems) d = cast_datum(d, Type(*fe), Type(*te), ctx, explicit_cast);
    return Datum::from_string(arena.copy(array_literal(elems, *te)));
  }

  if (f == t) {
    if (t == TypeId::kNumeric) return Datum::from_numeric(numeric_apply_typmod(v.as_numeric(), to.typmod));
    if ((t == TypeId::kTimestamp || t == TypeId::kTimestampTz || t == TypeId::kTime) && to.typmod >= 0 &&
        to.typmod < 6) {
      std::string s = format_datum(v, from);
      return parse_datum(s, to, arena);
    }
    if (t == TypeId::kInterval && to.typmod >= 0)
      return Datum::from_interval(adjust_interval_for_typmod(v.as_interval(), to.typmod));
    return v;
  }
  // Materialize's mz_timestamp and unsigned integers (functions_unsigned.cpp).
  if (f == TypeId::kMzTimestamp || t == TypeId::kMzTimestamp)
    if (auto d = fn::mz_timestamp_cast(v, from, to)) return *d;
  if (is_unsigned_type(f) || is_unsigned_type(t))
    if (auto d = fn::unsigned_cast(v, from, to)) return *d;
  // Numeric family.
  if (is_numeric_family(f) && is_numeric_family(t)) {
    switch (t) {
      case TypeId::kInt2:
      case TypeId::kInt4:
      case TypeId::kInt8:
        if (is_integer_type(f)) return Datum::from_int(fn::check_int_range(v.as_int(), t));
        if (f == TypeId::kNumeric) {
          Numeric n = v.as_numeric();
          if (n.is_nan())
            throw SqlError(sqlstate::kFeatureNotSupported,
                           std::string("cannot convert NaN to ") + (t == TypeId::kInt2 ? "smallint" : t == TypeId::kInt4 ? "integer" : "bigint"));
          int64_t i;
          try {
            i = numeric_to_int(n);
            if (materialize_dialect()) i = fn::check_int_range(i, t);
          } catch (const SqlError&) {
            // Materialize quotes the rounded value: "2147483648" integer out of range.
            if (materialize_dialect())
              throw SqlError(sqlstate::kNumericValueOutOfRange,
                             "\"" + numeric_to_string(numeric_round(n, 0)) + "\" " +
                                 (t == TypeId::kInt2 ? "smallint" : t == TypeId::kInt4 ? "integer" : "bigint") +
                                 " out of range");
            out_of_range_for(t);
          }
          return Datum::from_int(fn::check_int_range(i, t));
        }
        return Datum::from_int(float_to_int(v.as_float(), t));
      case TypeId::kNumeric: {
        Numeric n;
        if (is_integer_type(f)) {
          n = numeric_from_int(v.as_int());
        } else if (f == TypeId::kFloat4) {
          double d = v.as_float();
          if (std::isnan(d)) {
            n = numeric_parse("NaN");
          } else {
            if (std::isinf(d))
              throw SqlError(sqlstate::kFeatureNotSupported,
                             materialize_dialect() ? "function casting real to numeric is only defined for finite arguments"
                                                   : "cannot convert infinity to numeric");
            char buf[64];
            if (materialize_dialect()) {  // shortest float4 digits (rust-dec's From<f32>)
              auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(d));
              *r.ptr = '\0';
            } else {
              std::snprintf(buf, sizeof buf, "%.6g", d);
            }
            n = numeric_parse(buf);
          }
        } else {
          n = numeric_from_double(v.as_float());
        }
        return Datum::from_numeric(numeric_apply_typmod(n, to.typmod));
      }
      case TypeId::kFloat4: {
        double d = is_integer_type(f) ? static_cast<double>(v.as_int())
                   : f == TypeId::kNumeric ? numeric_to_double(v.as_numeric())
                                           : v.as_float();
        float r = static_cast<float>(d);
        if (std::isinf(r) && !std::isinf(d)) throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow");
        if (r == 0 && d != 0) throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: underflow");
        return Datum::from_float(r);
      }
      case TypeId::kFloat8:
        if (is_integer_type(f)) return Datum::from_float(static_cast<double>(v.as_int()));
        if (f == TypeId::kNumeric) return Datum::from_float(numeric_to_double(v.as_numeric()));
        return Datum::from_float(v.as_float());
      default:
        break;
    }
  }
  // oid family.
  if (t == TypeId::kOid || is_reg_type(t)) {
    int64_t i = v.as_int();
    if (f == TypeId::kInt8 && (i < 0 || i > UINT32_MAX))
      throw SqlError(sqlstate::kNumericValueOutOfRange, "OID out of range");
    return Datum::from_int(i < 0 ? i + (int64_t{1} << 32) : i);
  }
  if ((f == TypeId::kOid || is_reg_type(f)) && is_integer_type(t)) {
    int64_t i = v.as_int();
    if (t == TypeId::kInt4) i = static_cast<int32_t>(static_cast<uint32_t>(i));
    return Datum::from_int(i);
  }
  if (f == TypeId::kBool && t == TypeId::kInt4) return Datum::from_int(v.as_bool() ? 1 : 0);
  if ((f == TypeId::kInt4 || f == TypeId::kInt8) && t == TypeId::kBool) return Datum::from_bool(v.as_int() != 0);
  if (f == TypeId::kBool && t == TypeId::kInt8) return Datum::from_int(v.as_bool() ? 1 : 0);
  // Dates and times.
  if (f == TypeId::kDate && (t == TypeId::kTimestamp || t == TypeId::kTimestampTz))
    return Datum::from_timestamp(fn::date_to_timestamp(static_cast<int32_t>(v.as_int())));
  if ((f == TypeId::kTimestamp || f == TypeId::kTimestampTz) && t == TypeId::kDate)
    return Datum::from_date(fn::timestamp_to_date(v.as_int()));
  if ((f == TypeId::kTimestamp || f == TypeId::kTimestampTz) && (t == TypeId::kTimestamp || t == TypeId::kTimestampTz)) {
    // The session time zone is UTC. timestamp(p) / timestamptz(p) round the fraction half away
    // from zero (AdjustTimestampForTypmod), also across the two types.
    int64_t us = v.as_int();
    if (to.typmod >= 0 && to.typmod < 6 && us != kTimestampPosInfinity && us != kTimestampNegInfinity) {
      static constexpr int64_t kScale[] = {1'000'000, 100'000, 10'000, 1'000, 100, 10};
      int64_t unit = kScale[to.typmod];
      us = us >= 0 ? (us + unit / 2) / unit * unit : -((-us + unit / 2) / unit * unit);
    }
    return Datum::from_timestamp(us);
  }
  if ((f == TypeId::kTimestamp || f == TypeId::kTimestampTz) && t == TypeId::kTime) {
    int64_t us = v.as_int();
    if (us == kTimestampPosInfinity || us == kTimestampNegInfinity)
      throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
    int64_t day = fn::timestamp_to_date(us);
    return Datum::from_time(us - day * kMicrosPerDay);
  }
  if (f == TypeId::kTime && t == TypeId::kInterval) return Datum::from_interval(Interval{0, 0, v.as_int()});
  if (f == TypeId::kInterval && t == TypeId::kTime) {
    int64_t us = v.as_interval().micros % kMicrosPerDay;
    if (us < 0) us += kMicrosPerDay;
    return Datum::from_time(us);
  }
  // jsonb to scalars.
  if (f == TypeId::kJsonb) {
    JsonValue j = json_parse(v.as_string());
    auto kind_name = [&]() -> std::string {
      switch (j.kind) {
        case JsonValue::Kind::kNull: return "null";
        case JsonValue::Kind::kBool: return "boolean";
        case JsonValue::Kind::kNumber: return "numeric";
        case JsonValue::Kind::kString: return "string";
        case JsonValue::Kind::kArray: return "array";
        case JsonValue::Kind::kObject: return "object";
      }
      return "";
    };
    if (t == TypeId::kBool) {
      if (j.kind != JsonValue::Kind::kBool)
        throw SqlError(sqlstate::kInvalidParameterValue, "cannot cast jsonb " + kind_name() + " to type boolean");
      return Datum::from_bool(j.b);
    }
    if (j.kind != JsonValue::Kind::kNumber)
      throw SqlError(sqlstate::kInvalidParameterValue,
                     "cannot cast jsonb " + kind_name() + " to type " + type_name(Type(t)));
    Datum n = Datum::from_numeric(numeric_parse(j.str));
    return cast_datum(n, TypeId::kNumeric, to, ctx, explicit_cast);
  }
  throw SqlError(sqlstate::kCannotCoerce, "cannot cast type " + type_name(from) + " to " + type_name(to));
}

// -----------------------------------------------------------------------------------------------
// Aggregates

namespace {
constexpr std::string_view kAggregateNames[] = {"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every",
                                                "string_agg", "array_agg", "list_agg", "jsonb_agg", "jsonb_object_agg",
                                                "variance", "var_samp", "var_pop", "stddev", "stddev_samp",
                                                "stddev_pop"};

std::string signature_text(std::string_view name, std::span<const Type> args) {
  std::string s(name);
  s += "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) s += ", ";
    s += type_name(without_typmod(args[i]));
  }
  s += ")";
  return s;
}

[[noreturn]] void no_aggregate(std::string_view name, std::span<const Type> args) {
  throw SqlError(sqlstate::kUndefinedFunction, "function " + signature_text(name, args) + " does not exist")
      .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.");
}

bool is_min_max_type(TypeId t) {
  switch (t) {
    case TypeId::kInt2: case TypeId::kInt4: case TypeId::kInt8: case TypeId::kNumeric: case TypeId::kFloat4:
    case TypeId::kFloat8: case TypeId::kText: case TypeId::kBpchar: case TypeId::kDate: case TypeId::kTime:
    case TypeId::kTimestamp: case TypeId::kTimestampTz: case TypeId::kInterval: case TypeId::kOid:
    case TypeId::kBytea: case TypeId::kUuid: case TypeId::kTextArray:
    case TypeId::kUInt2: case TypeId::kUInt4: case TypeId::kUInt8: case TypeId::kMzTimestamp:
      return true;
    default:
      return false;
  }
}
}  // namespace

bool is_aggregate_name(std::string_view name) {
  name = strip_catalog(name);
  for (auto n : kAggregateNames)
    if (n == name) return true;
  return false;
}

bool resolve_aggregate(std::string_view name, std::span<const Type> arg_types, AggregateSignature& out) {
  name = strip_catalog(name);
  if (!is_aggregate_name(name)) return false;
  out.arg_types.assign(arg_types.begin(), arg_types.end());
  auto one_arg = [&]() {
    if (arg_types.size() != 1) no_aggregate(name, arg_types);
    return arg_types[0].id;
  };
  if (name == "count") {
    if (arg_types.empty()) {
      out.kind = AggKind::kCountStar;
      out.result_type = TypeId::kInt8;
      return true;
    }
    one_arg();
    out.kind = AggKind::kCount;
    out.result_type = TypeId::kInt8;
    return true;
  }
  if (name == "sum" || name == "avg") {
    TypeId t = one_arg();
    bool sum = name == "sum";
    out.kind = sum ? AggKind::kSum : AggKind::kAvg;
    switch (t) {
      case TypeId::kInt2:
      case TypeId::kInt4:
        out.result_type = sum ? TypeId::kInt8 : TypeId::kNumeric;
        break;
      case TypeId::kInt8:
      case TypeId::kNumeric:
        out.result_type = TypeId::kNumeric;
        break;
      case TypeId::kFloat4:
        out.result_type = sum ? TypeId::kFloat4 : TypeId::kFloat8;
        break;
      case TypeId::kFloat8:
        out.result_type = TypeId::kFloat8;
        break;
      case TypeId::kInterval:
        out.result_type = TypeId::kInterval;
        break;
      case TypeId::kOid:
        out.arg_types[0] = TypeId::kInt8;
        out.result_type = sum ? TypeId::kNumeric : TypeId::kNumeric;
        break;
      // Materialize: sum(uint2), sum(uint4) -> uint8 (summed as int8, dataflow/operators.cpp
      // checks the uint8 range), sum(uint8) -> numeric, avg -> numeric.
      case TypeId::kUInt2:
      case TypeId::kUInt4:
        out.arg_types[0] = TypeId::kInt8;
        out.result_type = sum ? TypeId::kUInt8 : TypeId::kNumeric;
        break;
      case TypeId::kUInt8:  // avg at Materialize's 38 digits (dataflow/operators.cpp)
        out.arg_types[0] = sum ? TypeId::kNumeric : TypeId::kUInt8;
        out.result_type = TypeId::kNumeric;
        break;
      default:
        no_aggregate(name, arg_types);
    }
    out.arg_types[0] = Type(out.arg_types[0].id);
    return true;
  }
  if (name == "variance" || name == "var_samp" || name == "var_pop" || name == "stddev" || name == "stddev_samp" ||
      name == "stddev_pop") {
    TypeId t = one_arg();
    bool pop = name.ends_with("_pop");
    if (name.starts_with("var")) {
      out.kind = pop ? AggKind::kVarPop : AggKind::kVarSamp;
    } else {
      out.kind = pop ? AggKind::kStddevPop : AggKind::kStddevSamp;
    }
    switch (t) {
      case TypeId::kInt2:
      case TypeId::kInt4:
      case TypeId::kInt8:
      case TypeId::kNumeric:
        out.result_type = TypeId::kNumeric;
        break;
      case TypeId::kFloat4:
      case TypeId::kFloat8:
        out.result_type = TypeId::kFloat8;
        break;
      case TypeId::kUInt2:  // Materialize: numeric, at its 39 digits (dataflow/operators.cpp)
      case TypeId::kUInt4:
      case TypeId::kUInt8:
        out.result_type = TypeId::kNumeric;
        break;
      default:
        no_aggregate(name, arg_types);
    }
    out.arg_types[0] = Type(t);
    return true;
  }
  if (name == "min" || name == "max") {
    TypeId t = one_arg();
    out.kind = name == "min" ? AggKind::kMin : AggKind::kMax;
    if (t == TypeId::kVarchar || t == TypeId::kName || t == TypeId::kChar || t == TypeId::kUnknown) t = TypeId::kText;
    if (is_reg_type(t)) t = TypeId::kOid;
    if (!is_min_max_type(t)) no_aggregate(name, arg_types);
    out.arg_types[0] = Type(t);
    out.result_type = Type(t);
    return true;
  }
  if (name == "bool_and" || name == "bool_or" || name == "every") {
    TypeId t = one_arg();
    if (t != TypeId::kBool && t != TypeId::kUnknown) no_aggregate(name, arg_types);
    out.kind = name == "bool_or" ? AggKind::kBoolOr : AggKind::kBoolAnd;
    out.arg_types[0] = TypeId::kBool;
    out.result_type = TypeId::kBool;
    return true;
  }
  if (name == "array_agg") {
    TypeId t = one_arg();
    if (t == TypeId::kVarchar || t == TypeId::kBpchar || t == TypeId::kUnknown) t = TypeId::kText;
    if (is_reg_type(t)) t = TypeId::kOid;
    auto at = array_type_of(t);
    if (!at) no_aggregate(name, arg_types);
    out.kind = AggKind::kArrayAgg;
    out.arg_types[0] = Type(t);
    out.result_type = Type(*at);
    return true;
  }
  if (name == "list_agg") {
    // Materialize's list_agg: array_agg's state, a list of the argument's type.
    TypeId t = one_arg();
    Type et = arg_types[0];
    // Materialize refuses char(n) (its padding would be lost in the list's text).
    if (t == TypeId::kBpchar) throw SqlError(sqlstate::kFeatureNotSupported, "list_agg on char not yet supported");
    if (t == TypeId::kVarchar || t == TypeId::kUnknown || t == TypeId::kName) et = Type(TypeId::kText);
    if (t == TypeId::kRecord) no_aggregate(name, arg_types);
    out.kind = AggKind::kArrayAgg;
    out.arg_types[0] = et;
    out.result_type = list_type_of(et);
    return true;
  }
  if (name == "jsonb_agg") {
    one_arg();
    out.kind = AggKind::kJsonbAgg;
    out.arg_types[0] = TypeId::kText;
    out.result_type = TypeId::kJsonb;
    return true;
  }
  if (name == "jsonb_object_agg") {
    if (arg_types.size() != 2) no_aggregate(name, arg_types);
    out.kind = AggKind::kJsonbObjectAgg;
    out.arg_types = {TypeId::kText, TypeId::kText};
    out.result_type = TypeId::kJsonb;
    return true;
  }
  // string_agg(text, text) / string_agg(bytea, bytea)
  if (arg_types.size() != 2) no_aggregate(name, arg_types);
  auto stringish = [](TypeId t) { return is_string_type(t) || t == TypeId::kUnknown; };
  out.kind = AggKind::kStringAgg;
  if (arg_types[0].id == TypeId::kBytea && (arg_types[1].id == TypeId::kBytea || arg_types[1].id == TypeId::kUnknown)) {
    out.arg_types = {TypeId::kBytea, TypeId::kBytea};
    out.result_type = TypeId::kBytea;
    return true;
  }
  if (!stringish(arg_types[0].id) || !stringish(arg_types[1].id)) no_aggregate(name, arg_types);
  out.arg_types = {TypeId::kText, TypeId::kText};
  out.result_type = TypeId::kText;
  return true;
}

}  // namespace freshet
