#include "common/numeric.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"

// Numeric is a signed 128-bit mantissa with a decimal scale. Intermediate results that may not
// fit in 128 bits (products, scaled dividends) are computed in 256 bits and then rounded to at
// most 38 significant digits; a result whose integer part does not fit raises 22003.

namespace freshet {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;

constexpr u128 pow10_u128(int n) {
  u128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

struct Pow10Table {
  u128 v[39];
  constexpr Pow10Table() : v() {
    for (int i = 0; i <= 38; ++i) v[i] = pow10_u128(i);
  }
};
constexpr Pow10Table kPow10;
// Exclusive bound of a magnitude: it must fit the signed 128-bit mantissa. Every value below
// 10^38 fits, and so do the 39-digit values below 2^127 (about 1.7e38); a 39-digit value
// above that is 22003, never rounded.
constexpr u128 kMaxMantissa = static_cast<u128>(1) << 127;
// The largest scale: 39, Materialize's (1e-39 is its smallest positive numeric).
constexpr int kMaxScale = kNumericMaxDigits;

// A result whose integer part does not fit. PostgreSQL would answer it (its numeric is
// unbounded), so the words are Materialize's, which refuses it too.
[[noreturn]] void overflow() {
  throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow");
}

// A nonzero result whose every digit lies past scale 39 (1e-39 * 0.1): Materialize's words.
[[noreturn]] void underflow() {
  throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: underflow");
}

[[noreturn]] void div_zero() { throw SqlError(sqlstate::kDivisionByZero, "division by zero"); }

u128 uabs(i128 v) { return v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v); }

int digit_count(u128 v) {
  int n = 1;
  while (n <= 38 && v >= kPow10.v[n]) ++n;
  return n;  // 39 when v >= 10^38
}

// Minimal unsigned 256-bit integer: enough for products and scaled dividends.
struct U256 {
  u128 hi = 0, lo = 0;

