// tsrange (range.hpp): input/output and the functions and operators PostgreSQL has for it:
// the constructors tsrange(lower, upper [, bounds]), lower/upper, isempty, lower_inc,
// upper_inc, lower_inf, upper_inf, && (overlaps), -|- (adjacent), @> and <@ (contains a
// timestamp or a range), + (union), * (intersection), - (difference) and comparisons.
// Each follows PostgreSQL's rangetypes.c for a type without a canonical function.

#include <algorithm>

#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/range.hpp"

namespace freshet {
namespace {

struct Bound {
  int64_t val = 0;
  bool inf = false, inc = false, lower = false;
};

Bound lower_of(const TsRange& r) { return {r.lower, r.lower_inf, r.lower_inc, true}; }
Bound upper_of(const TsRange& r) { return {r.upper, r.upper_inf, r.upper_inc, false}; }

// range_cmp_bounds
int cmp_bounds(const Bound& b1, const Bound& b2) {
  if (b1.inf && b2.inf) {
    if (b1.lower == b2.lower) return 0;
    return b1.lower ? -1 : 1;
  }
  if (b1.inf) return b1.lower ? -1 : 1;
  if (b2.inf) return b2.lower ? 1 : -1;
  int result = b1.val < b2.val ? -1 : b1.val > b2.val ? 1 : 0;
  if (result == 0) {
    if (!b1.inc && !b2.inc) {
      if (b1.lower == b2.lower) return 0;
      return b1.lower ? 1 : -1;
    }
    if (!b1.inc) return b1.lower ? 1 : -1;
    if (!b2.inc) return b2.lower ? -1 : 1;
    return 0;
  }
  return result;
}

// range_cmp_bound_values: the values only, inclusivity ignored.
int cmp_bound_values(const Bound& b1, const Bound& b2) {
  if (b1.inf && b2.inf) {
    if (b1.lower == b2.lower) return 0;
    return b1.lower ? -1 : 1;
  }
  if (b1.inf) return b1.lower ? -1 : 1;
  if (b2.inf) return b2.lower ? 1 : -1;
  return b1.val < b2.val ? -1 : b1.val > b2.val ? 1 : 0;
}

// bounds_adjacent for a type without a canonical function: upper A touches lower B.
bool bounds_adjacent(const Bound& a, const Bound& b) {
  return cmp_bound_values(a, b) == 0 && a.inc != b.inc;
}

bool overlaps(const TsRange& r1, const TsRange& r2) {
  if (r1.empty || r2.empty) return false;
  Bound l1 = lower_of(r1), u1 = upper_of(r1), l2 = lower_of(r2), u2 = upper_of(r2);
  if (cmp_bounds(l1, l2) >= 0 && cmp_bounds(l1, u2) <= 0) return true;
  if (cmp_bounds(l2, l1) >= 0 && cmp_bounds(l2, u1) <= 0) return true;
  return false;
}

bool adjacent(const TsRange& r1, const TsRange& r2) {
  if (r1.empty || r2.empty) return false;
  return bounds_adjacent(upper_of(r1), lower_of(r2)) || bounds_adjacent(upper_of(r2), lower_of(r1));
}

bool contains_elem(const TsRange& r, int64_t v) {
  if (r.empty) return false;
  if (!r.lower_inf && (r.lower > v || (r.lower == v && !r.lower_inc))) return false;
  if (!r.upper_inf && (r.upper < v || (r.upper == v && !r.upper_inc))) return false;
  return true;
}

bool contains_range(const TsRange& r1, const TsRange& r2) {
  if (r2.empty) return true;
  if (r1.empty) return false;
  if (cmp_bounds(lower_of(r1), lower_of(r2)) > 0) return false;
  if (cmp_bounds(upper_of(r1), upper_of(r2)) < 0) return false;
  return true;
}

TsRange from_bounds(const Bound& lo, const Bound& hi) {
  return tsrange_make(lo.inf, lo.val, hi.inf, hi.val, lo.inc, hi.inc);
}

[[noreturn]] void malformed(std::string_view text, std::string detail) {
  throw SqlError(sqlstate::kInvalidTextRepresentation, "malformed range literal: \"" + std::string(text) + "\"")
      .with_detail(std::move(detail));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int64_t parse_bound(std::string_view s) {
  Arena arena;
  return parse_datum(s, Type(TypeId::kTimestamp), arena).as_int();
}

}  // namespace

TsRange tsrange_make(bool lower_inf, int64_t lower, bool upper_inf, int64_t upper, bool lower_inc, bool upper_inc) {
  TsRange r;
  r.empty = false;
  r.lower_inf = lower_inf;
  r.upper_inf = upper_inf;
  r.lower = lower_inf ? 0 : lower;
  r.upper = upper_inf ? 0 : upper;
  r.lower_inc = !lower_inf && lower_inc;
  r.upper_inc = !upper_inf && upper_inc;
  if (!lower_inf && !upper_inf) {
    if (lower > upper) {
      throw SqlError(sqlstate::kDataException, "range lower bound must be less than or equal to range upper bound");
    }
    if (lower == upper && !(r.lower_inc && r.upper_inc)) return TsRange{};
  }
  return r;
}

// range_parse: [whitespace] ( "empty" | ("[" | "(") bound "," bound ("]" | ")") ) [whitespace];
// a bound is empty (unbounded), or characters with "..." quoting and backslash escapes.
TsRange tsrange_parse(std::string_view text) {
  size_t i = 0, n = text.size();
  while (i < n && is_space(text[i])) ++i;
  if (n - i >= 5) {
    std::string w(text.substr(i, 5));
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (w == "empty") {
      size_t j = i + 5;
      while (j < n && is_space(text[j])) ++j;
      if (j != n) malformed(text, "Junk after \"empty\" key word.");
      return TsRange{};
    }
  }
  bool lower_inc;
  if (i < n && text[i] == '[') {
    lower_inc = true;
  } else if (i < n && text[i] == '(') {
    lower_inc = false;
  } else {
    malformed(text, "Missing left parenthesis or bracket.");
  }
  ++i;
  // range_parse_bound: returns whether the bound is unbounded (nothing before the delimiter).
  auto bound = [&](std::string& out, bool& inf) {
    out.clear();
    if (i < n && (text[i] == ',' || text[i] == ')' || text[i] == ']')) {
      inf = true;
      return;
    }
    inf = false;
    bool in_quote = false;
    while (i < n) {
      char c = text[i];
      if (!in_quote && (c == ',' || c == ')' || c == ']')) break;
      ++i;
      if (c == '\\') {
        if (i >= n) malformed(text, "Unexpected end of input.");
        out.push_back(text[i++]);
      } else if (c == '"') {
        if (!in_quote) {
          in_quote = true;
        } else if (i < n && text[i] == '"') {
          out.push_back('"');  // a doubled quote inside quotes
          ++i;
        } else {
          in_quote = false;
        }
      } else {
        out.push_back(c);
      }
    }
    if (in_quote) malformed(text, "Unexpected end of input.");
  };
  std::string lo, hi;
  bool lo_inf, hi_inf;
  bound(lo, lo_inf);
  if (i >= n || text[i] != ',') malformed(text, "Missing comma after lower bound.");
  ++i;
  bound(hi, hi_inf);
  bool upper_inc;
  if (i < n && text[i] == ']') {
    upper_inc = true;
  } else if (i < n && text[i] == ')') {
    upper_inc = false;
  } else {
    malformed(text, "Too many commas.");
  }
  ++i;
  while (i < n && is_space(text[i])) ++i;
  if (i != n) malformed(text, "Junk after right parenthesis or bracket.");
  int64_t l = lo_inf ? 0 : parse_bound(lo), u = hi_inf ? 0 : parse_bound(hi);
  return tsrange_make(lo_inf, l, hi_inf, u, lower_inc, upper_inc);
}

std::string tsrange_format(const TsRange& r) {
  if (r.empty) return "empty";
  std::string out;
  auto bound = [&](int64_t v) {
    std::string s;
    format_timestamp(v, false, s);
    // range_bound_escape: quoted when empty or holding a quote, backslash, bracket,
    // parenthesis, comma or whitespace.
    bool quote = s.empty() || s.find_first_of("\"\\()[], \t\n\r\v\f") != std::string::npos;
    if (!quote) {
      out += s;
      return;
    }
    out.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back(c);
      out.push_back(c);
    }
    out.push_back('"');
  };
  out.push_back(r.lower_inc ? '[' : '(');
  if (!r.lower_inf) bound(r.lower);
  out.push_back(',');
  if (!r.upper_inf) bound(r.upper);
  out.push_back(r.upper_inc ? ']' : ')');
  return out;
}

int tsrange_compare(const TsRange& a, const TsRange& b) {
  if (a.empty && b.empty) return 0;
  if (a.empty) return -1;
  if (b.empty) return 1;
  int c = cmp_bounds(lower_of(a), lower_of(b));
  if (c == 0) c = cmp_bounds(upper_of(a), upper_of(b));
  return c;
}

namespace fn {
namespace {

const Type kRangeT{TypeId::kTsRange};
const Type kTsT{TypeId::kTimestamp};
const Type kBoolT{TypeId::kBool};

TsRange arg(const Datum& d) { return tsrange_parse(d.as_string()); }
Datum result(const TsRange& r, EvalContext& ctx) { return text_result(ctx, tsrange_format(r)); }

Datum construct2(Args a, EvalContext& ctx) {
  return result(tsrange_make(a[0].is_null(), a[0].is_null() ? 0 : a[0].as_int(), a[1].is_null(),
                             a[1].is_null() ? 0 : a[1].as_int(), true, false),
                ctx);
}

Datum construct3(Args a, EvalContext& ctx) {
  if (a[2].is_null()) throw SqlError(sqlstate::kNullValueNotAllowed, "range constructor flags argument must not be null");
  std::string_view f = a[2].as_string();
  if (f.size() != 2 || (f[0] != '[' && f[0] != '(') || (f[1] != ']' && f[1] != ')')) {
    throw SqlError(sqlstate::kSyntaxError, "invalid range bound flags")
        .with_hint("Valid values are \"[]\", \"[)\", \"(]\", and \"()\".");
  }
  return result(tsrange_make(a[0].is_null(), a[0].is_null() ? 0 : a[0].as_int(), a[1].is_null(),
                             a[1].is_null() ? 0 : a[1].as_int(), f[0] == '[', f[1] == ']'),
                ctx);
}

Datum lower_fn(Args a, EvalContext&) {
  TsRange r = arg(a[0]);
  if (r.empty || r.lower_inf) return Datum::null();
  return Datum::from_timestamp(r.lower);
}
Datum upper_fn(Args a, EvalContext&) {
  TsRange r = arg(a[0]);
  if (r.empty || r.upper_inf) return Datum::null();
  return Datum::from_timestamp(r.upper);
}
Datum isempty_fn(Args a, EvalContext&) { return Datum::from_bool(arg(a[0]).empty); }
Datum lower_inc_fn(Args a, EvalContext&) { return Datum::from_bool(arg(a[0]).lower_inc); }
Datum upper_inc_fn(Args a, EvalContext&) { return Datum::from_bool(arg(a[0]).upper_inc); }
Datum lower_inf_fn(Args a, EvalContext&) { return Datum::from_bool(arg(a[0]).lower_inf); }
Datum upper_inf_fn(Args a, EvalContext&) { return Datum::from_bool(arg(a[0]).upper_inf); }

Datum overlaps_fn(Args a, EvalContext&) { return Datum::from_bool(overlaps(arg(a[0]), arg(a[1]))); }
Datum adjacent_fn(Args a, EvalContext&) { return Datum::from_bool(adjacent(arg(a[0]), arg(a[1]))); }
Datum contains_elem_fn(Args a, EvalContext&) { return Datum::from_bool(contains_elem(arg(a[0]), a[1].as_int())); }
Datum elem_contained_fn(Args a, EvalContext&) { return Datum::from_bool(contains_elem(arg(a[1]), a[0].as_int())); }
Datum contains_range_fn(Args a, EvalContext&) { return Datum::from_bool(contains_range(arg(a[0]), arg(a[1]))); }
Datum range_contained_fn(Args a, EvalContext&) { return Datum::from_bool(contains_range(arg(a[1]), arg(a[0]))); }

// range_union_internal(strict = true)
Datum union_fn(Args a, EvalContext& ctx) {
  TsRange r1 = arg(a[0]), r2 = arg(a[1]);
  if (r1.empty) return result(r2, ctx);
  if (r2.empty) return result(r1, ctx);
  if (!overlaps(r1, r2) && !adjacent(r1, r2)) {
    throw SqlError(sqlstate::kDataException, "result of range union would not be contiguous");
  }
  Bound lo = cmp_bounds(lower_of(r1), lower_of(r2)) < 0 ? lower_of(r1) : lower_of(r2);
  Bound hi = cmp_bounds(upper_of(r1), upper_of(r2)) > 0 ? upper_of(r1) : upper_of(r2);
  return result(from_bounds(lo, hi), ctx);
}

// range_intersect_internal
Datum intersect_fn(Args a, EvalContext& ctx) {
  TsRange r1 = arg(a[0]), r2 = arg(a[1]);
  if (r1.empty || r2.empty || !overlaps(r1, r2)) return result(TsRange{}, ctx);
  Bound lo = cmp_bounds(lower_of(r1), lower_of(r2)) >= 0 ? lower_of(r1) : lower_of(r2);
  Bound hi = cmp_bounds(upper_of(r1), upper_of(r2)) <= 0 ? upper_of(r1) : upper_of(r2);
  return result(from_bounds(lo, hi), ctx);
}

// range_minus_internal
Datum minus_fn(Args a, EvalContext& ctx) {
  TsRange r1 = arg(a[0]), r2 = arg(a[1]);
  if (r1.empty || r2.empty) return result(r1, ctx);
  Bound l1 = lower_of(r1), u1 = upper_of(r1), l2 = lower_of(r2), u2 = upper_of(r2);
  int cmp_l1l2 = cmp_bounds(l1, l2), cmp_l1u2 = cmp_bounds(l1, u2), cmp_u1l2 = cmp_bounds(u1, l2),
      cmp_u1u2 = cmp_bounds(u1, u2);
  if (cmp_l1l2 < 0 && cmp_u1u2 > 0) {
    throw SqlError(sqlstate::kDataException, "result of range difference would not be contiguous");
  }
  if (cmp_l1u2 > 0 || cmp_u1l2 < 0) return result(r1, ctx);
  if (cmp_l1l2 >= 0 && cmp_u1u2 <= 0) return result(TsRange{}, ctx);
  if (cmp_l1l2 <= 0 && cmp_u1l2 >= 0 && cmp_u1u2 <= 0) {
    l2.inc = !l2.inc;
    l2.lower = false;  // an upper bound now
    return result(from_bounds(l1, l2), ctx);
  }
  if (cmp_l1l2 >= 0 && cmp_u1u2 >= 0 && cmp_l1u2 <= 0) {
    u2.inc = !u2.inc;
    u2.lower = true;  // a lower bound now
    return result(from_bounds(u2, u1), ctx);
  }
  throw SqlError(sqlstate::kInternalError, "unexpected case in range_minus");
}

template <int Op>
Datum cmp_fn(Args a, EvalContext&) {
  int c = tsrange_compare(arg(a[0]), arg(a[1]));
  switch (Op) {
    case 0: return Datum::from_bool(c == 0);
    case 1: return Datum::from_bool(c != 0);
    case 2: return Datum::from_bool(c < 0);
    case 3: return Datum::from_bool(c <= 0);
    case 4: return Datum::from_bool(c > 0);
    default: return Datum::from_bool(c >= 0);
  }
}

}  // namespace

void register_range_functions(Registry& r) {
  r.add("tsrange", {kTsT, kTsT}, kRangeT, &construct2, 3933).strict = false;
  r.add("tsrange", {kTsT, kTsT, Type(TypeId::kText)}, kRangeT, &construct3, 3934).strict = false;
  r.add("lower", {kRangeT}, kTsT, &lower_fn, 3848);
  r.add("upper", {kRangeT}, kTsT, &upper_fn, 3849);
  r.add("isempty", {kRangeT}, kBoolT, &isempty_fn, 3850);
  r.add("lower_inc", {kRangeT}, kBoolT, &lower_inc_fn, 3851);
  r.add("upper_inc", {kRangeT}, kBoolT, &upper_inc_fn, 3852);
  r.add("lower_inf", {kRangeT}, kBoolT, &lower_inf_fn, 3853);
  r.add("upper_inf", {kRangeT}, kBoolT, &upper_inf_fn, 3854);
  r.add("&&", {kRangeT, kRangeT}, kBoolT, &overlaps_fn);
  r.add("-|-", {kRangeT, kRangeT}, kBoolT, &adjacent_fn);
  r.add("@>", {kRangeT, kTsT}, kBoolT, &contains_elem_fn);
  r.add("<@", {kTsT, kRangeT}, kBoolT, &elem_contained_fn);
  r.add("@>", {kRangeT, kRangeT}, kBoolT, &contains_range_fn);
  r.add("<@", {kRangeT, kRangeT}, kBoolT, &range_contained_fn);
  r.add("+", {kRangeT, kRangeT}, kRangeT, &union_fn);
  r.add("*", {kRangeT, kRangeT}, kRangeT, &intersect_fn);
  r.add("-", {kRangeT, kRangeT}, kRangeT, &minus_fn);
  r.add("=", {kRangeT, kRangeT}, kBoolT, &cmp_fn<0>);
  r.add("<>", {kRangeT, kRangeT}, kBoolT, &cmp_fn<1>);
  r.add("<", {kRangeT, kRangeT}, kBoolT, &cmp_fn<2>);
  r.add("<=", {kRangeT, kRangeT}, kBoolT, &cmp_fn<3>);
  r.add(">", {kRangeT, kRangeT}, kBoolT, &cmp_fn<4>);
  r.add(">=", {kRangeT, kRangeT}, kBoolT, &cmp_fn<5>);
}

}  // namespace fn
}  // namespace freshet
