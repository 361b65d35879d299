// to_jsonb of every stored type, and jsonb_build_array (issue 10).
//
// PostgreSQL's to_jsonb(anyelement) converts by the value's type (datum_to_jsonb in
// src/backend/utils/adt/jsonb.c): booleans and numbers stay JSON booleans and numbers (NaN and
// infinities become strings), jsonb is itself, dates and times are their text in ISO 8601 /
// XSD form (timestamps with a `T`), arrays become JSON arrays of their converted elements, and
// everything else is a JSON string of its text output — char(n) with its padding. Freshet's
// registry has no "anyelement", so there is one overload per type, all sharing
// datum_to_json() below; the binder (Binder::to_jsonb_of) picks the overload or, for a type
// without one, quotes the text output.

#include <string>

#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::fn {
namespace {

void append_json(const Datum& d, TypeId t, std::string& out, EvalContext& ctx);

void append_quoted_text(const Datum& d, TypeId t, std::string& out) {
  json_quote(format_datum(d, Type(t)), out);
}

void append_timestamp(const Datum& d, bool with_tz, std::string& out) {
  // XSD form: a `T` between date and time, a +hh:mm offset; infinities and BC as PostgreSQL.
  std::string s;
  format_timestamp(d.as_int(), with_tz, s);
  // Materialize converts a timestamp to a JSON string of its text output
  // (sql/src/plan/typeconv.rs to_jsonb): "2014-05-28 12:22:35.614298", "...+00".
  if (!materialize_dialect() && !s.empty() && s[0] >= '0' && s[0] <= '9') {
    size_t sp = s.find(' ');
    if (sp != std::string::npos) s[sp] = 'T';
    if (with_tz) {
      // Freshet prints timestamptz in UTC: "+00", before a possible " BC".
      size_t z = s.find("+00");
      if (z != std::string::npos && (z + 3 == s.size() || s[z + 3] == ' ')) s.insert(z + 3, ":00");
    }
  }
  json_quote(s, out);
}

void append_array(const Datum& d, TypeId t, std::string& out, EvalContext& ctx) {
  TypeId elem = *array_element_type(t);
  std::vector<Datum> elems = array_elements(d.as_string(), t, *ctx.arena);
  out.push_back('[');
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i > 0) out += ",";  // respaced by json_write
    append_json(elems[i], elem, out, ctx);
  }
  out.push_back(']');
}

void append_json(const Datum& d, TypeId t, std::string& out, EvalContext& ctx) {
  if (d.is_null()) {
    out += "null";
    return;
  }
  switch (t) {
    case TypeId::kBool:
      out += d.as_bool() ? "true" : "false";
      return;
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
      out += std::to_string(d.as_int());
      return;
    case TypeId::kNumeric: {
      Numeric n = d.as_numeric();
      if (n.is_nan()) {
        out += "\"NaN\"";
        return;
      }
      out += numeric_to_string(n);
      return;
    }
    case TypeId::kFloat4:
    case TypeId::kFloat8: {
      std::string s = format_datum(d, Type(t));
      // NaN, Infinity, -Infinity are not JSON numbers: PostgreSQL makes them strings.
      if (s == "NaN" || s == "Infinity" || s == "-Infinity") json_quote(s, out);
      else out += s;
      return;
    }
    case TypeId::kJsonb:
      out += d.as_string();
      return;
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:  // stored padded: to_jsonb('a'::char(3)) is "a  "
    case TypeId::kName:
      json_quote(d.as_string(), out);
      return;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      append_timestamp(d, t == TypeId::kTimestampTz, out);
      return;
    default:
      if (is_array_type(t) && t != TypeId::kInt2Vector && t != TypeId::kOidVector) {
        append_array(d, t, out, ctx);
        return;
      }
      append_quoted_text(d, t, out);
      return;
  }
}

// One entry point per argument type (ScalarFn carries no type).
template <TypeId T>
Datum to_jsonb_of(Args a, EvalContext& ctx) {
  std::string s;
  append_json(a[0], T, s, ctx);
  // Canonical jsonb text (spacing, number form) through the jsonb parser.
  JsonValue v = json_parse(s);
  std::string out;
  json_write(v, out);
  return text_result(ctx, out);
}

