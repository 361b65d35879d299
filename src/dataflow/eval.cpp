#include "dataflow/eval.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"
#include "dataflow/in_set.hpp"
#include "common/unsigned_int.hpp"
#include "common/stack_guard.hpp"

namespace freshet::dataflow {

namespace {

// fold_epoch_buckets' function: args [ts, original expression]; evaluated by eval_epoch_bucket,
// never through fn.
const FunctionImpl kEpochBucket{"epoch_bucket", {}, Type(TypeId::kInt8), nullptr, true, Volatility::kImmutable, false, 0};

// The window number of ts for windows of c = e.literal's seconds (see fold_epoch_buckets).
Datum eval_epoch_bucket(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx) {
  Datum ts = eval(e.args[0], row, ctx);
  if (ts.is_null()) return ts;
  const int64_t t = ts.as_int();
  const int64_t c = e.literal.get(0).as_int();
  if (t != INT64_MIN && t != INT64_MAX) {  // finite (infinities: the original's error)
    const __int128 m = static_cast<__int128>(t) + kUnixToPgEpochMicros;
    const __int128 d = static_cast<__int128>(c) * 1'000'000;
    __int128 q = m / d, r = m % d;
    if (r < 0) {
      r += d;
      --q;
    }
    // Within c/2 microseconds below the next window the rounded numeric quotient may reach it.
    if ((d - r) * 2 > c) return Datum::from_int(static_cast<int64_t>(q));
  }
  return eval(e.args[1], row, ctx);
}

Datum eval_call(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx) {
  const FunctionImpl* fn = e.fn;
  FRESHET_ASSERT(fn != nullptr && fn->fn != nullptr);
  size_t n = e.args.size();
  constexpr size_t kInline = 8;
  Datum inline_args[kInline];
  std::vector<Datum> heap_args;
  Datum* args = inline_args;
  if (n > kInline) {
    heap_args.resize(n);
    args = heap_args.data();
  }
  for (size_t i = 0; i < n; ++i) {
    args[i] = eval(e.args[i], row, ctx);
    if (fn->strict && args[i].is_null()) return Datum::null();
  }
  return fn->fn(std::span<const Datum>(args, n), ctx);
}

// The JSON text of a list value of type t (to_jsonb): nested lists as nested arrays, other
// elements through their type's to_jsonb, or as JSON strings of their text form.
// Also a record's (a JSON object of its fields, as PostgreSQL's to_jsonb of a record).
void list_to_json(std::string_view literal, Type t, EvalContext& ctx, std::string& out);

// The JSON text of one value (its text form) of type t: lists and records as above, other
// values through their type's to_jsonb, or as JSON strings of their text form.
void value_to_json(std::string_view text, Type t, EvalContext& ctx, std::string& out) {
  if (t.id == TypeId::kList || is_record_value_type(t)) {
    list_to_json(text, t, ctx, out);
    return;
  }
  const FunctionImpl* fn = nullptr;
  for (const FunctionImpl* f : lookup_functions("to_jsonb"))
    if (f->arg_types.size() == 1 && f->arg_types[0].id == t.id) fn = f;
  Datum d = parse_datum(text, t, *ctx.arena);
  if (fn != nullptr) out += fn->fn(std::span<const Datum>(&d, 1), ctx).as_string();
  else json_quote(format_datum(d, t), out);
}

void list_to_json(std::string_view literal, Type t, EvalContext& ctx, std::string& out) {
  if (is_record_value_type(t)) {
    const auto& fields = record_fields(t);
    auto texts = parse_record_literal(literal);
    out.push_back('{');
    for (size_t k = 0; k < texts.size() && k < fields.size(); ++k) {
      if (k > 0) out.push_back(',');
      json_quote(fields[k].name, out);
      out.push_back(':');
      if (!texts[k]) out += "null";
      else value_to_json(*texts[k], fields[k].type, ctx, out);
    }
    out.push_back('}');
    return;
  }
  Type et = list_element_type(t);
  out.push_back('[');
  bool first = true;
  for (auto& text : parse_list_literal(literal)) {
    if (!first) out.push_back(',');
    first = false;
    if (!text) out += "null";
    else value_to_json(*text, et, ctx, out);
  }
  out.push_back(']');
}

int64_t list_depth(Type t) {
  int64_t d = 0;
  for (; t.id == TypeId::kList; t = list_element_type(t)) ++d;
  return d;
}

// The longest list at `layer` (1: the list itself) under a non-NULL list; nullopt when no list
// reaches that layer (only NULL elements above it).
std::optional<int64_t> list_length_max(std::string_view literal, Type t, int64_t layer, Arena& arena) {
  std::vector<Datum> elems = list_elements(literal, t, arena);
  if (layer == 1) return static_cast<int64_t>(elems.size());
  std::optional<int64_t> best;
  for (const Datum& d : elems) {
    if (d.is_null()) continue;
    auto n = list_length_max(d.as_string(), list_element_type(t), layer - 1, arena);
    if (n && (!best || *n > *best)) best = n;
  }
  return best;
}

Datum eval_list_fn(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx) {
  std::vector<Datum> a;
  a.reserve(e.args.size());
  for (const ScalarExpr& x : e.args) a.push_back(eval(x, row, ctx));
  auto text_of = [&](const Datum& d) { return ctx.arena->copy(d.as_string()); };
  switch (static_cast<ListFn>(e.column)) {
    case ListFn::kLength:
      if (a[0].is_null()) return Datum::null();
      return Datum::from_int(static_cast<int64_t>(parse_list_literal(a[0].as_string()).size()));
    case ListFn::kAppend:
    case ListFn::kPrepend: {
      bool append = static_cast<ListFn>(e.column) == ListFn::kAppend;
      const Datum& list = append ? a[0] : a[1];
      const Datum& elem = append ? a[1] : a[0];
      std::vector<Datum> elems;
      if (!list.is_null()) elems = list_elements(list.as_string(), e.type, *ctx.arena);
      if (append) elems.push_back(elem);
      else elems.insert(elems.begin(), elem);
      return Datum::from_string(ctx.arena->copy(list_literal(elems, e.type)));
    }
    case ListFn::kCat: {
      if (a[0].is_null()) return a[1].is_null() ? Datum::null() : Datum::from_string(text_of(a[1]));
      if (a[1].is_null()) return Datum::from_string(text_of(a[0]));
      std::vector<Datum> elems = list_elements(a[0].as_string(), e.type, *ctx.arena);
      for (const Datum& d : list_elements(a[1].as_string(), e.type, *ctx.arena)) elems.push_back(d);
      return Datum::from_string(ctx.arena->copy(list_literal(elems, e.type)));
    }
    case ListFn::kSlice: {
      if (a[0].is_null() || a[1].is_null() || a[2].is_null()) return Datum::null();
      std::vector<Datum> elems = list_elements(a[0].as_string(), e.type, *ctx.arena);
      int64_t lo = std::max<int64_t>(a[1].as_int(), 1);
      int64_t hi = std::min<int64_t>(a[2].as_int(), static_cast<int64_t>(elems.size()));
      if (lo > hi) return Datum::from_string(ctx.arena->copy("{}"));  // Materialize: an empty range is the empty list
      std::span<const Datum> part(elems.data() + (lo - 1), static_cast<size_t>(hi - lo + 1));
      return Datum::from_string(ctx.arena->copy(list_literal(part, e.type)));
    }
    case ListFn::kNLayers:  // of the type, so a NULL list has layers too (Materialize)
      return Datum::from_int(list_depth(e.args[0].type));
    case ListFn::kLengthMax: {
      int64_t depth = list_depth(e.args[0].type);
      if (a[1].is_null()) return Datum::null();
      int64_t layer = a[1].as_int();
      if (layer < 1 || layer > depth)
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid layer: " + std::to_string(layer) +
                                                             "; must use value within [1, " + std::to_string(depth) + "]");
      if (a[0].is_null()) return Datum::null();
      std::optional<int64_t> n = list_length_max(a[0].as_string(), e.args[0].type, layer, *ctx.arena);
      return n ? Datum::from_int(*n) : Datum::null();
    }
    case ListFn::kRemove: {
      if (a[0].is_null()) return Datum::null();
      std::vector<Datum> elems = list_elements(a[0].as_string(), e.type, *ctx.arena);
      std::vector<Datum> kept;
      for (const Datum& d : elems)
        if (!datums_equal(d, a[1])) kept.push_back(d);  // NULL removes the NULLs
      return Datum::from_string(ctx.arena->copy(list_literal(kept, e.type)));
    }
    case ListFn::kContains: {
      if (a[0].is_null() || a[1].is_null()) return Datum::null();
      Type lt = e.args[0].type;
      std::vector<Datum> have = list_elements(a[0].as_string(), lt, *ctx.arena);
      for (const Datum& want : list_elements(a[1].as_string(), lt, *ctx.arena)) {
        if (want.is_null()) return Datum::from_bool(false);  // NULL is in no list (PostgreSQL's arraycontains)
        bool found = false;
        for (const Datum& d : have) found |= !d.is_null() && datums_equal(d, want);
        if (!found) return Datum::from_bool(false);
      }
      return Datum::from_bool(true);
    }
    case ListFn::kToJsonb: {
      if (a[0].is_null()) return Datum::null();
      std::string json;
      list_to_json(a[0].as_string(), e.args[0].type, ctx, json);
      std::string out;
      json_write(json_parse(json), out);
      return Datum::from_string(ctx.arena->copy(out));
    }
  }
  throw SqlError(sqlstate::kInternalError, "unknown list function");
}

}  // namespace

