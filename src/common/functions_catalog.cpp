// Catalog functions that psql's \d family and drivers call: pg_get_indexdef,
// pg_get_constraintdef, pg_get_viewdef, pg_get_ruledef and pg_get_expr (through
// EvalContext::catalog), the relation-size functions (Freshet keeps no heap files, so 0),
// pg_size_pretty, the array functions and operators of every array type, and
// the *_is_visible / pg_has_role predicates that are always true in Freshet's single
// search path and single role.

#include "common/functions_catalog.hpp"

#include <algorithm>
#include <string>

#include "common/format.hpp"
#include "common/functions_internal.hpp"

namespace freshet::fn {

namespace {

constexpr Type kText = TypeId::kText;
constexpr Type kName = TypeId::kName;
constexpr Type kOidT = TypeId::kOid;
constexpr Type kRegclassT = TypeId::kRegclass;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kInt8T = TypeId::kInt8;
constexpr Type kBoolT = TypeId::kBool;

uint32_t oid_arg(const Datum& d) { return static_cast<uint32_t>(d.as_int()); }

Datum opt_text(const std::optional<std::string>& s, EvalContext& ctx) { return s ? text_result(ctx, *s) : Datum::null(); }

// pg_get_indexdef(oid) and pg_get_indexdef(oid, column, pretty): column 0 is the whole
// CREATE INDEX statement, column n the n-th key column.
Datum c_get_indexdef(Args a, EvalContext& ctx) {
  if (!ctx.catalog) return Datum::null();
  int64_t col = a.size() > 1 ? a[1].as_int() : 0;
  return opt_text(ctx.catalog->index_definition(oid_arg(a[0]), static_cast<int>(std::clamp<int64_t>(col, -1, 1 << 20))), ctx);
}

Datum c_get_constraintdef(Args a, EvalContext& ctx) {
  return ctx.catalog ? opt_text(ctx.catalog->constraint_definition(oid_arg(a[0])), ctx) : Datum::null();
}

// pretty: PostgreSQL indents the deparsed SELECT; we return the text as written, with the
// leading space and trailing ';' that psql's "View definition:" footer expects.
Datum viewdef_text(const std::optional<std::string>& sql, EvalContext& ctx) {
  if (!sql) return Datum::null();
  std::string s = " " + *sql;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == ';')) s.pop_back();
  s += ";";
  return text_result(ctx, s);
}

Datum c_get_viewdef(Args a, EvalContext& ctx) {
  return ctx.catalog ? viewdef_text(ctx.catalog->view_definition(oid_arg(a[0])), ctx) : Datum::null();
}

Datum c_get_viewdef_name(Args a, EvalContext& ctx) {
  if (!ctx.catalog) return Datum::null();
  auto oid = ctx.catalog->relation_oid(a[0].as_string());
  return oid ? viewdef_text(ctx.catalog->view_definition(*oid), ctx) : Datum::null();
}

Datum c_get_ruledef(Args a, EvalContext& ctx) {
  return ctx.catalog ? opt_text(ctx.catalog->rule_definition(oid_arg(a[0])), ctx) : Datum::null();
}

// pg_get_expr(node_tree, relation): Freshet stores expressions (column defaults in
// pg_attrdef.adbin) as their SQL text, so the text is its own deparse.
Datum c_get_expr(Args a, EvalContext&) { return a[0]; }

Datum c_null(Args, EvalContext&) { return Datum::null(); }
Datum c_true(Args, EvalContext&) { return Datum::from_bool(true); }

template <bool WithUser, bool ByOid>
Datum c_has_role(Args a, EvalContext& ctx) {
  size_t i = 0;
  std::string user = WithUser ? std::string(a[i++].as_string()) : std::string(ctx.current_user);
  const Datum& role = a[i++];
  std::string_view priv = a[i].as_string();
  if (!ctx.catalog) return Datum::from_bool(true);
  if (ByOid) return Datum::from_bool(ctx.catalog->has_privilege('r', user, "", static_cast<uint32_t>(role.as_int()), priv));
  return Datum::from_bool(ctx.catalog->has_privilege('r', user, role.as_string(), 0, priv));
}
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
Datum c_cardinality(Args a, EvalContext&) {
  return Datum::from_int(static_cast<int64_t>(parse_array_literal(a[0].as_string()).size()));
}