  static U256 mul(u128 a, u128 b) {
    uint64_t a0 = static_cast<uint64_t>(a), a1 = static_cast<uint64_t>(a >> 64);
    uint64_t b0 = static_cast<uint64_t>(b), b1 = static_cast<uint64_t>(b >> 64);
    u128 p00 = static_cast<u128>(a0) * b0;
    u128 p01 = static_cast<u128>(a0) * b1;
    u128 p10 = static_cast<u128>(a1) * b0;
    u128 p11 = static_cast<u128>(a1) * b1;
    u128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
    U256 r;
    r.lo = (mid << 64) | static_cast<uint64_t>(p00);
    r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return r;
  }
  bool is_zero() const { return hi == 0 && lo == 0; }
  // this * f; false on overflow of 256 bits.
  bool mul_small(uint64_t f) {
    U256 l = mul(lo, f);  // < 2^192
    U256 h = mul(hi, f);  // shifted by 2^128: must stay below 2^256
    if (h.hi != 0) return false;
    u128 nhi = l.hi + h.lo;
    if (nhi < l.hi) return false;
    hi = nhi;
    lo = l.lo;
    return true;
  }
  // m * 10^k for any k >= 0; false when it does not fit 256 bits.
  static bool mul_pow10(u128 m, int k, U256& out) {
    int first = k > 38 ? 38 : k;
    out = mul(m, kPow10.v[first]);
    for (k -= first; k > 0; k -= 19) {
      uint64_t f = static_cast<uint64_t>(kPow10.v[k > 19 ? 19 : k]);
      if (!out.mul_small(f)) return false;
    }
    return true;
  }
  static U256 mul_pow10_checked(u128 m, int k) {
    U256 r;
    if (!mul_pow10(m, k, r)) overflow();
    return r;
  }
  bool operator<(const U256& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
  bool fits_mantissa() const { return hi == 0 && lo < kMaxMantissa; }
  // Divides by a small divisor, returns the remainder.
  uint64_t divmod_small(uint64_t d) {
    // Long division in 32-bit limbs.
    uint32_t limbs[8];
    for (int i = 0; i < 4; ++i) limbs[i] = static_cast<uint32_t>(lo >> (32 * i));
    for (int i = 0; i < 4; ++i) limbs[4 + i] = static_cast<uint32_t>(hi >> (32 * i));
    u128 rem = 0;
    for (int i = 7; i >= 0; --i) {
      u128 cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<uint32_t>(cur / d);
      rem = cur % d;
    }
    lo = hi = 0;
    for (int i = 0; i < 4; ++i) lo |= static_cast<u128>(limbs[i]) << (32 * i);
    for (int i = 0; i < 4; ++i) hi |= static_cast<u128>(limbs[4 + i]) << (32 * i);
    return static_cast<uint64_t>(rem);
  }
  bool bit(int i) const { return i >= 128 ? ((hi >> (i - 128)) & 1) : ((lo >> i) & 1); }
  // this / d (d != 0), rounded half away from zero; result must fit in u128 (checked).
  // Returns false when the quotient does not fit in 128 bits.
  bool div_round(u128 d, u128& q_out, bool* exact = nullptr) const {
    // Bitwise long division: remainder stays < d < 2^128, but the shifted remainder can reach
    // 2^129, so keep a carry bit.
    u128 rem = 0;
    U256 q;
    for (int i = 255; i >= 0; --i) {
      bool carry = (rem >> 127) & 1;
      rem = (rem << 1) | (bit(i) ? 1 : 0);
      bool ge = carry || rem >= d;
      if (ge) {
        rem -= d;
        if (i >= 128) q.hi |= static_cast<u128>(1) << (i - 128);
        else q.lo |= static_cast<u128>(1) << i;
      }
    }
    if (q.hi != 0) return false;
    if (exact) *exact = rem == 0;
    // Round half away from zero: 2*rem >= d.
    bool round_up = rem >= d - rem;
    q_out = q.lo;
    if (round_up) {
      if (q_out == ~static_cast<u128>(0)) return false;
      ++q_out;
    }
    return true;
  }
};

[[noreturn]] void inexact() {
  throw SqlError(sqlstate::kNumericValueOutOfRange,
                 "value overflows numeric format")
      .with_detail("The exact result needs more than " + std::to_string(kNumericMaxDigits) +
                   " significant digits (39 only below 2^127) or a scale above " + std::to_string(kMaxScale) + ".");
}

// Rounds a magnitude (256-bit) with scale down to at most 38 digits and scale <= 38, half away
// from zero. Throws 22003 when the integer part alone needs more than 38 digits, and, when
// `exact` (input, +, -, *: results PostgreSQL gives exactly), when a nonzero digit would be lost.
Numeric fit(U256 mag, int scale, bool negative, bool exact = false) {
  if (exact && scale > kMaxScale && !mag.is_zero()) {
    U256 t = mag;
    for (int k = scale; k > kMaxScale && !t.is_zero(); --k) t.divmod_small(10);
    if (t.is_zero()) underflow();
  }
  int drop_round = 0;  // last dropped digit: the most significant of those dropped
  bool dropped = false;
  u128 m;
  while (true) {
    while (scale > kMaxScale || !mag.fits_mantissa()) {
      if (scale <= 0) overflow();
      drop_round = static_cast<int>(mag.divmod_small(10));
      if (exact && drop_round != 0) inexact();
      dropped = true;
      --scale;
    }
    m = mag.lo;
    if (!dropped || drop_round < 5) break;
    if (m + 1 < kMaxMantissa) {
      ++m;
      break;
    }
    // Rounding up would leave the range: drop one more digit of the unrounded value (rounding
    // the original once, never twice).
    if (scale <= 0) overflow();
    drop_round = static_cast<int>(mag.divmod_small(10));
    if (exact && drop_round != 0) inexact();
    --scale;
  }
  Numeric r;
  r.mantissa = negative ? -static_cast<i128>(m) : static_cast<i128>(m);
  r.scale = static_cast<int16_t>(scale);
  return r;
}

// Rounds |mantissa| a by dropping `drop` low decimal digits, half away from zero.
u128 round_drop(u128 a, int drop) {
  if (drop <= 0) return a;
  if (drop > 38) return 0;  // |a| < 2^127 < 5 * 10^38: rounds to 0
  u128 p = kPow10.v[drop];
  u128 q = a / p, r = a % p;
  if (r >= p - r) ++q;
  return q;
}

Numeric make(u128 mag, int scale, bool negative) {
  U256 u;
  u.lo = mag;
  return fit(u, scale, negative);
}

// |m| at scale `from` shown at the larger scale `to`: the trailing zeros that fit the
// mantissa (the value is exact either way; numeric(39,39) of 0.5 keeps 38 of its 39 zeros).
Numeric widen_scale(u128 m, int from, int to, bool negative) {
  int s = to;
  U256 p;
  while (s > from && (!U256::mul_pow10(m, s - from, p) || !p.fits_mantissa())) --s;
  if (s == from) p = U256::mul(m, 1);
  Numeric r;
  r.mantissa = negative ? -static_cast<i128>(p.lo) : static_cast<i128>(p.lo);
  r.scale = static_cast<int16_t>(s);
  return r;
}

Numeric nan_value() {
  Numeric n;
  n.scale = Numeric::kNaNScale;
  return n;
}

// Brings both operands to the same scale; false if that overflows 128 bits.
bool align(const Numeric& a, const Numeric& b, i128& am, i128& bm, int& scale) {
  scale = a.scale > b.scale ? a.scale : b.scale;
  am = a.mantissa;
  bm = b.mantissa;
  if (scale - a.scale > 38 || scale - b.scale > 38) return false;
  if (a.scale < scale && __builtin_mul_overflow(am, static_cast<i128>(kPow10.v[scale - a.scale]), &am)) return false;
  if (b.scale < scale && __builtin_mul_overflow(bm, static_cast<i128>(kPow10.v[scale - b.scale]), &bm)) return false;
  return true;
}

std::string u128_to_string(u128 v) {
  char buf[48];
  int i = 48;
  do {
    buf[--i] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  return std::string(buf + i, 48 - i);
}

// PostgreSQL's weight and first digit in base 10000 of a nonzero value (select_div_scale).
void base10000_weight(const Numeric& n, int& weight, int& firstdigit) {
  u128 m = uabs(n.mantissa);
  if (m == 0) {
    weight = 0;
    firstdigit = 0;
    return;
  }
  int d = digit_count(m) - 1 - n.scale;  // power of ten of the leading digit
  weight = d >= 0 ? d / 4 : -((-d + 3) / 4);
  int shift = n.scale + 4 * weight;
  u128 fd = shift >= 0 ? m / kPow10.v[shift] : m * kPow10.v[-shift];
  firstdigit = static_cast<int>(fd);
}

}  // namespace

Numeric numeric_from_int(int64_t v) {
  Numeric n;
  n.mantissa = v;
  n.scale = 0;
  return n;
}

Numeric numeric_from_double(double v) {
  if (std::isnan(v)) return nan_value();
  if (std::isinf(v)) throw SqlError(sqlstate::kFeatureNotSupported, "cannot convert infinity to numeric");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return numeric_parse_impl(buf);
}

Numeric numeric_parse_impl(std::string_view s) {
  auto bad = [&]() -> SqlError {
    return SqlError(sqlstate::kInvalidTextRepresentation,
                    "invalid input syntax for type numeric: \"" + std::string(s) + "\"");
  };
  size_t i = 0, n = s.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < n && is_space(s[i])) ++i;
  size_t end = n;
  while (end > i && is_space(s[end - 1])) --end;
  std::string_view body = s.substr(i, end - i);
  if (body.size() == 3 && strncasecmp(body.data(), "nan", 3) == 0) return nan_value();
  bool negative = false;
  size_t p = 0;
  if (p < body.size() && (body[p] == '+' || body[p] == '-')) {
    negative = body[p] == '-';
    ++p;
  }
  {
    std::string_view rest = body.substr(p);
    if ((rest.size() == 8 && strncasecmp(rest.data(), "infinity", 8) == 0) ||
        (rest.size() == 3 && strncasecmp(rest.data(), "inf", 3) == 0))
      throw SqlError(sqlstate::kFeatureNotSupported, "numeric infinity is not supported");
  }
  U256 mag;
  int scale = 0;
  bool any_digit = false, seen_point = false;
  int skipped_int_digits = 0;  // integer digits beyond 256-bit capacity (never in practice)
  for (; p < body.size(); ++p) {
    char c = body[p];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (mag.hi >> 120) {
        // Would overflow 256 bits: only plausible for absurd inputs.
        if (!seen_point) ++skipped_int_digits;
        continue;
      }
      // mag = mag * 10 + digit
      U256 lo_part = U256::mul(mag.lo, 10);
      u128 hi_part = mag.hi * 10 + lo_part.hi;
      u128 lo = lo_part.lo + static_cast<u128>(c - '0');
      if (lo < lo_part.lo) ++hi_part;
      mag.hi = hi_part;
      mag.lo = lo;
      if (seen_point) ++scale;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) throw bad();
  if (skipped_int_digits > 0) overflow();
  if (p < body.size()) {
    if (body[p] != 'e' && body[p] != 'E') throw bad();
    ++p;
    bool eneg = false;
    if (p < body.size() && (body[p] == '+' || body[p] == '-')) {
      eneg = body[p] == '-';
      ++p;
    }
    if (p >= body.size()) throw bad();
    long exp = 0;
    for (; p < body.size(); ++p) {
      char c = body[p];
      if (c < '0' || c > '9') throw bad();
      exp = exp * 10 + (c - '0');
      if (exp > 100000) overflow();
    }
    if (eneg) exp = -exp;
    long new_scale = scale - exp;
    if (new_scale < 0) {
      // Multiply the mantissa by 10^-new_scale.
      for (long k = 0; k < -new_scale; ++k) {
        if (mag.hi >> 120) overflow();
        U256 lo_part = U256::mul(mag.lo, 10);
        mag.hi = mag.hi * 10 + lo_part.hi;
        mag.lo = lo_part.lo;
      }
      new_scale = 0;
    }
    if (new_scale > 1000) {
      // Far below the smallest representable digit: zero stays zero, anything else is lost.
      if (mag.is_zero()) return fit(mag, kMaxScale, false);
      inexact();
    }
    scale = static_cast<int>(new_scale);
  }
  Numeric r = fit(mag, scale, negative, true);
  if (r.mantissa == 0) r.mantissa = 0;  // no negative zero
  return r;
}

Numeric numeric_parse(std::string_view s) {
  try {
    return numeric_parse_impl(s);
  } catch (const SqlError& e) {
    if (e.sqlstate() != sqlstate::kNumericValueOutOfRange) throw;
    // PostgreSQL would read the value; Materialize's words for what it cannot hold.
    std::string text(s);
    throw SqlError(sqlstate::kNumericValueOutOfRange,
                   "\"" + text + "\" is out of range for type numeric: exceeds maximum precision " +
                       std::to_string(kNumericMaxDigits))
        .with_detail("Freshet's numeric holds 39 significant digits (39 only below 2^127) and a scale of at most 39.");
  }
}

std::string numeric_to_string(const Numeric& n) {
  if (n.is_nan()) return "NaN";
  std::string digits = u128_to_string(uabs(n.mantissa));
  std::string out;
  if (n.mantissa < 0) out.push_back('-');
  int scale = n.scale;
  if (scale <= 0) {
    out += digits;
    return out;
  }
  if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale - digits.size() + 1, '0');
  out.append(digits, 0, digits.size() - scale);
  out.push_back('.');
  out.append(digits, digits.size() - scale, std::string::npos);
  return out;
}

