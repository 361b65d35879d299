// Catalog functions that psql's \d family and drivers call: pg_get_indexdef,
// pg_get_constraintdef, pg_get_viewdef, pg_get_ruledef and pg_get_expr (texts that the
// server's pg_catalog relations publish, see functions_catalog.hpp), the relation-size
// functions (Freshet keeps no heap files, so 0), pg_size_pretty, array_upper/array_lower, and
// the *_is_visible / pg_has_role predicates that are always true in Freshet's single
// search path and single role.

#include "common/functions_catalog.hpp"

#include <mutex>
#include <string>

#include "common/format.hpp"
#include "common/functions_internal.hpp"

namespace freshet::fn {

namespace {

std::mutex texts_mu;
std::shared_ptr<const CatalogTexts> texts;  // guarded by texts_mu

}  // namespace

void publish_catalog_texts(std::shared_ptr<const CatalogTexts> t) {
  std::lock_guard lock(texts_mu);
  texts = std::move(t);
}

std::shared_ptr<const CatalogTexts> current_catalog_texts() {
  std::lock_guard lock(texts_mu);
  return texts;
}

namespace {

constexpr Type kText = TypeId::kText;
constexpr Type kName = TypeId::kName;
constexpr Type kOidT = TypeId::kOid;
constexpr Type kRegclassT = TypeId::kRegclass;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kInt8T = TypeId::kInt8;
constexpr Type kBoolT = TypeId::kBool;
constexpr Type kTextArr = TypeId::kTextArray;
constexpr Type kInt2Arr = TypeId::kInt2Array;
constexpr Type kOidArr = TypeId::kOidArray;

uint32_t oid_arg(const Datum& d) { return static_cast<uint32_t>(d.as_int()); }

template <typename Map>
Datum lookup_text(const Map& m, uint32_t oid, EvalContext& ctx) {
  auto it = m.find(oid);
  if (it == m.end()) return Datum::null();
  return text_result(ctx, it->second);
}

// pg_get_indexdef(oid) and pg_get_indexdef(oid, column, pretty): column 0 is the whole
// CREATE INDEX statement, column n the n-th key column.
Datum c_get_indexdef(Args a, EvalContext& ctx) {
  auto t = current_catalog_texts();
  if (!t) return Datum::null();
  auto it = t->indexes.find(oid_arg(a[0]));
  if (it == t->indexes.end()) return Datum::null();
  int64_t col = a.size() > 1 ? a[1].as_int() : 0;
  if (col == 0) return text_result(ctx, it->second.definition);
  if (col < 0 || col > static_cast<int64_t>(it->second.columns.size())) return text_result(ctx, "");
  return text_result(ctx, it->second.columns[static_cast<size_t>(col - 1)]);
}

Datum c_get_constraintdef(Args a, EvalContext& ctx) {
  auto t = current_catalog_texts();
  return t ? lookup_text(t->constraints, oid_arg(a[0]), ctx) : Datum::null();
}

// pretty: PostgreSQL indents the deparsed SELECT; we return the text as written, with the
// leading space and trailing ';' that psql's "View definition:" footer expects.
Datum viewdef_text(const std::string& sql, EvalContext& ctx) {
  std::string s = " " + sql;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == ';')) s.pop_back();
  s += ";";
  return text_result(ctx, s);
}

Datum c_get_viewdef(Args a, EvalContext& ctx) {
  auto t = current_catalog_texts();
  if (!t) return Datum::null();
  auto it = t->views.find(oid_arg(a[0]));
  return it == t->views.end() ? Datum::null() : viewdef_text(it->second, ctx);
}

Datum c_get_viewdef_name(Args a, EvalContext& ctx) {
  auto t = current_catalog_texts();
  if (!t) return Datum::null();
  auto n = t->views_by_name.find(std::string(a[0].as_string()));
  if (n == t->views_by_name.end()) return Datum::null();
  auto it = t->views.find(n->second);
  return it == t->views.end() ? Datum::null() : viewdef_text(it->second, ctx);
}

Datum c_get_ruledef(Args a, EvalContext& ctx) {
  auto t = current_catalog_texts();
  return t ? lookup_text(t->rules, oid_arg(a[0]), ctx) : Datum::null();
}

// pg_get_expr(node_tree, relation): Freshet stores expressions (column defaults in
// pg_attrdef.adbin) as their SQL text, so the text is its own deparse.
Datum c_get_expr(Args a, EvalContext&) { return a[0]; }

