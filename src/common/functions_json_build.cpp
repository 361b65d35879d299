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

#include "common/format.hpp"
#include "common/functions_internal.hpp"

namespace freshet::fn {
namespace {

Datum j_build_object(Args a, EvalContext& ctx) {
  if (a.size() % 2 != 0)
    throw SqlError(sqlstate::kInvalidParameterValue, "argument list must have even number of elements")
        .with_hint("The arguments of json_build_object() must consist of alternating keys and values.");
  JsonValue obj;
  obj.kind = JsonValue::Kind::kObject;
  for (size_t k = 0; k < a.size(); k += 2) {
    if (a[k].is_null()) throw SqlError(sqlstate::kNullValueNotAllowed, "null value not allowed for object key");
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
  // jsonb's key order: shorter keys first, then bytewise.
  std::stable_sort(obj.object.begin(), obj.object.end(), [](const auto& x, const auto& y) {
    if (x.first.size() != y.first.size()) return x.first.size() < y.first.size();
    return x.first < y.first;
  });
  std::string out;
  json_write(obj, out);
  return text_result(ctx, out);
}

}  // namespace

void register_json_build_functions(Registry& r) {
  for (auto [name, oid] : {std::pair<std::string_view, uint32_t>{"json_build_object", 3200},
                           std::pair<std::string_view, uint32_t>{"jsonb_build_object", 3271}}) {
    auto& f = r.add(name, {Type(TypeId::kText)}, Type(TypeId::kJsonb), &j_build_object, oid);
    f.variadic = true;
    f.strict = false;
    f.volatility = Volatility::kStable;
    auto& g = r.add(name, {}, Type(TypeId::kJsonb), &j_build_object, oid == 3200 ? 3201 : 3272);
    g.volatility = Volatility::kStable;
  }
}

}  // namespace freshet::fn