// jsonb_build_array(VARIADIC "any"): the binder passes each argument as the text of its jsonb
// (Binder::jsonb_text_of), SQL NULL as NULL (JSON null).
Datum j_build_array(Args a, EvalContext& ctx) {
  JsonValue arr;
  arr.kind = JsonValue::Kind::kArray;
  for (const Datum& d : a) {
    JsonValue v;
    if (!d.is_null()) v = json_parse(d.as_string());
    arr.array.push_back(std::move(v));
  }
  std::string out;
  json_write(arr, out);
  return text_result(ctx, out);
}

}  // namespace

void register_to_jsonb_functions(Registry& r) {
  const Type kJsonbT(TypeId::kJsonb);
  // PostgreSQL's to_jsonb is one function (oid 3787) over anyelement.
  auto add = [&](TypeId t, ScalarFn fn) { r.add("to_jsonb", {Type(t)}, kJsonbT, fn, 3787).volatility = Volatility::kStable; };
  add(TypeId::kBool, &to_jsonb_of<TypeId::kBool>);
  add(TypeId::kInt2, &to_jsonb_of<TypeId::kInt2>);
  add(TypeId::kInt4, &to_jsonb_of<TypeId::kInt4>);
  add(TypeId::kInt8, &to_jsonb_of<TypeId::kInt8>);
  add(TypeId::kNumeric, &to_jsonb_of<TypeId::kNumeric>);
  add(TypeId::kFloat4, &to_jsonb_of<TypeId::kFloat4>);
  add(TypeId::kFloat8, &to_jsonb_of<TypeId::kFloat8>);
  add(TypeId::kJsonb, &to_jsonb_of<TypeId::kJsonb>);
  add(TypeId::kVarchar, &to_jsonb_of<TypeId::kVarchar>);
  add(TypeId::kBpchar, &to_jsonb_of<TypeId::kBpchar>);
  add(TypeId::kName, &to_jsonb_of<TypeId::kName>);
  add(TypeId::kBytea, &to_jsonb_of<TypeId::kBytea>);
  add(TypeId::kDate, &to_jsonb_of<TypeId::kDate>);
  add(TypeId::kTime, &to_jsonb_of<TypeId::kTime>);
  add(TypeId::kTimestamp, &to_jsonb_of<TypeId::kTimestamp>);
  add(TypeId::kTimestampTz, &to_jsonb_of<TypeId::kTimestampTz>);
  add(TypeId::kInterval, &to_jsonb_of<TypeId::kInterval>);
  add(TypeId::kUuid, &to_jsonb_of<TypeId::kUuid>);
  add(TypeId::kTextArray, &to_jsonb_of<TypeId::kTextArray>);
  add(TypeId::kInt2Array, &to_jsonb_of<TypeId::kInt2Array>);
  add(TypeId::kInt4Array, &to_jsonb_of<TypeId::kInt4Array>);
  add(TypeId::kInt8Array, &to_jsonb_of<TypeId::kInt8Array>);
  add(TypeId::kOidArray, &to_jsonb_of<TypeId::kOidArray>);
  add(TypeId::kNameArray, &to_jsonb_of<TypeId::kNameArray>);
  add(TypeId::kBoolArray, &to_jsonb_of<TypeId::kBoolArray>);
  add(TypeId::kFloat8Array, &to_jsonb_of<TypeId::kFloat8Array>);
  add(TypeId::kNumericArray, &to_jsonb_of<TypeId::kNumericArray>);

  for (std::string_view name : {"jsonb_build_array", "json_build_array"}) {
    auto& f = r.add(name, {Type(TypeId::kText)}, kJsonbT, &j_build_array, name == "jsonb_build_array" ? 3271 : 3198);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
    auto& g = r.add(name, {}, kJsonbT, &j_build_array, name == "jsonb_build_array" ? 3272 : 3199);
    g.volatility = Volatility::kStable;
  }
}

}  // namespace freshet::fn