Datum eval(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx) {
  check_stack_depth();
  switch (e.kind) {
    case ScalarKind::kColumn:
      FRESHET_ASSERT(e.column < row.size());
      return row[e.column];
    case ScalarKind::kLiteral:
      return e.literal.get(0);
    case ScalarKind::kParam:
      if (e.column >= ctx.params.size()) {
        throw SqlError(sqlstate::kUndefinedParameter,
                       "there is no parameter $" + std::to_string(e.column + 1));
      }
      return ctx.params[e.column];
    case ScalarKind::kCall:
      if (e.fn == &kEpochBucket) return eval_epoch_bucket(e, row, ctx);
      return eval_call(e, row, ctx);
    case ScalarKind::kCast: {
      Datum v = eval(e.args[0], row, ctx);
      if (v.is_null()) return v;
      if (e.args[0].type == e.type) return v;
      return cast_datum(v, e.args[0].type, e.type, ctx);
    }
    case ScalarKind::kAnd: {
      bool saw_null = false;
      for (const ScalarExpr& a : e.args) {
        Datum v = eval(a, row, ctx);
        if (v.is_null()) {
          saw_null = true;
        } else if (!v.as_bool()) {
          return Datum::from_bool(false);
        }
      }
      return saw_null ? Datum::null() : Datum::from_bool(true);
    }
    case ScalarKind::kOr: {
      bool saw_null = false;
      for (const ScalarExpr& a : e.args) {
        Datum v = eval(a, row, ctx);
        if (v.is_null()) {
          saw_null = true;
        } else if (v.as_bool()) {
          return Datum::from_bool(true);
        }
      }
      return saw_null ? Datum::null() : Datum::from_bool(false);
    }
    case ScalarKind::kNot: {
      Datum v = eval(e.args[0], row, ctx);
      if (v.is_null()) return v;
      return Datum::from_bool(!v.as_bool());
    }
    case ScalarKind::kIsNull:
      return Datum::from_bool(eval(e.args[0], row, ctx).is_null());
    case ScalarKind::kIsNotNull:
      return Datum::from_bool(!eval(e.args[0], row, ctx).is_null());
    case ScalarKind::kIsTrue: {
      Datum v = eval(e.args[0], row, ctx);
      return Datum::from_bool(!v.is_null() && v.as_bool());
    }
    case ScalarKind::kIsFalse: {
      Datum v = eval(e.args[0], row, ctx);
      return Datum::from_bool(!v.is_null() && !v.as_bool());
    }
    case ScalarKind::kIsDistinct: {
      Datum a = eval(e.args[0], row, ctx);
      Datum b = eval(e.args[1], row, ctx);
      if (a.is_null() || b.is_null()) return Datum::from_bool(a.is_null() != b.is_null());
      return Datum::from_bool(compare_datums(a, b) != 0);
    }
    case ScalarKind::kCase: {
      size_t n = e.args.size();
      size_t i = 0;
      for (; i + 1 < n; i += 2) {
        Datum c = eval(e.args[i], row, ctx);
        if (!c.is_null() && c.as_bool()) return eval(e.args[i + 1], row, ctx);
      }
      if (i < n) return eval(e.args[i], row, ctx);
      return Datum::null();
    }
    case ScalarKind::kCoalesce:
      for (const ScalarExpr& a : e.args) {
        Datum v = eval(a, row, ctx);
        if (!v.is_null()) return v;
      }
      return Datum::null();
    case ScalarKind::kNullIf: {
      Datum a = eval(e.args[0], row, ctx);
      if (a.is_null()) return a;
      Datum b = eval(e.args[1], row, ctx);
      if (b.is_null()) return a;
      bool eq;
      if (e.fn != nullptr && e.fn->fn != nullptr) {
        Datum args[2] = {a, b};
        Datum r = e.fn->fn(std::span<const Datum>(args, 2), ctx);
        eq = !r.is_null() && r.as_bool();
      } else {
        eq = compare_datums(a, b) == 0;
      }
      return eq ? Datum::null() : a;
    }
    case ScalarKind::kGreatest:
    case ScalarKind::kLeast: {
      bool greatest = e.kind == ScalarKind::kGreatest;
      Datum best;
      for (const ScalarExpr& a : e.args) {
        Datum v = eval(a, row, ctx);
        if (v.is_null()) continue;
        if (best.is_null()) {
          best = v;
        } else {
          int c = compare_datums(v, best);
          if (greatest ? c > 0 : c < 0) best = v;
        }
      }
      return best;
    }
    case ScalarKind::kMzNow:  // int8 inside temporal filters, mz_timestamp (a uint8's Datum) as a value
      if (e.type.id == TypeId::kMzTimestamp) return uint_datum(ctx.logical_time_ms, TypeId::kUInt8);
      return Datum::from_int(static_cast<int64_t>(ctx.logical_time_ms));
    case ScalarKind::kArray: {
      if (e.type.id == TypeId::kRecord) {  // ROW(...): a record value type (types.hpp)
        std::vector<Datum> fields;
        fields.reserve(e.args.size());
        for (const ScalarExpr& a : e.args) fields.push_back(eval(a, row, ctx));
        return Datum::from_string(ctx.arena->copy(record_literal(fields, e.type)));
      }
      if (e.type.id == TypeId::kList) {  // LIST[...]
        std::vector<Datum> elems;
        elems.reserve(e.args.size());
        for (const ScalarExpr& a : e.args) elems.push_back(eval(a, row, ctx));
        return Datum::from_string(ctx.arena->copy(list_literal(elems, e.type)));
      }
      TypeId et = array_element_type(e.type.id).value_or(TypeId::kText);
      std::vector<Datum> elems;
      elems.reserve(e.args.size());
      for (const ScalarExpr& a : e.args) elems.push_back(eval(a, row, ctx));
      return Datum::from_string(ctx.arena->copy(array_literal(elems, et)));
    }
    case ScalarKind::kArrayIndex: {
      Datum arr = eval(e.args[0], row, ctx);
      Datum idx = eval(e.args[1], row, ctx);
      if (arr.is_null() || idx.is_null()) return Datum::null();
      std::vector<Datum> elems = e.args[0].type.id == TypeId::kList
                                     ? list_elements(arr.as_string(), e.args[0].type, *ctx.arena)
                                     : array_elements(arr.as_string(), e.args[0].type.id, *ctx.arena);
      int64_t i = idx.as_int();
      TypeId at = e.args[0].type.id;
      if (at == TypeId::kInt2Vector || at == TypeId::kOidVector) ++i;  // their subscripts start at 0
      if (i < 1 || i > static_cast<int64_t>(elems.size())) return Datum::null();
      return elems[static_cast<size_t>(i - 1)];
    }
    case ScalarKind::kListFn:
      return eval_list_fn(e, row, ctx);
    case ScalarKind::kArrayCompare: {
      Datum x = eval(e.args[0], row, ctx);
      Datum arr = eval(e.args[1], row, ctx);
      bool all = e.column == 1;
      if (arr.is_null()) return Datum::null();
      std::vector<Datum> elems = array_elements(arr.as_string(), e.args[1].type.id, *ctx.arena);
      if (elems.empty()) return Datum::from_bool(all);
      if (x.is_null() && e.fn->strict) return Datum::null();
      bool saw_null = false;
      for (const Datum& el : elems) {
        Datum r;
        if (el.is_null() && e.fn->strict) {
          r = Datum::null();
        } else {
          Datum args[2] = {x, el};
          r = e.fn->fn(std::span<const Datum>(args, 2), ctx);
        }
        if (r.is_null()) {
          saw_null = true;
        } else if (r.as_bool() != all) {
          return Datum::from_bool(!all);
        }
      }
      return saw_null ? Datum::null() : Datum::from_bool(all);
    }
    case ScalarKind::kInSet: {
      // PostgreSQL's hashed subplan for `x IN (SELECT y ...)`: the set was evaluated once
      // (run_oneshot); its error, if it raised one, is raised by the first probe.
      if (e.in_set == nullptr) throw SqlError(sqlstate::kInternalError, "IN (subquery) evaluated without its set");
      const InSetValues& set = *e.in_set;
      if (set.error) std::rethrow_exception(set.error);
      if (e.column == kInSetExists) return Datum::from_bool(!set.values.empty());
      if (e.column == kInSetValue) {
        // PostgreSQL's initplan (dataflow/in_set.hpp): its second row is raised by the first
        // row that reads the value, as its error is.
        if (set.values.empty()) return Datum::null();
        if (set.values.size() > 1) {
          // Materialize's words under its dialect (sql/lower.cpp raise_cardinality).
          if (materialize_dialect()) throw SqlError(sqlstate::kCardinalityViolation, "more than one record produced in subquery");
          throw SqlError(sqlstate::kCardinalityViolation, "more than one row returned by a subquery used as an expression");
        }
        return set.values[0].get(0);
      }
      if (set.values.empty() && !set.has_null) return Datum::from_bool(false);
      Datum x = eval(e.args[0], row, ctx);
      if (x.is_null()) return Datum::null();
      auto it = std::lower_bound(set.values.begin(), set.values.end(), x,
                                 [](const Row& r, const Datum& v) { return compare_datums(r.get(0), v) < 0; });
      if (it != set.values.end() && compare_datums(it->get(0), x) == 0) return Datum::from_bool(true);
      return set.has_null ? Datum::null() : Datum::from_bool(false);
    }
  }
  FRESHET_ASSERT(false && "unknown scalar kind");
  return Datum::null();
}

