#include "common/numeric.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "common/numeric_mz.hpp"
#include "common/sql_dialect.hpp"

// Numeric is a signed mantissa of up to 39 decimal digits (datum.hpp: 128 bits plus `ext` for the
// 39-digit values at or above 2^127) with a decimal scale. Values whose mantissa fits in 127 bits
// take the __int128 fast paths; the rest, and intermediate results (products, scaled dividends),
// are computed on magnitudes in 256 bits and then fitted to 39 digits; a result whose integer
// part does not fit raises 22003.

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
// A mantissa below 2^127 in magnitude fits the __int128 alone (ext == 0): the fast paths.
constexpr u128 kNarrowBound = static_cast<u128>(1) << 127;
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
  static U256 of(u128 v) {
    U256 r;
    r.lo = v;
    return r;
  }
  bool operator<(const U256& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
  bool operator==(const U256& o) const { return hi == o.hi && lo == o.lo; }
  // Every magnitude of at most 39 digits (below 10^39) is a mantissa.
  bool fits_mantissa() const;
  U256 operator+(const U256& o) const {
    U256 r;
    r.lo = lo + o.lo;
    r.hi = hi + o.hi + (r.lo < lo ? 1 : 0);
    return r;
  }
  U256 operator-(const U256& o) const {  // REQUIRES: *this >= o
    U256 r;
    r.lo = lo - o.lo;
    r.hi = hi - o.hi - (lo < o.lo ? 1 : 0);
    return r;
  }
  U256 shl1() const {
    U256 r;
    r.hi = (hi << 1) | (lo >> 127);
    r.lo = lo << 1;
    return r;
  }
  // this * 10^k for any k >= 0; false when it does not fit 256 bits.
  bool mul_pow10_wide(int k, U256& out) const {
    out = *this;
    for (; k > 0; k -= 19) {
      if (!out.mul_small(static_cast<uint64_t>(kPow10.v[k > 19 ? 19 : k]))) return false;
    }
    return true;
  }
  // a * b; false when the product does not fit 256 bits.
  static bool mul_wide(const U256& a, const U256& b, U256& out) {
    if (a.hi != 0 && b.hi != 0) return false;
    const U256& big = a.hi != 0 ? a : b;
    const U256& small = a.hi != 0 ? b : a;  // small.hi == 0
    U256 l = mul(big.lo, small.lo);
    U256 h = mul(big.hi, small.lo);  // shifted by 2^128
    if (h.hi != 0) return false;
    u128 nhi = l.hi + h.lo;
    if (nhi < l.hi) return false;
    out.hi = nhi;
    out.lo = l.lo;
    return true;
  }
  // this / d and this % d (d != 0), by binary long division.
  void divmod(const U256& d, U256& q, U256& r) const {
    if (hi == 0) {
      // Both below 2^128 (nearly always: narrow values and their scaled forms): the
      // machine's 128-bit division instead of 256 shift-and-subtract rounds.
      q = d.hi != 0 ? U256() : U256::of(lo / d.lo);
      r = d.hi != 0 ? *this : U256::of(lo % d.lo);
      return;
    }
    q = U256();
    r = U256();
    for (int i = 255; i >= 0; --i) {
      bool carry = (r.hi >> 127) & 1;
      r = r.shl1();
      if (bit(i)) r.lo |= 1;
      if (carry || !(r < d)) {
        r = r - d;
        if (i >= 128) q.hi |= static_cast<u128>(1) << (i - 128);
        else q.lo |= static_cast<u128>(1) << i;
      }
    }
  }
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
    u128 rem = 0;
    U256 q;
    if (hi == 0) {
      q.lo = lo / d;  // the machine's 128-bit division (nearly always)
      rem = lo % d;
    } else {
      // Bitwise long division: remainder stays < d < 2^128, but the shifted remainder can
      // reach 2^129, so keep a carry bit.
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
  // this / d rounded half away from zero, for any divisor below 2^255.
  U256 div_round_wide(const U256& d, bool* exact = nullptr) const {
    U256 q, r;
    divmod(d, q, r);
    if (exact) *exact = r.is_zero();
    if (!(r.shl1() < d)) q = q + U256::of(1);
    return q;
  }
};

// 10^k as 256-bit integers, k = 0..76.
struct Pow10Wide {
  U256 v[77];
  Pow10Wide() {
    v[0] = U256::of(1);
    for (int i = 1; i < 77; ++i) {
      v[i] = v[i - 1];
      v[i].mul_small(10);
    }
  }
};
const Pow10Wide& pow10w() {
  static const Pow10Wide t;
  return t;
}
// Exclusive bound of a magnitude: 10^39, Materialize's 39 digits.
const U256& mantissa_limit() { return pow10w().v[kNumericMaxDigits]; }
bool U256::fits_mantissa() const { return *this < mantissa_limit(); }

int digit_count(const U256& v) {
  int n = 1;
  while (n < 77 && !(v < pow10w().v[n])) ++n;
  return n;
}

// |value| and its sign, for wide and narrow values alike.
U256 mag_of(const Numeric& n) {
  U256 v;
  v.lo = static_cast<u128>(n.mantissa);
  v.hi = (n.mantissa < 0 ? ~static_cast<u128>(0) : 0) + static_cast<u128>(static_cast<i128>(n.ext));
  if (static_cast<i128>(v.hi) < 0) {  // negate the two's complement
    v.lo = ~v.lo;
    v.hi = ~v.hi;
    v = v + U256::of(1);
  }
  return v;
}
bool neg_of(const Numeric& n) { return n.ext != 0 ? n.ext < 0 : n.mantissa < 0; }

// The canonical Numeric of sign * mag * 10^-scale. REQUIRES: mag.fits_mantissa().
Numeric build(const U256& mag, int scale, bool negative) {
  FRESHET_ASSERT(mag.fits_mantissa());
  U256 v = mag;
  if (negative && !mag.is_zero()) {
    v.lo = ~v.lo;
    v.hi = ~v.hi;
    v = v + U256::of(1);
  }
  Numeric r;
  r.mantissa = static_cast<i128>(v.lo);
  i128 sign_ext = r.mantissa < 0 ? -1 : 0;
  r.ext = static_cast<int8_t>(static_cast<i128>(v.hi) - sign_ext);
  r.scale = static_cast<int16_t>(scale);
  return r;
}

[[noreturn]] void inexact() {
  throw SqlError(sqlstate::kNumericValueOutOfRange,
                 "value overflows numeric format")
      .with_detail("The exact result needs more than " + std::to_string(kNumericMaxDigits) +
                   " significant digits or a scale above " + std::to_string(kMaxScale) + ".");
}

U256 mul_pow10_checked(const U256& m, int k) {
  U256 r;
  if (!m.mul_pow10_wide(k, r)) overflow();
  return r;
}

// Rounds a magnitude (256-bit) with scale down to at most 39 digits and scale <= 39, half away
// from zero. Throws 22003 when the integer part alone needs more than 39 digits, and, when
// `exact` (input, +, -, *: results PostgreSQL gives exactly), when a nonzero digit would be lost.
Numeric fit(U256 mag, int scale, bool negative, bool exact = false) {
  if (exact && scale > kMaxScale && !mag.is_zero()) {
    U256 t = mag;
    for (int k = scale; k > kMaxScale && !t.is_zero(); --k) t.divmod_small(10);
    if (t.is_zero()) underflow();
  }
  int drop_round = 0;  // last dropped digit: the most significant of those dropped
  bool dropped = false;
  U256 m;
  while (true) {
    while (scale > kMaxScale || !mag.fits_mantissa()) {
      if (scale <= 0) overflow();
      drop_round = static_cast<int>(mag.divmod_small(10));
      if (exact && drop_round != 0) inexact();
      dropped = true;
      --scale;
    }
    m = mag;
    if (!dropped || drop_round < 5) break;
    if ((m + U256::of(1)).fits_mantissa()) {
      m = m + U256::of(1);
      break;
    }
    // Rounding up would leave the range: drop one more digit of the unrounded value (rounding
    // the original once, never twice).
    if (scale <= 0) overflow();
    drop_round = static_cast<int>(mag.divmod_small(10));
    if (exact && drop_round != 0) inexact();
    --scale;
  }
  return build(m, scale, negative && !m.is_zero());
}

// Rounds a magnitude by dropping `drop` low decimal digits, half away from zero.
U256 round_drop(const U256& a, int drop) {
  if (drop <= 0) return a;
  if (drop > kNumericMaxDigits) return U256();  // a < 10^39 < 5 * 10^39: rounds to 0
  return a.div_round_wide(pow10w().v[drop]);
}

Numeric make(const U256& mag, int scale, bool negative) { return fit(mag, scale, negative); }

// |m| at scale `from` shown at the larger scale `to`: the trailing zeros that fit the
// mantissa (the value is exact either way; numeric(39,39) of 0.5 keeps 38 of its 39 zeros).
Numeric widen_scale(const U256& m, int from, int to, bool negative) {
  int s = to;
  U256 p;
  while (s > from && (!m.mul_pow10_wide(s - from, p) || !p.fits_mantissa())) --s;
  if (s == from) p = m;
  return build(p, s, negative && !p.is_zero());
}

Numeric nan_value() {
  Numeric n;
  n.scale = Numeric::kNaNScale;
  return n;
}

// Brings both operands to the same scale; false if that overflows 128 bits.
bool align(const Numeric& a, const Numeric& b, i128& am, i128& bm, int& scale) {
  scale = a.scale > b.scale ? a.scale : b.scale;
  if (a.ext != 0 || b.ext != 0) return false;
  am = a.mantissa;
  bm = b.mantissa;
  if (scale - a.scale > 38 || scale - b.scale > 38) return false;
  if (a.scale < scale && __builtin_mul_overflow(am, static_cast<i128>(kPow10.v[scale - a.scale]), &am)) return false;
  if (b.scale < scale && __builtin_mul_overflow(bm, static_cast<i128>(kPow10.v[scale - b.scale]), &bm)) return false;
  return true;
}

std::string u256_to_string(U256 v) {
  char buf[80];
  int i = 80;
  do {
    buf[--i] = static_cast<char>('0' + static_cast<int>(v.divmod_small(10)));
  } while (!v.is_zero());
  return std::string(buf + i, 80 - i);
}

// PostgreSQL's weight and first digit in base 10000 of a nonzero value (select_div_scale).
void base10000_weight(const Numeric& n, int& weight, int& firstdigit) {
  if (n.ext == 0) {
    // Narrow (nearly every value): the same in 128 bits, without the 256-bit divisions.
    u128 m = uabs(n.mantissa);
    if (m == 0) {
      weight = 0;
      firstdigit = 0;
      return;
    }
    int digits = 1;
    while (digits < 39 && m >= kPow10.v[digits]) ++digits;
    int d = digits - 1 - n.scale;
    weight = d >= 0 ? d / 4 : -((-d + 3) / 4);
    int shift = n.scale + 4 * weight;
    // shift is at most digits - 1 <= 38 (the leading digit's power); below 0 the value has
    // fewer than 4 digits and 10^-shift <= 10^3.
    firstdigit = static_cast<int>(shift >= 0 ? m / kPow10.v[shift] : m * kPow10.v[-shift]);
    return;
  }
  U256 m = mag_of(n);
  if (m.is_zero()) {
    weight = 0;
    firstdigit = 0;
    return;
  }
  int d = digit_count(m) - 1 - n.scale;  // power of ten of the leading digit
  weight = d >= 0 ? d / 4 : -((-d + 3) / 4);
  int shift = n.scale + 4 * weight;
  U256 fd, rem;
  if (shift >= 0) {
    m.divmod(pow10w().v[shift], fd, rem);
  } else {
    fd = U256::mul(m.lo, kPow10.v[-shift]);  // m has fewer than 4 digits here
  }
  firstdigit = static_cast<int>(fd.lo);
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
  char buf[64];
  if (materialize_dialect()) {
    if (std::isinf(v))
      throw SqlError(sqlstate::kFeatureNotSupported,
                     "function casting double precision to numeric is only defined for finite arguments");
    // Materialize (rust-dec's From<f64>): the shortest digits that read back as v, not 15.
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    try {
      return numeric_parse_impl(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    } catch (const SqlError& e) {
      if (e.sqlstate() != sqlstate::kNumericValueOutOfRange) throw;
      throw SqlError(sqlstate::kNumericValueOutOfRange, "numeric field overflow");
    }
  }
  if (std::isinf(v)) throw SqlError(sqlstate::kFeatureNotSupported, "cannot convert infinity to numeric");
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return numeric_parse_impl(buf);
}

Numeric numeric_parse_exact(std::string_view s) {
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
    {
      // Materialize's numeric has no infinity to read: a syntax error there.
      if (materialize_dialect()) throw bad();
      throw SqlError(sqlstate::kFeatureNotSupported, "numeric infinity is not supported");
    }
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

Numeric numeric_parse_impl(std::string_view s) {
  if (!materialize_dialect()) return numeric_parse_exact(s);
  try {
    return numeric_parse_exact(s);
  } catch (const SqlError& e) {
    if (e.sqlstate() != sqlstate::kNumericValueOutOfRange) throw;
  }
  // Materialize reads the text in its 39-digit context: rounded, out of range only when the
  // integer part does not fit or every digit lies past the 39th decimal.
  Numeric r;
  if (!mz_numeric_parse_rounded(s, r)) return numeric_parse_exact(s);
  return r;
}

Numeric numeric_for_output(const Numeric& n) {
  if (!materialize_dialect() || n.scale == 0 || n.is_nan()) return n;
  return numeric_normalize(n);
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
        .with_detail("Freshet's numeric holds 39 significant digits and a scale of at most 39.");
  }
}

std::string numeric_to_string(const Numeric& n) {
  if (n.is_nan()) return "NaN";
  std::string digits = numeric_abs_digits(n);
  std::string out;
  if (neg_of(n)) out.push_back('-');
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

std::string numeric_abs_digits(const Numeric& n) {
  if (n.ext == 0) {
    U256 v = U256::of(uabs(n.mantissa));
    return u256_to_string(v);
  }
  return u256_to_string(mag_of(n));
}

int numeric_sign(const Numeric& n) {
  if (n.is_nan()) return 0;
  if (n.ext != 0) return n.ext < 0 ? -1 : 1;
  return n.mantissa < 0 ? -1 : (n.mantissa > 0 ? 1 : 0);
}

Numeric numeric_normalize(const Numeric& n) {
  if (n.is_nan()) return n;
  U256 m = mag_of(n);
  if (m.is_zero()) return Numeric{};
  int scale = n.scale;
  while (scale > 0) {
    U256 t = m;
    if (t.divmod_small(10) != 0) break;
    m = t;
    --scale;
  }
  return build(m, scale, neg_of(n));
}

double numeric_to_double(const Numeric& n) {
  if (n.is_nan()) return std::nan("");
  std::string s = numeric_to_string(n);
  return std::strtod(s.c_str(), nullptr);
}

int64_t numeric_to_int(const Numeric& n) {
  if (n.is_nan()) throw SqlError(sqlstate::kFeatureNotSupported, "cannot convert NaN to bigint");
  U256 m = round_drop(mag_of(n), n.scale);
  bool neg = neg_of(n);
  if (m.hi != 0 || (neg ? m.lo > static_cast<u128>(INT64_MAX) + 1 : m.lo > static_cast<u128>(INT64_MAX)))
    throw SqlError(sqlstate::kNumericValueOutOfRange, "bigint out of range");
  return neg ? static_cast<int64_t>(-static_cast<i128>(m.lo)) : static_cast<int64_t>(m.lo);
}

int numeric_compare(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return a.is_nan() == b.is_nan() ? 0 : (a.is_nan() ? 1 : -1);
  int sa = numeric_sign(a);
  int sb = numeric_sign(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int c;
  u128 na = uabs(a.mantissa), nb = uabs(b.mantissa);
  if (a.ext == 0 && b.ext == 0 && a.scale == b.scale) {
    c = na < nb ? -1 : (na > nb ? 1 : 0);
  } else if (a.ext == 0 && b.ext == 0 && a.scale < b.scale && b.scale - a.scale <= 38 && na <= ~static_cast<u128>(0) / kPow10.v[b.scale - a.scale]) {
    // Narrow values at different scales (floor(x) against x): a's magnitude at b's scale
    // fits 128 bits, so compare there without the 256-bit divisions below.
    u128 xa = na * kPow10.v[b.scale - a.scale];
    c = xa < nb ? -1 : (xa > nb ? 1 : 0);
  } else if (a.ext == 0 && b.ext == 0 && b.scale < a.scale && a.scale - b.scale <= 38 && nb <= ~static_cast<u128>(0) / kPow10.v[a.scale - b.scale]) {
    u128 xb = nb * kPow10.v[a.scale - b.scale];
    c = na < xb ? -1 : (na > xb ? 1 : 0);
  } else {
    U256 ma = mag_of(a), mb = mag_of(b);
    if (a.scale == b.scale) {
      c = ma < mb ? -1 : (mb < ma ? 1 : 0);
    } else {
      // Integer parts first, then the fractions scaled to the larger scale (below 10^39, so
      // exact in 256 bits; scaling the whole value could pass 2^256 and must not throw here).
      U256 ia, fa, ib, fb;
      ma.divmod(pow10w().v[a.scale], ia, fa);
      mb.divmod(pow10w().v[b.scale], ib, fb);
      if (!(ia == ib)) {
        c = ia < ib ? -1 : 1;
      } else {
        int s = a.scale > b.scale ? a.scale : b.scale;
        U256 xa, xb;
        bool ok = fa.mul_pow10_wide(s - a.scale, xa) && fb.mul_pow10_wide(s - b.scale, xb);
        FRESHET_ASSERT(ok);
        c = xa < xb ? -1 : (xb < xa ? 1 : 0);
      }
    }
  }
  return sa < 0 ? -c : c;
}

uint64_t numeric_hash(const Numeric& n) {
  if (n.is_nan()) return 0x6e616e6e756d6572ULL;
  // Equal values hash alike: hash the value without trailing zeros (numeric_normalize), which
  // for every value below 2^127 is an __int128 (ext == 0).
  Numeric z = n.ext == 0 ? n : numeric_normalize(n);
  i128 m = z.mantissa;
  int s = z.scale;
  while (z.ext == 0 && s > 0 && m % 10 == 0) {
    m /= 10;
    --s;
  }
  if (m == 0) s = 0;
  uint64_t lo = static_cast<uint64_t>(static_cast<u128>(m));
  uint64_t hi = static_cast<uint64_t>(static_cast<u128>(m) >> 64);
  uint64_t h = lo * 0x9e3779b97f4a7c15ULL ^ (hi + 0x632be59bd9b4e019ULL + static_cast<uint64_t>(s) * 0x94d049bb133111ebULL);
  h += static_cast<uint64_t>(static_cast<int64_t>(z.ext)) * 0xd6e8feb86659fd93ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

namespace {
Numeric add_impl(const Numeric& a, const Numeric& b, bool mz) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  i128 am, bm;
  int scale;
  if (align(a, b, am, bm, scale)) {
    i128 r;
    if (!__builtin_add_overflow(am, bm, &r) && uabs(r) < kNarrowBound) {
      Numeric n;
      n.mantissa = r;
      n.scale = static_cast<int16_t>(scale);
      return n;
    }
  }
  // Materialize rounds to 39 digits where PostgreSQL is exact.
  if (mz) return mz_numeric_add(a, b);
  // Slow path: exact in 256 bits, then fitted to 39 digits (exact or 22003).
  scale = a.scale > b.scale ? a.scale : b.scale;
  U256 x = mul_pow10_checked(mag_of(a), scale - a.scale);
  U256 y = mul_pow10_checked(mag_of(b), scale - b.scale);
  bool xneg = neg_of(a), yneg = neg_of(b);
  if (xneg == yneg) {
    U256 sum = x + y;
    if (sum < x) overflow();
    return fit(sum, scale, xneg, true);
  }
  if (x < y) return fit(y - x, scale, yneg, true);
  return fit(x - y, scale, xneg, true);
}
}  // namespace

Numeric numeric_add(const Numeric& a, const Numeric& b) { return add_impl(a, b, materialize_dialect()); }
Numeric numeric_add_exact(const Numeric& a, const Numeric& b) { return add_impl(a, b, false); }

Numeric numeric_neg(const Numeric& a) {
  if (a.is_nan()) return a;
  if (a.ext == 0 && uabs(a.mantissa) < kNarrowBound) {
    Numeric r = a;
    r.mantissa = -a.mantissa;
    return r;
  }
  return build(mag_of(a), a.scale, !neg_of(a));
}

Numeric numeric_abs(const Numeric& a) {
  if (a.is_nan()) return a;
  if (a.ext == 0 && uabs(a.mantissa) < kNarrowBound) {
    Numeric r = a;
    if (r.mantissa < 0) r.mantissa = -r.mantissa;
    return r;
  }
  return build(mag_of(a), a.scale, false);
}

Numeric numeric_sub(const Numeric& a, const Numeric& b) { return numeric_add(a, numeric_neg(b)); }

namespace {
Numeric mul_impl(const Numeric& a, const Numeric& b, bool mz) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  // Both mantissas within 64 bits (a price, a quantity) and the scales' sum at most 39: the
  // product (below 2^126, so at most 38 digits) is exact in 128 bits, which is what the
  // general path below gives too (fit keeps it whole; build stores it with ext 0).
  if (a.ext == 0 && b.ext == 0 && a.scale >= 0 && b.scale >= 0 && a.scale + b.scale <= kMaxScale &&
      a.mantissa >= INT64_MIN && a.mantissa <= INT64_MAX && b.mantissa >= INT64_MIN && b.mantissa <= INT64_MAX) {
    Numeric r;
    r.mantissa = a.mantissa * b.mantissa;
    r.scale = static_cast<int16_t>(a.scale + b.scale);
    return r;
  }
  bool neg = neg_of(a) != neg_of(b);
  U256 ma = mag_of(a), mb = mag_of(b);
  int scale = a.scale + b.scale;
  U256 p;
  if (!U256::mul_wide(ma, mb, p)) {
    // Past 2^256 (two 39-digit operands): only trailing zeros of the operands can make the
    // product fit, so drop them and try again.
    Numeric na = numeric_normalize(a), nb = numeric_normalize(b);
    ma = mag_of(na);
    mb = mag_of(nb);
    scale = na.scale + nb.scale;
    if (!U256::mul_wide(ma, mb, p)) {
      if (mz) return mz_numeric_mul(a, b);
      // The product has 77 or more digits: its integer part does not fit, or a nonzero digit
      // lies past the 39th (a product of integers without trailing zeros ends in one unless
      // both hold the factors 2 and 5; that rare exact case is refused too).
      if (scale <= kMaxScale) overflow();
      inexact();
    }
  }
  if (mz && (scale > kMaxScale || !p.fits_mantissa())) return mz_numeric_mul(a, b);
  return fit(p, scale, neg && !p.is_zero(), true);
}
}  // namespace

Numeric numeric_mul(const Numeric& a, const Numeric& b) { return mul_impl(a, b, materialize_dialect()); }
Numeric numeric_mul_exact(const Numeric& a, const Numeric& b) { return mul_impl(a, b, false); }

Numeric numeric_div(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  if (numeric_sign(b) == 0) div_zero();
  // Materialize: 39 significant digits.
  if (materialize_dialect()) return mz_numeric_div(a, b);
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
  bool neg = neg_of(a) != neg_of(b);
  U256 ma = mag_of(a), mb = mag_of(b);
  // q = ma * 10^(rscale - sa + sb) / mb, rounded.
  int e = rscale - a.scale + b.scale;
  while (true) {
    U256 num = mul_pow10_checked(ma, e);
    bool exact = false;
    U256 q;
    u128 q128;
    // A divisor below 2^128 with a quotient below 2^128 (nearly always): the 128-bit remainder
    // loop; else the 256-bit one.
    if (mb.hi == 0 && num.div_round(mb.lo, q128, &exact)) {
      q = U256::of(q128);
    } else {
      q = num.div_round_wide(mb, &exact);
    }
    if (q.fits_mantissa()) {
      if (rscale < pg_rscale && !exact) {
        if (q.is_zero()) underflow();
        inexact();
      }
      return make(q, rscale, neg && !q.is_zero());
    }
    // Too many digits: give up fractional digits.
    if (rscale == 0) overflow();
    --rscale;
    --e;
    if (e < 0) {
      // Dividend scale exceeds what we can keep: drop a digit of the dividend, which must be a
      // zero (rscale < pg_rscale here).
      if (ma.divmod_small(10) != 0) inexact();
      e = 0;
    }
  }
}

Numeric numeric_sqrt(const Numeric& a, int rscale) {
  if (a.is_nan()) return a;
  FRESHET_ASSERT(!neg_of(a));
  if (materialize_dialect()) return mz_numeric_sqrt(a);  // 39 significant digits
  if (rscale < a.scale) rscale = a.scale;
  if (rscale > kMaxScale) inexact();
  // sqrt(m / 10^s) * 10^r = sqrt(m * 10^(2r - s)), rounded half away from zero.
  U256 n;
  if (!mag_of(a).mul_pow10_wide(2 * rscale - a.scale, n)) overflow();
  u128 r = 0;
  for (int bit = 127; bit >= 0; --bit) {
    u128 c = r | (static_cast<u128>(1) << bit);
    if (!(n < U256::mul(c, c))) r = c;
  }
  // Round up when n > r^2 + r (then sqrt(n) > r + 1/2).
  U256 r2 = U256::mul(r, r);
  U256 lim = r2 + U256::of(r);
  U256 root = U256::of(r);
  if (lim < n) root = root + U256::of(1);
  return make(root, rscale, false);
}

Numeric numeric_mod(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return nan_value();
  if (numeric_sign(b) == 0) div_zero();
  i128 am, bm;
  int scale;
  if (align(a, b, am, bm, scale)) {
    Numeric r;
    r.mantissa = am % bm;
    r.scale = static_cast<int16_t>(scale);
    return r;
  }
  scale = a.scale > b.scale ? a.scale : b.scale;
  U256 x = mul_pow10_checked(mag_of(a), scale - a.scale);
  U256 y = mul_pow10_checked(mag_of(b), scale - b.scale);
  U256 q, r;
  x.divmod(y, q, r);
  // |r| < |y| and |r| <= |x|: one of them is a mantissa, so r fits.
  return fit(r, scale, neg_of(a) && !r.is_zero(), true);
}

Numeric numeric_round(const Numeric& a, int scale) {
  if (a.is_nan()) return a;
  if (scale > kMaxScale) scale = kMaxScale;
  if (scale < -kMaxScale) scale = -kMaxScale - 1;
  bool neg = neg_of(a);
  U256 m = mag_of(a);
  if (scale >= a.scale) return widen_scale(m, a.scale, scale, neg);
  int drop = a.scale - scale;  // > 0
  U256 q = round_drop(m, drop);
  int rscale = scale;
  if (scale < 0) {
    // Multiply back to scale 0: round(1250, -2) = 1300.
    U256 p;
    if (!q.mul_pow10_wide(-scale, p) || !p.fits_mantissa()) overflow();
    q = p;
    rscale = 0;
  }
  return make(q, rscale, neg && !q.is_zero());
}

Numeric numeric_trunc(const Numeric& a, int scale) {
  if (a.is_nan()) return a;
  if (scale > kMaxScale) scale = kMaxScale;
  if (scale < -kMaxScale) scale = -kMaxScale - 1;
  bool neg = neg_of(a);
  if (a.ext == 0 && scale >= 0 && scale < a.scale && a.scale - scale <= 38) {
    // Narrow (floor, ceil, trunc of a value with a fraction): one 128-bit division; the
    // quotient is smaller than the input, so it is canonical as it is (what make() returns).
    u128 q = uabs(a.mantissa) / kPow10.v[a.scale - scale];
    Numeric r;
    r.mantissa = neg ? -static_cast<i128>(q) : static_cast<i128>(q);
    r.scale = static_cast<int16_t>(scale);
    return r;
  }
  U256 m = mag_of(a);
  if (scale >= a.scale) return widen_scale(m, a.scale, scale, neg);
  int drop = a.scale - scale;
  U256 q, rem;
  if (drop > kNumericMaxDigits) {
    q = U256();
  } else {
    m.divmod(pow10w().v[drop], q, rem);
  }
  int rscale = scale;
  if (scale < 0) {
    U256 p;
    if (!q.mul_pow10_wide(-scale, p) || !p.fits_mantissa()) overflow();
    q = p;
    rscale = 0;
  }
  return make(q, rscale, neg && !q.is_zero());
}

Numeric numeric_apply_typmod(const Numeric& a, int32_t typmod) {
  if (typmod < 0 || a.is_nan()) return a;
  int precision = (typmod >> 16) & 0xffff;
  int scale = typmod & 0xffff;
  if (scale > 0x7fff) scale -= 0x10000;  // PostgreSQL 15 allows negative scales
  Numeric r = numeric_round(a, scale);
  // Integer digits allowed: precision - scale.
  int max_int_digits = precision - scale;
  U256 ipart, frac;
  mag_of(r).divmod(pow10w().v[r.scale], ipart, frac);
  int int_digits = ipart.is_zero() ? 0 : digit_count(ipart);
  if (int_digits > max_int_digits) {
    throw SqlError(sqlstate::kNumericValueOutOfRange, "numeric field overflow")
        .with_detail("A field with precision " + std::to_string(precision) + ", scale " + std::to_string(scale) +
                     " must round to an absolute value less than " +
                     (max_int_digits <= 0 ? std::string("1") : "10^" + std::to_string(max_int_digits)) + ".");
  }
  return r;
}

}  // namespace freshet
