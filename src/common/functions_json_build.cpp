// jsonb_strip_nulls, the jsonb - text / jsonb - integer operators and date_bin (issue 10) live
// here too, apart from the files other work changes.
//
// json_build_object / jsonb_build_object, which SQLAlchemy's PostgreSQL reflection calls
// (get_columns, autoload: the identity options of a column). In its own file so as not to
// collide with other work on the function library.
//
// The arguments are variadic "any" in PostgreSQL, and a value keeps its type (42 is a number,
// true a boolean, 'x' a string). Here the binder (sql/binder.cpp, bind_func_call) passes
// every key as text and every value as the text of its jsonb (numbers, booleans and jsonb as
// they are, everything else as a JSON string of its text form), so this function only
// assembles the object. json is read as jsonb in Freshet, so json_build_object's keys are
// ordered and spaced as jsonb's ({"a": 1}), not kept in call order as PostgreSQL's json does.

#include <algorithm>
#include <utility>

#include "common/sql_dialect.hpp"
#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::fn {
namespace {

// PostgreSQL 15's texts for a NULL key differ between the two (json.c, jsonb.c); both 22023.
template <bool kJsonb>
Datum j_build_object(Args a, EvalContext& ctx) {
  if (a.size() % 2 != 0)
    throw SqlError(sqlstate::kInvalidParameterValue, "argument list must have even number of elements")
        .with_hint("The arguments of json_build_object() must consist of alternating keys and values.");
  JsonValue obj;
  obj.kind = JsonValue::Kind::kObject;
  for (size_t k = 0; k < a.size(); k += 2) {
    if (a[k].is_null()) {
      // Materialize's text: "key cannot be null" (expr/src/scalar.rs EvalError::KeyCannotBeNull).
      if (kJsonb && materialize_dialect()) throw SqlError(sqlstate::kInvalidParameterValue, "key cannot be null");
      if (kJsonb) throw SqlError(sqlstate::kInvalidParameterValue, "argument " + std::to_string(k + 1) + ": key must not be null");
      throw SqlError(sqlstate::kInvalidParameterValue, "argument " + std::to_string(k + 1) + " cannot be null")
          .with_hint("Object keys should be text.");
    }
    JsonValue v;  // SQL NULL is JSON null
    if (!a[k + 1].is_null()) v = json_parse(a[k + 1].as_string());
    std::string key(a[k].as_string());
    // jsonb: a later duplicate key wins.
    bool replaced = false;
    for (auto& [name, old] : obj.object)
      if (name == key) {
        old = std::move(v);
        replaced = true;
        break;
      }
    if (!replaced) obj.object.emplace_back(std::move(key), std::move(v));
  }
  // jsonb's key order (json_key_less).
  std::stable_sort(obj.object.begin(), obj.object.end(),
                   [](const auto& x, const auto& y) { return json_key_less(x.first, y.first); });
  std::string out;
  json_write(obj, out);
  return text_result(ctx, out);
}

JsonValue parse_arg(const Datum& d) { return json_parse(d.as_string()); }

Datum json_result(EvalContext& ctx, const JsonValue& v) {
  std::string out;
  json_write(v, out);
  return text_result(ctx, out);
}

// jsonb_strip_nulls: object fields whose value is null go, at every depth (array elements stay).
void strip_nulls(JsonValue& v) {
  if (v.kind == JsonValue::Kind::kObject) {
    std::vector<std::pair<std::string, JsonValue>> kept;
    for (auto& [k, x] : v.object) {
      if (x.kind == JsonValue::Kind::kNull) continue;
      strip_nulls(x);
      kept.emplace_back(std::move(k), std::move(x));
    }
    v.object = std::move(kept);
  } else if (v.kind == JsonValue::Kind::kArray) {
    for (auto& x : v.array) strip_nulls(x);
  }
}

Datum j_strip_nulls(Args a, EvalContext& ctx) {
  JsonValue v = parse_arg(a[0]);
  strip_nulls(v);
  return json_result(ctx, v);
}

// jsonb - text: the object without that key, or the array without string elements equal to it.
Datum j_minus_text(Args a, EvalContext& ctx) {
  JsonValue v = parse_arg(a[0]);
  std::string_view key = a[1].as_string();
  if (v.kind == JsonValue::Kind::kObject) {
    std::erase_if(v.object, [&](const auto& kv) { return kv.first == key; });
  } else if (v.kind == JsonValue::Kind::kArray) {
    std::erase_if(v.array, [&](const JsonValue& x) { return x.kind == JsonValue::Kind::kString && x.str == key; });
  } else {
    // Materialize: NULL (expr/src/scalar/func.rs jsonb_delete_string).
    if (materialize_dialect()) return Datum::null();
    throw SqlError(sqlstate::kInvalidParameterValue, "cannot delete from scalar");
  }
  return json_result(ctx, v);
}

// jsonb - integer: the array without that element (negative: from the end).
Datum j_minus_index(Args a, EvalContext& ctx) {
  JsonValue v = parse_arg(a[0]);
  // Materialize: NULL for a non-array (expr/src/scalar/func.rs jsonb_delete_int64).
  if (materialize_dialect() && v.kind != JsonValue::Kind::kArray) return Datum::null();
  if (v.kind == JsonValue::Kind::kObject) throw SqlError(sqlstate::kInvalidParameterValue, "cannot delete from object using integer index");
  if (v.kind != JsonValue::Kind::kArray) throw SqlError(sqlstate::kInvalidParameterValue, "cannot delete from scalar");
  int64_t n = static_cast<int64_t>(v.array.size());
  int64_t i = a[1].as_int();
  if (i < 0) i += n;
  if (i >= 0 && i < n) v.array.erase(v.array.begin() + i);
  return json_result(ctx, v);
}

// date_bin(stride, source, origin): the start of source's bin of width stride counted from
// origin (PostgreSQL's timestamp_bin; the same for timestamptz, whose values are UTC).
Datum date_bin(Args a, EvalContext& ctx) {
  Interval stride = a[0].as_interval();
  int64_t ts = a[1].as_int(), origin = a[2].as_int();
  if (stride.months != 0)
    throw SqlError(sqlstate::kFeatureNotSupported, "timestamps cannot be binned into intervals containing months or years");
  __int128 stride_us = static_cast<__int128>(stride.days) * kMicrosPerDay + stride.micros;
  if (stride_us <= 0 || stride_us > INT64_MAX) throw SqlError(sqlstate::kDatetimeFieldOverflow, "stride must be greater than zero");
  // Materialize counts in nanoseconds and refuses a stride or a distance that does not fit an
  // int64 of them (its func.rs date_bin; timestamp.slt:106, 110).
  constexpr __int128 kMaxMzMicros = INT64_MAX / 1000;
  if (materialize_dialect() && stride_us > kMaxMzMicros)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "stride cannot exceed " + std::to_string(INT64_MAX) + "/" +
                                                         std::to_string(INT64_MIN) + " nanoseconds");
  if (materialize_dialect()) {
    __int128 d = static_cast<__int128>(ts) - origin;
    if (d > kMaxMzMicros || d < -kMaxMzMicros)
      throw SqlError(sqlstate::kDatetimeFieldOverflow, "source and origin must not differ more than 2^63 nanoseconds");
  }
  if (ts == kTimestampNegInfinity || ts == kTimestampPosInfinity) return a[1];
  if (origin == kTimestampNegInfinity || origin == kTimestampPosInfinity)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "origin out of range");
  __int128 diff = static_cast<__int128>(ts) - origin;
  if (diff > INT64_MAX || diff < INT64_MIN) throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range");
  __int128 delta = diff - diff % stride_us;
  // The start of the bin even when the origin is after the source.
  if (origin > ts && stride_us > 1) delta -= stride_us;
  __int128 r = static_cast<__int128>(origin) + delta;
  if (r >= kTimestampPosInfinity || r <= kTimestampNegInfinity) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  (void)ctx;
  return Datum::from_timestamp(static_cast<int64_t>(r));
}

}  // namespace

