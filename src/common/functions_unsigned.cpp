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

}  // namespace

void register_unsigned_functions(Registry& r) {
  add_type<TypeId::kUInt2>(r);
  add_type<TypeId::kUInt4>(r);
  add_type<TypeId::kUInt8>(r);
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