// Array equality and concatenation. Arrays are their canonical literal text (elements in
// their type's output form), so equal arrays have equal element texts; NULL elements compare
// equal, as in PostgreSQL's array_eq.
Datum c_array_eq(Args a, EvalContext&) {
  return Datum::from_bool(parse_array_literal(a[0].as_string()) == parse_array_literal(a[1].as_string()));
}
Datum c_array_ne(Args a, EvalContext&) {
  return Datum::from_bool(parse_array_literal(a[0].as_string()) != parse_array_literal(a[1].as_string()));
}
// Not strict: NULL || array is the array, as in PostgreSQL.
Datum c_array_cat(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return a[1];
  if (a[1].is_null()) return a[0];
  auto x = parse_array_literal(a[0].as_string());
  for (auto& e : parse_array_literal(a[1].as_string())) x.push_back(std::move(e));
  std::string out;
  format_array_literal(x, out);
  return text_result(ctx, out);
}

// array_append(array, element) / array_prepend(element, array): the element is formatted by
// the caller's declared type, which is the array's element type.
template <TypeId kElem>
Datum c_array_append(Args a, EvalContext& ctx) {
  std::vector<std::optional<std::string>> x;
  if (!a[0].is_null()) x = parse_array_literal(a[0].as_string());
  if (a[1].is_null()) {
    x.emplace_back(std::nullopt);
  } else {
    x.emplace_back(format_datum(a[1], Type(kElem)));
  }
  std::string out;
  format_array_literal(x, out);
  return text_result(ctx, out);
}
template <TypeId kElem>
Datum c_array_prepend(Args a, EvalContext& ctx) {
  std::vector<std::optional<std::string>> x;
  if (a[0].is_null()) {
    x.emplace_back(std::nullopt);
  } else {
    x.emplace_back(format_datum(a[0], Type(kElem)));
  }
  if (!a[1].is_null())
    for (auto& e : parse_array_literal(a[1].as_string())) x.push_back(std::move(e));
  std::string out;
  format_array_literal(x, out);
  return text_result(ctx, out);
}

// array || element and element || array are not registered as operators: concrete overloads
// would outrank text || text for 'x' || name (PostgreSQL's are polymorphic, which unknown
// literals do not match). The binder maps them to array_append / array_prepend.
template <TypeId kArr, TypeId kElem>
void register_array_type(Registry& r) {
  Type t(kArr);
  r.add("array_upper", {t, kInt4T}, kInt4T, &c_array_upper, 2092);
  r.add("array_lower", {t, kInt4T}, kInt4T, &c_array_lower, 2091);
  r.add("array_length", {t, kInt4T}, kInt4T, &c_array_upper, 2176);
  r.add("cardinality", {t}, kInt4T, &c_cardinality, 3179);
  r.add("=", {t, t}, kBoolT, &c_array_eq, 1070);
  r.add("<>", {t, t}, kBoolT, &c_array_ne, 1071);
  r.add("||", {t, t}, t, &c_array_cat, 375).strict = false;
  r.add("array_cat", {t, t}, t, &c_array_cat, 383).strict = false;
  r.add("array_append", {t, Type(kElem)}, t, &c_array_append<kElem>, 378).strict = false;
  r.add("array_prepend", {Type(kElem), t}, t, &c_array_prepend<kElem>, 379).strict = false;
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
  stable(r.add("pg_stat_get_numscans", {kOidT}, kInt8T, &c_zero, 1928));  // no statistics: DBeaver's index list
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
  // Role membership, answered by the catalog (CatalogAccess::has_privilege, kind 'r').
  stable(r.add("pg_has_role", {kName, kText}, kBoolT, &c_has_role<false, false>, 2709));
  stable(r.add("pg_has_role", {kOidT, kText}, kBoolT, &c_has_role<false, true>, 2710));
  stable(r.add("pg_has_role", {kName, kName, kText}, kBoolT, &c_has_role<true, false>, 2705));
  stable(r.add("pg_has_role", {kName, kOidT, kText}, kBoolT, &c_has_role<true, true>, 2706));
  register_array_type<TypeId::kTextArray, TypeId::kText>(r);
  register_array_type<TypeId::kInt2Array, TypeId::kInt2>(r);
  register_array_type<TypeId::kOidArray, TypeId::kOid>(r);
  register_array_type<TypeId::kInt4Array, TypeId::kInt4>(r);
  register_array_type<TypeId::kInt8Array, TypeId::kInt8>(r);
  register_array_type<TypeId::kNameArray, TypeId::kName>(r);
  register_array_type<TypeId::kBoolArray, TypeId::kBool>(r);
  register_array_type<TypeId::kFloat8Array, TypeId::kFloat8>(r);
  register_array_type<TypeId::kNumericArray, TypeId::kNumeric>(r);
}

}  // namespace freshet::fn
