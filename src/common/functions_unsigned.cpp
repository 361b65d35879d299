// Materialize's unsigned integers (uint2, uint4, uint8): arithmetic, bitwise and comparison
// operators, and the conversions cast_datum (functions.cpp) delegates to for casts from or to
// them. Semantics and error texts follow Materialize's expr/src/scalar/func (impls/uint*.rs)
// and its test/sqllogictest/unsigned_int.slt: arithmetic that leaves the type's range is 22003
// `"65535 + 1" uint2 out of range`; casts round numeric and floats half away from zero and
// refuse what does not fit with the rounded value quoted.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/numeric.hpp"
#include "common/unsigned_int.hpp"

namespace freshet {

[[noreturn]] void uint_out_of_range(TypeId t, std::string_view shown) {
  throw SqlError(sqlstate::kNumericValueOutOfRange,
                 "\"" + std::string(shown) + "\" " + std::string(type_internal_name(t)) + " out of range");
}

uint64_t parse_unsigned(std::string_view text, TypeId t) {
  std::string_view s = text;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  auto fail = [&](const char* why) -> uint64_t {
    throw SqlError(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type " +
                                                             std::string(type_internal_name(t)) + ": " + why + ": \"" +
                                                             std::string(text) + "\"");
  };
  if (s.empty()) return fail("cannot parse integer from empty string");
  size_t i = 0;
  if (s[0] == '+') {
    if (s.size() == 1) return fail("invalid digit found in string");
    i = 1;
  }
  // Rust's from_str_radix: digits left to right, overflow reported as soon as it happens.
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return fail("invalid digit found in string");
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > uint_max(t)) return fail("number too large to fit in target type");
  }
  return static_cast<uint64_t>(v);
}

uint64_t mz_timestamp_from_pg_micros(int64_t micros) {
  if (micros == kTimestampPosInfinity || micros == kTimestampNegInfinity || micros < -kUnixToPgEpochMicros)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "out of range for mz_timestamp");
  return static_cast<uint64_t>((micros + kUnixToPgEpochMicros) / 1000);
}

uint64_t parse_mz_timestamp(std::string_view text, Arena& arena) {
  std::string_view s = text;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    unsigned __int128 v = 0;
    for (char c : s) {
      v = v * 10 + static_cast<unsigned>(c - '0');
      if (v > UINT64_MAX) break;
    }
    if (v <= UINT64_MAX) return static_cast<uint64_t>(v);
  }
  // Materialize's words: "could not parse mz_timestamp: could not parse as number of
  // milliseconds since epoch; could not parse as date and time: <the timestamptz error>".
  const std::string prefix = "invalid input syntax for type mz_timestamp: could not parse mz_timestamp: ";
  const std::string quoted = ": \"" + std::string(text) + "\"";
  int64_t micros = 0;
  try {
    micros = parse_datum(s, Type(TypeId::kTimestampTz), arena).as_int();
  } catch (const SqlError& e) {
    throw SqlError(sqlstate::kInvalidTextRepresentation,
                   prefix + "could not parse as number of milliseconds since epoch; could not parse as date and time: " +
                       e.what() + quoted);
  }
  if (micros == kTimestampPosInfinity || micros == kTimestampNegInfinity || micros < -kUnixToPgEpochMicros)
    throw SqlError(sqlstate::kInvalidTextRepresentation, prefix + "out of range for mz_timestamp" + quoted);
  return mz_timestamp_from_pg_micros(micros);
}

namespace fn {

// The value of a float as Rust's Display prints it (Materialize quotes it in range errors):
// the shortest digits that read back, never an exponent (1.8446744073709556e19 is
// "18446744073709556000").
std::string rust_float_display(double v, bool f32) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::to_chars_result r = f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), std::chars_format::scientific)
                               : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-1.2345e+03"
  std::string out;
  size_t k = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    k = 1;
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t j = k; j < e; ++j)
    if (sci[j] != '.') digits.push_back(sci[j]);
  int exp = std::stoi(sci.substr(e + 1));
  int point = exp + 1;  // digits before the decimal point
  if (point <= 0) {
    out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  } else if (static_cast<size_t>(point) >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(point) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
  }
  return out;
}