void register_json_build_functions(Registry& r) {
  r.add("date_bin", {Type(TypeId::kInterval), Type(TypeId::kTimestamp), Type(TypeId::kTimestamp)}, Type(TypeId::kTimestamp), &date_bin, 6177);
  r.add("date_bin", {Type(TypeId::kInterval), Type(TypeId::kTimestampTz), Type(TypeId::kTimestampTz)}, Type(TypeId::kTimestampTz), &date_bin,
        6178);
  r.add("jsonb_strip_nulls", {Type(TypeId::kJsonb)}, Type(TypeId::kJsonb), &j_strip_nulls, 3228);
  r.add("-", {Type(TypeId::kJsonb), Type(TypeId::kText)}, Type(TypeId::kJsonb), &j_minus_text, 3284);
  r.add("-", {Type(TypeId::kJsonb), Type(TypeId::kInt4)}, Type(TypeId::kJsonb), &j_minus_index, 3286);
  for (auto [name, oid] : {std::pair<std::string_view, uint32_t>{"json_build_object", 3200},
                           std::pair<std::string_view, uint32_t>{"jsonb_build_object", 3271}}) {
    const bool jsonb = oid == 3271;
    auto& f = r.add(name, {Type(TypeId::kText)}, Type(TypeId::kJsonb), jsonb ? &j_build_object<true> : &j_build_object<false>, oid);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
    auto& g = r.add(name, {}, Type(TypeId::kJsonb), jsonb ? &j_build_object<true> : &j_build_object<false>, oid == 3200 ? 3201 : 3272);
    g.volatility = Volatility::kStable;
  }
}

}  // namespace freshet::fn