bool is_constant_expr(const ScalarExpr& e) {
  switch (e.kind) {
    case ScalarKind::kColumn:
    case ScalarKind::kParam:
    case ScalarKind::kMzNow:
    case ScalarKind::kInSet:  // its set is known only when the query runs
      return false;
    case ScalarKind::kCall:
      if (e.fn == nullptr || e.fn->volatility != Volatility::kImmutable) return false;
      break;
    case ScalarKind::kCast: {
      // Casts into or out of date/time types may read the session (time zone, 'now').
      auto timeish = [](TypeId t) {
        TypeCategory c = type_category(t);
        return c == TypeCategory::kDateTime || c == TypeCategory::kTimespan;
      };
      if (timeish(e.type.id) || timeish(e.args[0].type.id)) return false;
      break;
    }
    case ScalarKind::kNullIf:
    case ScalarKind::kArrayCompare:
      if (e.fn != nullptr && e.fn->volatility != Volatility::kImmutable) return false;
      break;
    default:
      break;
  }
  for (const ScalarExpr& a : e.args) {
    if (!is_constant_expr(a)) return false;
  }
  return true;
}

namespace {
// The positive integer below 10^9 that a numeric literal (or an integer literal cast to
// numeric) holds, or 0.
int64_t small_integer_literal(const ScalarExpr& e) {
  const ScalarExpr* lit = &e;
  if (e.kind == ScalarKind::kCast && e.type.id == TypeId::kNumeric && e.args.size() == 1) lit = &e.args[0];
  if (lit->kind != ScalarKind::kLiteral || lit->literal.arity() != 1) return 0;
  Datum d = lit->literal.get(0);
  if (d.is_null()) return 0;
  std::string text;
  if (lit->type.id == TypeId::kNumeric) {
    text = numeric_to_string(d.as_numeric());
  } else if (lit->type.id == TypeId::kInt2 || lit->type.id == TypeId::kInt4 || lit->type.id == TypeId::kInt8) {
    text = std::to_string(d.as_int());
  } else {
    return 0;
  }
  if (text.empty() || text.size() > 9 || text[0] < '1' || text[0] > '9') return 0;
  for (char ch : text)
    if (ch < '0' || ch > '9') return 0;
  return std::stoll(text);
}
bool is_call(const ScalarExpr& e, std::string_view name, size_t args) {
  return e.kind == ScalarKind::kCall && e.fn != nullptr && e.fn->name == name && e.args.size() == args;
}
}  // namespace