double numeric_to_double(const Numeric& n) {
  if (n.is_nan()) return std::nan("");
  std::string s = numeric_to_string(n);
  return std::strtod(s.c_str(), nullptr);
}

int64_t numeric_to_int(const Numeric& n) {
  if (n.is_nan()) throw SqlError(sqlstate::kFeatureNotSupported, "cannot convert NaN to bigint");
  u128 m = round_drop(uabs(n.mantissa), n.scale);
  bool neg = n.mantissa < 0;
  if (neg ? m > static_cast<u128>(INT64_MAX) + 1 : m > static_cast<u128>(INT64_MAX))
    throw SqlError(sqlstate::kNumericValueOutOfRange, "bigint out of range");
  return neg ? static_cast<int64_t>(-static_cast<i128>(m)) : static_cast<int64_t>(m);
}

int numeric_compare(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return a.is_nan() == b.is_nan() ? 0 : (a.is_nan() ? 1 : -1);
  int sa = a.mantissa < 0 ? -1 : (a.mantissa > 0 ? 1 : 0);
  int sb = b.mantissa < 0 ? -1 : (b.mantissa > 0 ? 1 : 0);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  u128 ma = uabs(a.mantissa), mb = uabs(b.mantissa);
  int c;
  if (a.scale == b.scale) {
    c = ma < mb ? -1 : (ma > mb ? 1 : 0);
  } else {
    // Integer parts first, then the fractions scaled to the larger scale (below 10^39, so
    // exact in 256 bits; scaling the whole value could pass 2^256 and must not throw here).
    auto ipart = [](u128 m, int sc) { return sc > 38 ? static_cast<u128>(0) : m / kPow10.v[sc]; };
    auto fpart = [](u128 m, int sc) { return sc > 38 ? m : m % kPow10.v[sc]; };
    u128 ia = ipart(ma, a.scale), ib = ipart(mb, b.scale);
    if (ia != ib) {
      c = ia < ib ? -1 : 1;
    } else {
      int s = a.scale > b.scale ? a.scale : b.scale;
      U256 xa = U256::mul_pow10_checked(fpart(ma, a.scale), s - a.scale);
      U256 xb = U256::mul_pow10_checked(fpart(mb, b.scale), s - b.scale);
      c = xa < xb ? -1 : (xb < xa ? 1 : 0);
    }
  }
  return sa < 0 ? -c : c;
}