namespace {

constexpr Type kU2 = TypeId::kUInt2;
constexpr Type kU4 = TypeId::kUInt4;
constexpr Type kU8 = TypeId::kUInt8;

template <TypeId T>
Datum checked(unsigned __int128 v, uint64_t x, const char* op, uint64_t y) {
  if (v > uint_max(T)) uint_out_of_range(T, std::to_string(x) + " " + op + " " + std::to_string(y));
  return uint_datum(static_cast<uint64_t>(v), T);
}

template <TypeId T>
Datum u_add(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  return checked<T>(static_cast<unsigned __int128>(x) + y, x, "+", y);
}
template <TypeId T>
Datum u_sub(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  if (y > x) uint_out_of_range(T, std::to_string(x) + " - " + std::to_string(y));
  return uint_datum(x - y, T);
}
template <TypeId T>
Datum u_mul(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  return checked<T>(static_cast<unsigned __int128>(x) * y, x, "*", y);
}
template <TypeId T>
Datum u_div(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  if (y == 0) throw_error(sqlstate::kDivisionByZero, "division by zero");
  return uint_datum(x / y, T);
}
template <TypeId T>
Datum u_mod(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  if (y == 0) throw_error(sqlstate::kDivisionByZero, "division by zero");
  return uint_datum(x % y, T);
}
template <TypeId T>
Datum u_and(Args a, EvalContext&) { return uint_datum(uint_value(a[0], T) & uint_value(a[1], T), T); }
template <TypeId T>
Datum u_or(Args a, EvalContext&) { return uint_datum(uint_value(a[0], T) | uint_value(a[1], T), T); }
template <TypeId T>
Datum u_xor(Args a, EvalContext&) { return uint_datum(uint_value(a[0], T) ^ uint_value(a[1], T), T); }
template <TypeId T>
Datum u_not(Args a, EvalContext&) { return uint_datum(~uint_value(a[0], T) & uint_max(T), T); }
// Shifts as Rust's wrapping_shl / wrapping_shr: the count is taken modulo the width; bits
// shifted out are lost.
template <TypeId T>
unsigned shift_count(const Datum& d) {
  unsigned bits = T == TypeId::kUInt2 ? 16 : T == TypeId::kUInt4 ? 32 : 64;
  return static_cast<unsigned>(static_cast<uint64_t>(d.as_int()) % bits);
}
template <TypeId T>
Datum u_shl(Args a, EvalContext&) { return uint_datum((uint_value(a[0], T) << shift_count<T>(a[1])) & uint_max(T), T); }
template <TypeId T>
Datum u_shr(Args a, EvalContext&) { return uint_datum(uint_value(a[0], T) >> shift_count<T>(a[1]), T); }

template <TypeId T, int Op>
Datum u_cmp(Args a, EvalContext&) {
  uint64_t x = uint_value(a[0], T), y = uint_value(a[1], T);
  bool r = false;
  switch (Op) {
    case 0: r = x == y; break;
    case 1: r = x != y; break;
    case 2: r = x < y; break;
    case 3: r = x <= y; break;
    case 4: r = x > y; break;
    default: r = x >= y; break;
  }
  return Datum::from_bool(r);
}

template <TypeId T>
void add_type(Registry& r) {
  Type t(T);
  Type b(TypeId::kBool);
  r.add("+", {t, t}, t, &u_add<T>);
  r.add("-", {t, t}, t, &u_sub<T>);
  r.add("*", {t, t}, t, &u_mul<T>);
  r.add("/", {t, t}, t, &u_div<T>);
  r.add("%", {t, t}, t, &u_mod<T>);
  r.add("mod", {t, t}, t, &u_mod<T>);
  r.add("&", {t, t}, t, &u_and<T>);
  r.add("|", {t, t}, t, &u_or<T>);
  r.add("#", {t, t}, t, &u_xor<T>);
  r.add("~", {t}, t, &u_not<T>);
  r.add("<<", {t, kU4}, t, &u_shl<T>);
  r.add(">>", {t, kU4}, t, &u_shr<T>);
  r.add("=", {t, t}, b, &u_cmp<T, 0>);
  r.add("<>", {t, t}, b, &u_cmp<T, 1>);
  r.add("<", {t, t}, b, &u_cmp<T, 2>);
  r.add("<=", {t, t}, b, &u_cmp<T, 3>);
  r.add(">", {t, t}, b, &u_cmp<T, 4>);
  r.add(">=", {t, t}, b, &u_cmp<T, 5>);
}

// mz_timestamp: comparisons only (Materialize's reference: "no supported operations"); its
// Datums are uint8's.
template <int Op>
Datum mz_cmp(Args a, EvalContext& ctx) { return u_cmp<TypeId::kUInt8, Op>(a, ctx); }

}  // namespace