Datum c_null(Args, EvalContext&) { return Datum::null(); }
Datum c_true(Args, EvalContext&) { return Datum::from_bool(true); }
Datum c_false(Args, EvalContext&) { return Datum::from_bool(false); }
Datum c_zero(Args, EvalContext&) { return Datum::from_int(0); }
Datum c_empty(Args, EvalContext& ctx) { return text_result(ctx, ""); }
Datum c_utf8(Args, EvalContext&) { return Datum::from_int(6); }

// pg_size_pretty(bigint): PostgreSQL's dbsize.c: halve-rounding through bytes, kB, MB, GB,
// TB, PB with a limit of 10 * 1024 before moving up a unit.
Datum c_size_pretty(Args a, EvalContext& ctx) {
  int64_t size = a[0].as_int();
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB"};
  constexpr int64_t kLimit = 10 * 1024;
  constexpr int64_t kLimit2 = kLimit * 2 - 1;
  if ((size < 0 ? -size : size) < kLimit) return text_result(ctx, std::to_string(size) + " bytes");
  size >>= 9;  // half-units of kB
  for (size_t u = 0; u < std::size(kUnits); ++u) {
    bool last = u + 1 == std::size(kUnits);
    if (last || (size < 0 ? -size : size) < kLimit2) {
      int64_t v = (size + (size < 0 ? 0 : 1)) / 2;  // round half away from zero (positive sizes)
      if (size < 0) v = -((-size + 1) / 2);
      return text_result(ctx, std::to_string(v) + " " + kUnits[u]);
    }
    size >>= 10;
  }
  return text_result(ctx, std::to_string(size) + " PB");
}

// array_upper/array_lower of a one-dimensional array literal: NULL when empty or dim != 1.
Datum c_array_upper(Args a, EvalContext&) {
  if (a[1].as_int() != 1) return Datum::null();
  auto n = parse_array_literal(a[0].as_string()).size();
  return n == 0 ? Datum::null() : Datum::from_int(static_cast<int64_t>(n));
}
Datum c_array_lower(Args a, EvalContext&) {
  if (a[1].as_int() != 1) return Datum::null();
  return parse_array_literal(a[0].as_string()).empty() ? Datum::null() : Datum::from_int(1);
}

// Array equality and concatenation, which psql's catalog queries use on catalog arrays
// (pg_policy.polroles = '{0}', reloptions || array(...)). Arrays are their literal text;
// NULL elements compare equal, as in PostgreSQL's array_eq.
Datum c_array_eq(Args a, EvalContext&) {
  return Datum::from_bool(parse_array_literal(a[0].as_string()) == parse_array_literal(a[1].as_string()));
}
Datum c_array_ne(Args a, EvalContext&) {
  return Datum::from_bool(parse_array_literal(a[0].as_string()) != parse_array_literal(a[1].as_string()));
}
Datum c_array_cat(Args a, EvalContext& ctx) {
  auto x = parse_array_literal(a[0].as_string());
  for (auto& e : parse_array_literal(a[1].as_string())) x.push_back(std::move(e));
  std::string out;
  format_array_literal(x, out);
  return text_result(ctx, out);
}

}  // namespace