uint64_t numeric_hash(const Numeric& n) {
  if (n.is_nan()) return 0x6e616e6e756d6572ULL;
  i128 m = n.mantissa;
  int s = n.scale;
  while (s > 0 && m % 10 == 0) {
    m /= 10;
    --s;
  }
  if (m == 0) s = 0;
  uint64_t lo = static_cast<uint64_t>(static_cast<u128>(m));
  uint64_t hi = static_cast<uint64_t>(static_cast<u128>(m) >> 64);
  uint64_t h = lo * 0x9e3779b97f4a7c15ULL ^ (hi + 0x632be59bd9b4e019ULL + static_cast<uint64_t>(s) * 0x94d049bb133111ebULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

Numeric numeric_add(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  i128 am, bm;
  int scale;
  if (align(a, b, am, bm, scale)) {
    i128 r;
    if (!__builtin_add_overflow(am, bm, &r) && uabs(r) < kMaxMantissa) {
      Numeric n;
      n.mantissa = r;
      n.scale = static_cast<int16_t>(scale);
      return n;
    }
  }
  // Slow path: exact in 256 bits, then rounded to 38 digits.
  scale = a.scale > b.scale ? a.scale : b.scale;
  U256 x = U256::mul_pow10_checked(uabs(a.mantissa), scale - a.scale);
  U256 y = U256::mul_pow10_checked(uabs(b.mantissa), scale - b.scale);
  bool xneg = a.mantissa < 0, yneg = b.mantissa < 0;
  auto add = [](U256 p, U256 q) {
    U256 r;
    r.lo = p.lo + q.lo;
    r.hi = p.hi + q.hi + (r.lo < p.lo ? 1 : 0);
    return r;
  };
  auto less = [](U256 p, U256 q) { return p.hi != q.hi ? p.hi < q.hi : p.lo < q.lo; };
  auto sub = [](U256 p, U256 q) {  // p >= q
    U256 r;
    r.lo = p.lo - q.lo;
    r.hi = p.hi - q.hi - (p.lo < q.lo ? 1 : 0);
    return r;
  };
  if (xneg == yneg) return fit(add(x, y), scale, xneg, true);
  if (less(x, y)) return fit(sub(y, x), scale, yneg, true);
  return fit(sub(x, y), scale, xneg, true);
}

Numeric numeric_neg(const Numeric& a) {
  if (a.is_nan()) return a;
  Numeric r = a;
  r.mantissa = -a.mantissa;
  return r;
}

Numeric numeric_abs(const Numeric& a) {
  if (a.is_nan()) return a;
  Numeric r = a;
  if (r.mantissa < 0) r.mantissa = -r.mantissa;
  return r;
}

Numeric numeric_sub(const Numeric& a, const Numeric& b) { return numeric_add(a, numeric_neg(b)); }

Numeric numeric_mul(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  bool neg = (a.mantissa < 0) != (b.mantissa < 0);
  U256 p = U256::mul(uabs(a.mantissa), uabs(b.mantissa));
  Numeric r = fit(p, a.scale + b.scale, neg && !p.is_zero(), true);
  return r;
}

Numeric numeric_div(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  if (b.mantissa == 0) div_zero();
  // PostgreSQL's select_div_scale.
  int w1, f1, w2, f2;
  base10000_weight(a, w1, f1);
  base10000_weight(b, w2, f2);
  int qweight = w1 - w2;
  if (f1 <= f2) --qweight;
  int rscale = 16 - qweight * 4;
  if (rscale < a.scale) rscale = a.scale;
  if (rscale < b.scale) rscale = b.scale;
  if (rscale < 0) rscale = 0;
  // PostgreSQL's answer has pg_rscale digits after the point. Where Freshet keeps fewer (the
  // scale cap, or a quotient too long for the mantissa) its answer must be the same value:
  // the division must then be exact, else 22003 rather than a differently rounded result.
  const int pg_rscale = rscale;
  if (rscale > kMaxScale) rscale = kMaxScale;
  bool neg = (a.mantissa < 0) != (b.mantissa < 0);
  u128 ma = uabs(a.mantissa), mb = uabs(b.mantissa);
  // q = ma * 10^(rscale - sa + sb) / mb, rounded.
  int e = rscale - a.scale + b.scale;
  while (true) {
    U256 num = U256::mul_pow10_checked(ma, e);
    u128 q;
    bool exact = false;
    if (num.div_round(mb, q, &exact) && q < kMaxMantissa) {
      if (rscale < pg_rscale && !exact) {
        if (q == 0) underflow();
        inexact();
      }
      return make(q, rscale, neg && q != 0);
    }
    // Too many digits: give up fractional digits.
    if (rscale == 0) overflow();
    --rscale;
    --e;
    if (e < 0) {
      // Dividend scale exceeds what we can keep: drop a digit of the dividend, which must be a
      // zero (rscale < pg_rscale here).
      if (ma % 10 != 0) inexact();
      ma /= 10;
      e = 0;
    }
  }
}

Numeric numeric_sqrt(const Numeric& a, int rscale) {
  if (a.is_nan()) return a;
  FRESHET_ASSERT(a.mantissa >= 0);
  if (rscale < a.scale) rscale = a.scale;
  if (rscale > kMaxScale) inexact();
  // sqrt(m / 10^s) * 10^r = sqrt(m * 10^(2r - s)), rounded half away from zero.
  U256 n;
  if (!U256::mul_pow10(uabs(a.mantissa), 2 * rscale - a.scale, n)) overflow();
  u128 r = 0;
  for (int bit = 127; bit >= 0; --bit) {
    u128 c = r | (static_cast<u128>(1) << bit);
    if (!(n < U256::mul(c, c))) r = c;
  }
  // Round up when n > r^2 + r (then sqrt(n) > r + 1/2).
  U256 r2 = U256::mul(r, r);
  U256 lim = r2;
  lim.lo += r;
  if (lim.lo < r2.lo) ++lim.hi;
  if (lim < n) ++r;
  if (r >= kMaxMantissa) overflow();
  return make(r, rscale, false);
}

Numeric numeric_mod(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  if (b.mantissa == 0) div_zero();
  i128 am, bm;
  int scale;
  if (!align(a, b, am, bm, scale)) overflow();
  Numeric r;
  r.mantissa = am % bm;
  r.scale = static_cast<int16_t>(scale);
  return r;
}

Numeric numeric_round(const Numeric& a, int scale) {
  if (a.is_nan()) return a;
  if (scale > kMaxScale) scale = kMaxScale;
  if (scale < -kMaxScale) scale = -kMaxScale - 1;
  bool neg = a.mantissa < 0;
  u128 m = uabs(a.mantissa);
  if (scale >= a.scale) return widen_scale(m, a.scale, scale, neg);
  int drop = a.scale - scale;  // > 0
  u128 q = round_drop(m, drop);
  int rscale = scale;
  if (scale < 0) {
    // Multiply back to scale 0: round(1250, -2) = 1300.
    U256 p = U256::mul(q, kPow10.v[-scale > 38 ? 38 : -scale]);
    if (!p.fits_mantissa()) overflow();
    q = p.lo;
    rscale = 0;
  }
  return make(q, rscale, neg && q != 0);
}

Numeric numeric_trunc(const Numeric& a, int scale) {
  if (a.is_nan()) return a;
  if (scale > kMaxScale) scale = kMaxScale;
  if (scale < -kMaxScale) scale = -kMaxScale - 1;
  bool neg = a.mantissa < 0;
  u128 m = uabs(a.mantissa);
  if (scale >= a.scale) return widen_scale(m, a.scale, scale, neg);
  int drop = a.scale - scale;
  u128 q = drop > 38 ? 0 : m / kPow10.v[drop];
  int rscale = scale;
  if (scale < 0) {
    U256 p = U256::mul(q, kPow10.v[-scale > 38 ? 38 : -scale]);
    if (!p.fits_mantissa()) overflow();
    q = p.lo;
    rscale = 0;
  }
  return make(q, rscale, neg && q != 0);
}

Numeric numeric_apply_typmod(const Numeric& a, int32_t typmod) {
  if (typmod < 0 || a.is_nan()) return a;
  int precision = (typmod >> 16) & 0xffff;
  int scale = typmod & 0xffff;
  if (scale > 0x7fff) scale -= 0x10000;  // PostgreSQL 15 allows negative scales
  Numeric r = numeric_round(a, scale);
  // Integer digits allowed: precision - scale.
  int max_int_digits = precision - scale;
  u128 m = uabs(r.mantissa);
  u128 ipart = r.scale > 38 ? 0 : m / kPow10.v[r.scale];
  int int_digits = ipart == 0 ? 0 : digit_count(ipart);
  if (int_digits > max_int_digits) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "numeric field overflow")
        .with_detail("A field with precision " + std::to_string(precision) + ", scale " + std::to_string(scale) +
                     " must round to an absolute value less than " +
                     (max_int_digits <= 0 ? std::string("1") : "10^" + std::to_string(max_int_digits)) + ".");
  }
  return r;
}

}  // namespace freshet