void register_unsigned_functions(Registry& r) {
  add_type<TypeId::kUInt2>(r);
  add_type<TypeId::kUInt4>(r);
  add_type<TypeId::kUInt8>(r);
  Type m(TypeId::kMzTimestamp);
  Type b(TypeId::kBool);
  r.add("=", {m, m}, b, &mz_cmp<0>);
  r.add("<>", {m, m}, b, &mz_cmp<1>);
  r.add("<", {m, m}, b, &mz_cmp<2>);
  r.add("<=", {m, m}, b, &mz_cmp<3>);
  r.add(">", {m, m}, b, &mz_cmp<4>);
  r.add(">=", {m, m}, b, &mz_cmp<5>);
  (void)kU2;
  (void)kU8;
}

std::optional<CastContext> unsigned_cast_context(TypeId from, TypeId to) {
  using C = CastContext;
  auto rank = [](TypeId t) { return t == TypeId::kUInt2 ? 0 : t == TypeId::kUInt4 ? 1 : 2; };
  bool fu = is_unsigned_type(from), tu = is_unsigned_type(to);
  if (fu && tu) return rank(from) < rank(to) ? C::kImplicit : C::kAssignment;
  if (tu) {
    // Signed integers, numeric and floats into an unsigned type: assignment (typeconv.rs).
    if (is_integer_type(from) || from == TypeId::kNumeric || from == TypeId::kFloat4 || from == TypeId::kFloat8)
      return C::kAssignment;
    return std::nullopt;
  }
  if (fu) {
    // Out of an unsigned type: implicit where every value fits, else assignment.
    switch (to) {
      case TypeId::kNumeric:
      case TypeId::kFloat4:
      case TypeId::kFloat8:
        return C::kImplicit;
      case TypeId::kInt8:
        return from == TypeId::kUInt8 ? C::kAssignment : C::kImplicit;
      case TypeId::kInt4:
        return from == TypeId::kUInt2 ? C::kImplicit : C::kAssignment;
      case TypeId::kInt2:
        return C::kAssignment;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<CastContext> mz_timestamp_cast_context(TypeId from, TypeId to) {
  using C = CastContext;
  if (from == TypeId::kMzTimestamp) {
    if (to == TypeId::kTimestamp || to == TypeId::kTimestampTz || is_string_type(to)) return C::kAssignment;
    return std::nullopt;
  }
  switch (from) {
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kUInt4:
    case TypeId::kUInt8:
    case TypeId::kNumeric:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
    case TypeId::kDate:
      return C::kImplicit;
    default:
      if (is_string_type(from)) return C::kAssignment;
      return std::nullopt;
  }
}

std::optional<Datum> mz_timestamp_cast(const Datum& v, Type from, Type to) {
  constexpr TypeId kMz = TypeId::kMzTimestamp;
  TypeId f = from.id, t = to.id;
  if (f == kMz) {
    if (t != TypeId::kTimestamp && t != TypeId::kTimestampTz) return std::nullopt;
    // Materialize's timestamps end with 262142-12-31 (CheckedTimestamp's HIGH_DATE;
    // 262143-01-01 is 8210266876800000 ms after 1970).
    uint64_t ms = uint_value(v, TypeId::kUInt8);
    if (ms >= 8'210'266'876'800'000ULL) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
    return Datum::from_timestamp(static_cast<int64_t>(ms) * 1000 - kUnixToPgEpochMicros);
  }
  if (t != kMz) return std::nullopt;
  auto out_of_range = [&](const std::string& shown) -> Datum { uint_out_of_range(kMz, shown); };
  switch (f) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
      if (v.as_int() < 0) return out_of_range(std::to_string(v.as_int()));
      return uint_datum(static_cast<uint64_t>(v.as_int()), TypeId::kUInt8);
    case TypeId::kUInt2:
    case TypeId::kUInt4:
    case TypeId::kUInt8:
      return uint_datum(uint_value(v, f), TypeId::kUInt8);
    case TypeId::kNumeric: {
      // Only whole numbers in [0, 2^64) (Rust's u64::try_from of the decimal).
      Numeric n = v.as_numeric();
      if (n.is_nan()) return out_of_range("NaN");
      Numeric max;
      max.mantissa = static_cast<__int128>(UINT64_MAX);
      if (numeric_sign(n) < 0 || numeric_compare(n, max) > 0 || numeric_compare(numeric_round(n, 0), n) != 0)
        return out_of_range(numeric_to_string(n));
      return uint_datum(static_cast<uint64_t>(numeric_normalize(numeric_round(n, 0)).mantissa), TypeId::kUInt8);
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return uint_datum(mz_timestamp_from_pg_micros(v.as_int()), TypeId::kUInt8);
    case TypeId::kDate: {
      int64_t days = v.as_int();
      if (days == kDatePosInfinity || days == kDateNegInfinity || days < -10957)
        throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range for mz_timestamp");
      return uint_datum(static_cast<uint64_t>(days + 10957) * 86'400'000ULL, TypeId::kUInt8);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Datum> unsigned_cast(const Datum& v, Type from, Type to) {
  TypeId f = from.id, t = to.id;
  if (is_unsigned_type(t)) {
    if (is_unsigned_type(f)) {
      uint64_t x = uint_value(v, f);
      if (x > uint_max(t)) uint_out_of_range(t, std::to_string(x));
      return uint_datum(x, t);
    }
    if (is_integer_type(f)) {
      int64_t x = v.as_int();
      if (x < 0 || static_cast<uint64_t>(x) > uint_max(t)) uint_out_of_range(t, std::to_string(x));
      return uint_datum(static_cast<uint64_t>(x), t);
    }
    if (f == TypeId::kNumeric) {
      Numeric n = v.as_numeric();
      if (n.is_nan()) uint_out_of_range(t, "NaN");
      Numeric r = numeric_round(n, 0);
      Numeric max;
      max.mantissa = static_cast<__int128>(uint_max(t));
      if (numeric_sign(r) < 0 || numeric_compare(r, max) > 0) uint_out_of_range(t, numeric_to_string(r));
      return uint_datum(static_cast<uint64_t>(numeric_normalize(r).mantissa), t);
    }
    if (f == TypeId::kFloat4 || f == TypeId::kFloat8) {
      // Rust's round (half away from zero), then `f > uN::MAX as f`: 2^64 itself passes the test
      // and saturates to 2^64 - 1, as Materialize's `as u64` does.
      bool f32 = f == TypeId::kFloat4;
      double r = f32 ? static_cast<double>(std::round(static_cast<float>(v.as_float()))) : std::round(v.as_float());
      double max = f32 ? static_cast<double>(static_cast<float>(uint_max(t))) : static_cast<double>(uint_max(t));
      if (std::isnan(r) || r < 0 || r > max) uint_out_of_range(t, rust_float_display(r, f32));
      if (r >= 18446744073709551615.0) return uint_datum(UINT64_MAX, t);
      uint64_t x = static_cast<uint64_t>(r);
      if (x > uint_max(t)) x = uint_max(t);  // float4 rounding of the bound (65535 fits; 2^32 - 1 rounds up)
      return uint_datum(x, t);
    }
    return std::nullopt;
  }
  if (!is_unsigned_type(f)) return std::nullopt;
  uint64_t x = uint_value(v, f);
  switch (t) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8: {
      uint64_t max = t == TypeId::kInt2 ? 32767u : t == TypeId::kInt4 ? 2147483647u : 9223372036854775807u;
      if (x > max) {
        const char* name = t == TypeId::kInt2 ? "smallint" : t == TypeId::kInt4 ? "integer" : "bigint";
        throw SqlError(sqlstate::kNumericValueOutOfRange, "\"" + std::to_string(x) + "\" " + name + " out of range");
      }
      return Datum::from_int(static_cast<int64_t>(x));
    }
    case TypeId::kNumeric: {
      Numeric n;
      n.mantissa = static_cast<__int128>(x);
      return Datum::from_numeric(numeric_apply_typmod(n, to.typmod));
    }
    case TypeId::kFloat4:
      return Datum::from_float(static_cast<double>(static_cast<float>(x)));
    case TypeId::kFloat8:
      return Datum::from_float(static_cast<double>(x));
    default:
      return std::nullopt;
  }
}

}  // namespace fn
}  // namespace freshet