void fold_epoch_buckets(ScalarExpr& e) {
  for (ScalarExpr& a : e.args) fold_epoch_buckets(a);
  // kCast(int8) <- floor(numeric) <- "/"(numeric, numeric) <- extract('epoch', timestamp), c
  if (e.kind != ScalarKind::kCast || e.type.id != TypeId::kInt8 || e.args.size() != 1) return;
  const ScalarExpr& fl = e.args[0];
  if (!is_call(fl, "floor", 1) || fl.type.id != TypeId::kNumeric) return;
  const ScalarExpr& div = fl.args[0];
  if (!is_call(div, "/", 2) || div.type.id != TypeId::kNumeric) return;
  const ScalarExpr& ex = div.args[0];
  if (!is_call(ex, "extract", 2) || ex.args[1].type.id != TypeId::kTimestamp) return;
  if (ex.fn->arg_types.size() != 2 || ex.fn->arg_types[1].id != TypeId::kTimestamp) return;
  const ScalarExpr& unit = ex.args[0];
  if (unit.kind != ScalarKind::kLiteral || unit.literal.arity() != 1 || unit.literal.get(0).is_null()) return;
  std::string u(unit.literal.get(0).as_string());
  for (char& ch : u) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (u != "epoch") return;
  const int64_t c = small_integer_literal(div.args[1]);
  if (c == 0) return;
  ScalarExpr ts = ex.args[1];
  ScalarExpr original = std::move(e);
  ScalarExpr out;
  out.kind = ScalarKind::kCall;
  out.type = Type(TypeId::kInt8);
  out.fn = &kEpochBucket;
  const Datum cd = Datum::from_int(c);
  out.literal = Row::pack(std::span<const Datum>(&cd, 1));
  out.args.push_back(std::move(ts));
  out.args.push_back(std::move(original));
  e = std::move(out);
}

}  // namespace freshet::dataflow