void register_catalog_functions(Registry& r) {
  auto stable = [](FunctionImpl& f) { f.volatility = Volatility::kStable; };
  stable(r.add("pg_get_indexdef", {kOidT}, kText, &c_get_indexdef, 1643));
  stable(r.add("pg_get_indexdef", {kOidT, kInt4T, kBoolT}, kText, &c_get_indexdef, 2507));
  stable(r.add("pg_get_constraintdef", {kOidT}, kText, &c_get_constraintdef, 1387));
  stable(r.add("pg_get_constraintdef", {kOidT, kBoolT}, kText, &c_get_constraintdef, 2508));
  stable(r.add("pg_get_viewdef", {kOidT}, kText, &c_get_viewdef, 1641));
  stable(r.add("pg_get_viewdef", {kOidT, kBoolT}, kText, &c_get_viewdef, 2506));
  stable(r.add("pg_get_viewdef", {kOidT, kInt4T}, kText, &c_get_viewdef, 3159));
  stable(r.add("pg_get_viewdef", {kText}, kText, &c_get_viewdef_name, 1640));
  stable(r.add("pg_get_viewdef", {kText, kBoolT}, kText, &c_get_viewdef_name, 2505));
  stable(r.add("pg_get_ruledef", {kOidT}, kText, &c_get_ruledef, 1573));
  stable(r.add("pg_get_ruledef", {kOidT, kBoolT}, kText, &c_get_ruledef, 2504));
  stable(r.add("pg_get_expr", {kText, kOidT}, kText, &c_get_expr, 1716));
  stable(r.add("pg_get_expr", {kText, kOidT, kBoolT}, kText, &c_get_expr, 2509));
  // Objects Freshet does not have: their deparse functions answer NULL.
  stable(r.add("pg_get_statisticsobjdef_columns", {kOidT}, kText, &c_null, 6174));
  stable(r.add("pg_get_statisticsobjdef", {kOidT}, kText, &c_null, 3415));
  stable(r.add("pg_get_triggerdef", {kOidT}, kText, &c_null, 1662));
  stable(r.add("pg_get_triggerdef", {kOidT, kBoolT}, kText, &c_null, 2730));
  stable(r.add("pg_get_functiondef", {kOidT}, kText, &c_null, 2098));
  stable(r.add("pg_get_function_result", {kOidT}, kText, &c_null, 2165));
  stable(r.add("pg_get_function_arguments", {kOidT}, kText, &c_null, 2162));
  stable(r.add("pg_get_function_identity_arguments", {kOidT}, kText, &c_null, 2232));
  stable(r.add("pg_get_partkeydef", {kOidT}, kText, &c_null, 3352));
  stable(r.add("pg_get_partition_constraintdef", {kOidT}, kText, &c_null, 3408));
  stable(r.add("pg_get_serial_sequence", {kText, kText}, kText, &c_null, 1665));
  stable(r.add("pg_relation_is_publishable", {kRegclassT}, kBoolT, &c_false, 6121));
  // Sizes: Freshet's tables are in memory and its collections are logs; no heap files.
  for (std::string_view n : {"pg_relation_size", "pg_table_size", "pg_total_relation_size", "pg_indexes_size"})
    stable(r.add(n, {kRegclassT}, kInt8T, &c_zero));
  stable(r.add("pg_relation_size", {kRegclassT, kText}, kInt8T, &c_zero, 2332));
  stable(r.add("pg_database_size", {kName}, kInt8T, &c_zero, 2168));
  stable(r.add("pg_database_size", {kOidT}, kInt8T, &c_zero, 2324));
  r.add("pg_size_pretty", {kInt8T}, kText, &c_size_pretty, 2288);
  stable(r.add("pg_tablespace_location", {kOidT}, kText, &c_empty, 3778));
  stable(r.add("pg_is_in_recovery", {}, kBoolT, &c_false, 3810));
  stable(r.add("pg_char_to_encoding", {kName}, kInt4T, &c_utf8, 1264));
  for (std::string_view n : {"pg_collation_is_visible", "pg_opclass_is_visible", "pg_opfamily_is_visible",
                             "pg_operator_is_visible", "pg_conversion_is_visible", "pg_statistics_obj_is_visible",
                             "pg_ts_config_is_visible", "pg_ts_dict_is_visible", "pg_ts_parser_is_visible",
                             "pg_ts_template_is_visible"})
    stable(r.add(n, {kOidT}, kBoolT, &c_true));
  // One role, a superuser: it has every role's privileges.
  stable(r.add("pg_has_role", {kName, kText}, kBoolT, &c_true, 2709));
  stable(r.add("pg_has_role", {kOidT, kText}, kBoolT, &c_true, 2710));
  stable(r.add("pg_has_role", {kName, kName, kText}, kBoolT, &c_true, 2705));
  stable(r.add("pg_has_role", {kName, kOidT, kText}, kBoolT, &c_true, 2706));
  for (Type t : {kTextArr, kInt2Arr, kOidArr}) {
    r.add("array_upper", {t, kInt4T}, kInt4T, &c_array_upper, 2092);
    r.add("array_lower", {t, kInt4T}, kInt4T, &c_array_lower, 2091);
    r.add("=", {t, t}, kBoolT, &c_array_eq, 1070);
    r.add("<>", {t, t}, kBoolT, &c_array_ne, 1071);
    r.add("||", {t, t}, t, &c_array_cat, 375);
    r.add("array_cat", {t, t}, t, &c_array_cat, 383);
  }
}

}  // namespace freshet::fn
