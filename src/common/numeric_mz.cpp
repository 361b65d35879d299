#include "common/numeric_mz.hpp"

#include <gmp.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "common/numeric.hpp"

// Values are c * 10^e with c an exact GMP integer; see numeric_mz.hpp for the rules.

namespace freshet {
namespace {

constexpr long kDigits = 39;  // Materialize's context precision
constexpr long kEmax = 38;    // largest adjusted exponent (digits - 1 + e)
constexpr long kEmin = -39;   // smallest adjusted exponent of a normal value
constexpr long kMaxScale = 39;
// Digits after the point of the fixed-point values exp/ln work on.
constexpr unsigned long kW = 100;

struct Z {
  mpz_t v;
  Z() { mpz_init(v); }
  Z(const Z& o) { mpz_init_set(v, o.v); }
  Z& operator=(const Z& o) {
    mpz_set(v, o.v);
    return *this;
  }
  ~Z() { mpz_clear(v); }
};

struct Dec {
  Z c;
  long e = 0;
};

[[noreturn]] void overflow() { throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: overflow"); }
[[noreturn]] void underflow() {
  throw SqlError(sqlstate::kNumericValueOutOfRange, "value out of range: underflow");
}

void pow10(Z& out, unsigned long k) { mpz_ui_pow_ui(out.v, 10, k); }

// Decimal digits of |c| (1 for 0).
long ndigits(const Z& c) {
  if (mpz_sgn(c.v) == 0) return 1;
  long d = static_cast<long>(mpz_sizeinbase(c.v, 10));
  Z p;
  pow10(p, static_cast<unsigned long>(d - 1));
  if (mpz_cmpabs(c.v, p.v) < 0) --d;
  return d;
}

Dec from_numeric(const Numeric& n) {
  Dec d;
  std::string digits = numeric_abs_digits(n);
  mpz_set_str(d.c.v, digits.c_str(), 10);
  if (numeric_sign(n) < 0) mpz_neg(d.c.v, d.c.v);
  d.e = -static_cast<long>(n.scale);
  return d;
}

// Drops `drop` low digits of d.c, rounding half up (away from zero) or half even.
void drop_digits(Dec& d, long drop, bool half_even) {
  if (drop <= 0) return;
  bool neg = mpz_sgn(d.c.v) < 0;
  Z q, r, p;
  pow10(p, static_cast<unsigned long>(drop));
  mpz_abs(q.v, d.c.v);
  mpz_tdiv_qr(q.v, r.v, q.v, p.v);
  mpz_mul_2exp(r.v, r.v, 1);  // 2r against 10^drop
  int c = mpz_cmp(r.v, p.v);
  if (c > 0 || (c == 0 && (!half_even || mpz_odd_p(q.v)))) mpz_add_ui(q.v, q.v, 1);
  if (neg) mpz_neg(q.v, q.v);
  mpz_swap(d.c.v, q.v);
  d.e += drop;
}

// Rounds to the context's 39 significant digits.
void round_context(Dec& d, bool half_even = false) {
  long nd = ndigits(d.c);
  if (nd <= kDigits) return;
  drop_digits(d, nd - kDigits, half_even);
  if (ndigits(d.c) > kDigits) {  // 999.. rounded up to 1000..
    mpz_tdiv_q_ui(d.c.v, d.c.v, 10);
    ++d.e;
  }
}

// The Numeric of a context result: 39 digits, the exponent range checked, at most 39 digits
// after the point (munge_numeric), trailing fractional zeros dropped.
Numeric finish(Dec d, bool check_underflow, bool half_even = false) {
  if (mpz_sgn(d.c.v) == 0) return Numeric{};
  round_context(d, half_even);
  long adjusted = ndigits(d.c) - 1 + d.e;
  if (adjusted > kEmax) overflow();
  if (adjusted < kEmin && check_underflow) underflow();
  if (d.e < -kMaxScale) {
    drop_digits(d, -kMaxScale - d.e, false);
    if (mpz_sgn(d.c.v) == 0) return Numeric{};
  }
  while (d.e < 0 && mpz_divisible_ui_p(d.c.v, 10)) {
    mpz_divexact_ui(d.c.v, d.c.v, 10);
    ++d.e;
  }
  if (d.e > 0) {
    Z p;
    pow10(p, static_cast<unsigned long>(d.e));
    mpz_mul(d.c.v, d.c.v, p.v);
    d.e = 0;
  }
  bool neg = mpz_sgn(d.c.v) < 0;
  mpz_abs(d.c.v, d.c.v);
  std::string digits(mpz_sizeinbase(d.c.v, 10) + 1, '\0');
  mpz_get_str(digits.data(), 10, d.c.v);
  digits.resize(std::strlen(digits.c_str()));
  std::string text = neg ? "-" : "";
  size_t scale = static_cast<size_t>(-d.e);
  if (scale == 0) {
    text += digits;
  } else {
    if (digits.size() <= scale) text += "0." + std::string(scale - digits.size(), '0') + digits;
    else text += digits.substr(0, digits.size() - scale) + "." + digits.substr(digits.size() - scale);
  }
  return numeric_parse_exact(text);
}

// Exact |a| / |b| to at least 41 significant digits; sign applied. REQUIRES: b != 0.
Dec divide(const Dec& a, const Dec& b) {
  Dec q;
  if (mpz_sgn(a.c.v) == 0) return q;
  long k = 41 + ndigits(b.c) - ndigits(a.c);
  if (k < 0) k = 0;
  Z num, p, r;
  pow10(p, static_cast<unsigned long>(k));
  mpz_mul(num.v, a.c.v, p.v);
  mpz_abs(num.v, num.v);
  Z den;
  mpz_abs(den.v, b.c.v);
  mpz_tdiv_qr(q.c.v, r.v, num.v, den.v);
  // A nonzero remainder is below one unit of the 41st digit: it cannot turn a 39-digit
  // rounding, except at an exact tie, which a nonzero remainder breaks upwards.
  if (mpz_sgn(r.v) != 0) {
    mpz_mul_ui(q.c.v, q.c.v, 10);
    mpz_add_ui(q.c.v, q.c.v, 1);
    ++k;
  }
  if ((mpz_sgn(a.c.v) < 0) != (mpz_sgn(b.c.v) < 0)) mpz_neg(q.c.v, q.c.v);
  q.e = a.e - b.e - k;
  return q;
}

// ---- fixed point: X stands for X / 10^kW ----

const Z& one_fx() {
  static const Z one = [] {
    Z z;
    pow10(z, kW);
    return z;
  }();
  return one;
}

Z to_fx(const Dec& d) {
  Z x;
  long shift = static_cast<long>(kW) + d.e;
  Z p;
  if (shift >= 0) {
    pow10(p, static_cast<unsigned long>(shift));
    mpz_mul(x.v, d.c.v, p.v);
  } else {
    pow10(p, static_cast<unsigned long>(-shift));
    mpz_tdiv_q(x.v, d.c.v, p.v);
  }
  return x;
}

Dec from_fx(const Z& x) {
  Dec d;
  d.c = x;
  d.e = -static_cast<long>(kW);
  return d;
}

void mul_fx(Z& out, const Z& a, const Z& b) {
  mpz_mul(out.v, a.v, b.v);
  mpz_tdiv_q(out.v, out.v, one_fx().v);
}

void div_fx(Z& out, const Z& a, const Z& b) {
  Z t;
  mpz_mul(t.v, a.v, one_fx().v);
  mpz_tdiv_q(out.v, t.v, b.v);
}

// e^x for |x| below a few hundred: Taylor series of x / 2^k, then k squarings; negative
// arguments as 1 / e^|x|.
Z exp_fx(const Z& x_in) {
  bool neg = mpz_sgn(x_in.v) < 0;
  Z x;
  mpz_abs(x.v, x_in.v);
  // k halvings bring x below 10^-3.
  Z thr;
  pow10(thr, kW - 3);
  unsigned long k = 0;
  while (true) {
    Z t;
    mpz_tdiv_q_2exp(t.v, x.v, k);
    if (mpz_cmp(t.v, thr.v) < 0) break;
    ++k;
  }
  Z r;
  mpz_tdiv_q_2exp(r.v, x.v, k);
  Z sum = one_fx(), term = one_fx();
  for (unsigned long n = 1;; ++n) {
    mul_fx(term, term, r);
    mpz_tdiv_q_ui(term.v, term.v, n);
    if (mpz_sgn(term.v) == 0) break;
    mpz_add(sum.v, sum.v, term.v);
  }
  for (unsigned long i = 0; i < k; ++i) mul_fx(sum, sum, sum);
  if (neg) {
    Z inv;
    div_fx(inv, one_fx(), sum);
    return inv;
  }
  return sum;
}

// ln m for 1 <= m < 10 (fixed point): Halley's iteration on e^y = m from the double's log.
Z ln_fx_mantissa(const Z& m) {
  double approx = std::log(mpz_get_d(m.v) / mpz_get_d(one_fx().v));
  Z y;
  mpz_set_d(y.v, std::nearbyint(approx * 1e15));
  Z p;
  pow10(p, kW - 15);
  mpz_mul(y.v, y.v, p.v);
  // Each step triples the correct digits: 15 -> 45 -> 135.
  for (int i = 0; i < 3; ++i) {
    Z e = exp_fx(y);
    Z num, den, q;
    mpz_sub(num.v, m.v, e.v);
    mpz_mul_2exp(num.v, num.v, 1);
    mpz_add(den.v, m.v, e.v);
    div_fx(q, num, den);
    mpz_add(y.v, y.v, q.v);
  }
  return y;
}

const Z& ln10_fx() {
  static const Z v = [] {
    // ln 10 = ln 2 + ln 5, both mantissas in [1, 10).
    Z two = one_fx(), five = one_fx();
    mpz_mul_ui(two.v, two.v, 2);
    mpz_mul_ui(five.v, five.v, 5);
    Z a = ln_fx_mantissa(two), b = ln_fx_mantissa(five);
    Z s;
    mpz_add(s.v, a.v, b.v);
    return s;
  }();
  return v;
}

// ln of a positive Dec, fixed point.
Z ln_fx(const Dec& x) {
  long nd = ndigits(x.c);
  long t = nd - 1 + x.e;  // x = m * 10^t, 1 <= m < 10
  Dec m;
  m.c = x.c;
  m.e = -(nd - 1);
  Z y = ln_fx_mantissa(to_fx(m));
  Z tl;
  mpz_mul_si(tl.v, ln10_fx().v, t);
  mpz_add(y.v, y.v, tl.v);
  return y;
}

bool is_zero(const Numeric& n) { return numeric_sign(n) == 0; }

// e^t for a power computed as exp(y ln x): past |t| = 92 the result is beyond 10^39 or below
// 10^-39 whatever its digits, and exp_fx must not square a huge argument's series.
Z exp_in_range(const Z& t) {
  Z lim = one_fx();
  mpz_mul_ui(lim.v, lim.v, 92);
  if (mpz_cmp(t.v, lim.v) > 0) overflow();
  mpz_neg(lim.v, lim.v);
  if (mpz_cmp(t.v, lim.v) < 0) underflow();
  return exp_fx(t);
}

}  // namespace

Numeric mz_numeric_add(const Numeric& a, const Numeric& b) {
  Dec x = from_numeric(a), y = from_numeric(b);
  long e = std::min(x.e, y.e);
  Z p;
  pow10(p, static_cast<unsigned long>(x.e - e));
  mpz_mul(x.c.v, x.c.v, p.v);
  pow10(p, static_cast<unsigned long>(y.e - e));
  mpz_mul(y.c.v, y.c.v, p.v);
  Dec s;
  mpz_add(s.c.v, x.c.v, y.c.v);
  s.e = e;
  return finish(s, false);
}

Numeric mz_numeric_mul(const Numeric& a, const Numeric& b) {
  Dec x = from_numeric(a), y = from_numeric(b);
  Dec p;
  mpz_mul(p.c.v, x.c.v, y.c.v);
  p.e = x.e + y.e;
  return finish(p, true);
}

Numeric mz_numeric_div(const Numeric& a, const Numeric& b) {
  return finish(divide(from_numeric(a), from_numeric(b)), true);
}

Numeric mz_numeric_sqrt(const Numeric& a) {
  if (is_zero(a)) return Numeric{};
  Dec x = from_numeric(a);
  // sqrt(c * 10^e) = sqrt(c * 10^k) * 10^((e - k) / 2), with k making the root 41+ digits.
  long k = 82 - ndigits(x.c);
  if (k < 0) k = 0;
  if (((x.e - k) % 2 + 2) % 2 != 0) ++k;
  Z p, n, root, rem;
  pow10(p, static_cast<unsigned long>(k));
  mpz_mul(n.v, x.c.v, p.v);
  mpz_sqrtrem(root.v, rem.v, n.v);
  Dec r;
  r.c = root;
  r.e = (x.e - k) / 2;
  if (mpz_sgn(rem.v) != 0) {  // irrational: mark it above the truncated root
    mpz_mul_ui(r.c.v, r.c.v, 10);
    mpz_add_ui(r.c.v, r.c.v, 1);
    --r.e;
  }
  return finish(r, false, true);
}

Numeric mz_numeric_exp(const Numeric& a) {
  if (is_zero(a)) return numeric_from_int(1);
  double v = numeric_to_double(a);
  // e^92 > 10^39 and e^-92 < 10^-39.
  if (v > 92) overflow();
  if (v < -92) underflow();
  return finish(from_fx(exp_fx(to_fx(from_numeric(a)))), true, true);
}

Numeric mz_numeric_ln(const Numeric& a) { return finish(from_fx(ln_fx(from_numeric(a))), false, true); }

Numeric mz_numeric_log10(const Numeric& a) {
  Z l = ln_fx(from_numeric(a)), q;
  div_fx(q, l, ln10_fx());
  return finish(from_fx(q), false, true);
}

Numeric mz_numeric_log(const Numeric& base, const Numeric& x) {
  Numeric lb = finish(from_fx(ln_fx(from_numeric(base))), false, true);
  Numeric lx = finish(from_fx(ln_fx(from_numeric(x))), false, true);
  if (is_zero(lb)) throw SqlError(sqlstate::kDivisionByZero, "division by zero");
  Numeric q = mz_numeric_div(lx, lb);
  // Materialize rounds the quotient to 38 digits and takes that when it is an integer: the
  // division of two rounded logarithms is off in its last digit (log(2, 8) = 3).
  Dec d = from_numeric(q);
  long nd = ndigits(d.c);
  if (nd > kDigits - 1) drop_digits(d, nd - (kDigits - 1), false);
  while (d.e < 0 && mpz_sgn(d.c.v) != 0 && mpz_divisible_ui_p(d.c.v, 10)) {
    mpz_divexact_ui(d.c.v, d.c.v, 10);
    ++d.e;
  }
  if (d.e >= 0 || mpz_sgn(d.c.v) == 0) return finish(d, false);
  return q;
}

Numeric mz_numeric_pow(const Numeric& x, const Numeric& y) {
  if (is_zero(y)) return numeric_from_int(1);
  if (is_zero(x)) return Numeric{};
  bool integral = numeric_compare(numeric_trunc(y, 0), y) == 0;
  double lx = std::log10(std::fabs(numeric_to_double(x)));
  double yd = numeric_to_double(y);
  double mag = lx * yd;  // log10 |result|, roughly
  if (lx != 0 && mag > 40) overflow();
  if (lx != 0 && mag < -41) underflow();
  Dec base = from_numeric(x);
  if (integral) {
    bool one = mpz_cmpabs_ui(base.c.v, 1) == 0 && base.e == 0;
    // |x| = 1: +-1; otherwise |y| is bounded by the range checks above (|y| < 41 / |log10 x|).
    Z ey;
    Dec yy = from_numeric(y);
    mpz_set(ey.v, yy.c.v);
    if (yy.e > 0) {
      Z p;
      pow10(p, static_cast<unsigned long>(yy.e));
      mpz_mul(ey.v, ey.v, p.v);
    } else if (yy.e < 0) {
      Z p;
      pow10(p, static_cast<unsigned long>(-yy.e));
      mpz_tdiv_q(ey.v, ey.v, p.v);
    }
    bool odd = mpz_odd_p(ey.v);
    bool negexp = mpz_sgn(ey.v) < 0;
    if (one) {
      Numeric r = numeric_from_int(mpz_sgn(base.c.v) < 0 && odd ? -1 : 1);
      return r;
    }
    // Exact power when its digits stay modest, else through exp(y ln x) below.
    if (mpz_cmpabs_ui(ey.v, 100000) <= 0 &&
        static_cast<double>(ndigits(base.c)) * std::fabs(yd) <= 200000) {
      unsigned long n = static_cast<unsigned long>(std::llabs(mpz_get_si(ey.v)));
      Dec p;
      mpz_pow_ui(p.c.v, base.c.v, n);
      p.e = base.e * static_cast<long>(n);
      if (!negexp) return finish(p, true);
      Dec one_dec;
      mpz_set_ui(one_dec.c.v, 1);
      return finish(divide(one_dec, p), true);
    }
    Dec ab = base;
    mpz_abs(ab.c.v, ab.c.v);
    Z l = ln_fx(ab), t;
    mul_fx(t, l, to_fx(from_numeric(y)));
    Z r = exp_in_range(t);
    if (mpz_sgn(base.c.v) < 0 && odd) mpz_neg(r.v, r.v);
    return finish(from_fx(r), true, true);
  }
  // x > 0 here (a negative base with a fractional exponent is the caller's error).
  Z l = ln_fx(base), t;
  mul_fx(t, l, to_fx(from_numeric(y)));
  return finish(from_fx(exp_in_range(t)), true, true);
}

bool mz_numeric_parse_rounded(std::string_view s, Numeric& out) {
  size_t i = 0, n = s.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < n && space(s[i])) ++i;
  while (n > i && space(s[n - 1])) --n;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  std::string digits;
  long scale = 0;
  bool point = false, any = false;
  for (; i < n; ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      any = true;
      if (point) ++scale;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return false;
  long exp = 0;
  if (i < n) {
    if (s[i] != 'e' && s[i] != 'E') return false;
    ++i;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= n) return false;
    for (; i < n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      exp = exp * 10 + (s[i] - '0');
      if (exp > 100000) overflow();
    }
    if (eneg) exp = -exp;
  }
  Dec d;
  mpz_set_str(d.c.v, digits.c_str(), 10);
  if (neg) mpz_neg(d.c.v, d.c.v);
  d.e = exp - scale;
  out = finish(d, true);
  return true;
}

}  // namespace freshet
