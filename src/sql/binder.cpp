#include "sql/binder.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "common/sql_dialect.hpp"
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/sql_dialect.hpp"
#include "common/numeric.hpp"
#include "common/stack_guard.hpp"
#include "dataflow/eval.hpp"
#include "sql/lower.hpp"
#include "sql/mutually_recursive.hpp"
#include "sql/mz_syntax.hpp"
#include "sql/sql_tokens.hpp"
#include "sql/resolve.hpp"

namespace freshet::sql {

using dataflow::ScalarKind;

namespace {

constexpr uint32_t kAggLevel = 0xffffffffu;
// Placeholder level of a window function's result while a select list is bound (replaced by
// the kWindow node's column before the query is finished).
constexpr uint32_t kWindowLevel = 0xfffffffeu;

int loc(int32_t l) { return l >= 0 ? l + 1 : 0; }

std::string str_of(const PgQuery__Node* n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_STRING) return n->string->sval;
  return "";
}

// The names a FROM item makes visible to qualified references (PostgreSQL's refnames) and where
// they are written: an alias, else an unqualified table or WITH name; a join with an alias
// shows only the alias, a USING alias adds its own. Schema-qualified names without an alias
// are left out (PostgreSQL tells them apart by relation).
void from_refnames(const PgQuery__Node* n, std::vector<std::pair<std::string, int>>& out) {
  auto alias_of = [](const PgQuery__Alias* a) { return a && a->aliasname && *a->aliasname ? std::string(a->aliasname) : std::string(); };
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
      const auto* rv = n->range_var;
      if (std::string a = alias_of(rv->alias); !a.empty()) out.emplace_back(a, loc(rv->location));
      else if ((!rv->schemaname || !*rv->schemaname) && rv->relname) out.emplace_back(rv->relname, loc(rv->location));
      return;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
      if (std::string a = alias_of(n->range_subselect->alias); !a.empty()) out.emplace_back(a, 0);
      return;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
      if (std::string a = alias_of(n->range_function->alias); !a.empty()) out.emplace_back(a, 0);
      return;
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
      const auto* j = n->join_expr;
      if (std::string a = alias_of(j->alias); !a.empty()) {
        out.emplace_back(a, 0);
        return;
      }
      if (j->larg) from_refnames(j->larg, out);
      if (j->rarg) from_refnames(j->rarg, out);
      if (std::string a = alias_of(j->join_using_alias); !a.empty()) out.emplace_back(a, 0);
      return;
    }
    default:
      return;
  }
}

// The last element of a qualified name list, e.g. ["pg_catalog", "+"] -> "+".
std::string last_name(PgQuery__Node** names, size_t n) { return n ? str_of(names[n - 1]) : ""; }

// information_schema._pg_expandarray(a) as a whole is a record (x, n): its value is the record's
// text "(x,n)" and its typmod kExpandRecordTypmod + x's TypeId, so that (r).x and (r).n can be
// read back (pgJDBC's getPrimaryKeys selects the record in a subquery and reads (keys).x).
constexpr int32_t kExpandRecordTypmod = 1 << 20;


[[noreturn]] void unsupported(const std::string& what, int position = 0) {
  throw SqlError(sqlstate::kFeatureNotSupported, what + " is not supported", position);
}

// Sorting compares encoded datums (common/datum.cpp compare_datums), and a tsrange, an array
// and a jsonb value are encoded as their text, whose byte order is not PostgreSQL's order
// (`{10}` before `{9}`; jsonb's strings < numbers < booleans < arrays < objects): refused
// rather than sorted wrongly.
// GREATEST/LEAST compare the same way (what names the construct in the message).
void check_orderable(Type t, int position, std::string_view what = "ORDER BY") {
  std::string w(what);
  if (t.id == TypeId::kTsRange) unsupported(w + " over tsrange values", position);
  if (is_array_type(t.id)) unsupported(w + " over array values", position);
  if (t.id == TypeId::kJsonb) unsupported(w + " over jsonb values", position);
  if (t.id == TypeId::kList) unsupported(w + " over list values", position);
  // Records compare field by field in PostgreSQL; their text's bytes do not.
  if (t.id == TypeId::kRecord) unsupported(w + " over record values", position);
}

Arena& binder_arena() {
  thread_local Arena arena;
  return arena;
}

// ---- mz_now() (temporal filters), Materialize's rules -----------------------------------------

constexpr const char* kTemporalHint =
    "mz_now() may only be compared (=, <, <=, >, >=, BETWEEN) with an expression that does not "
    "contain mz_now(), in a condition ANDed with the rest of a WHERE or HAVING clause.";

bool is_bare_mz_now(const HExpr& e) { return e.kind == HExprKind::kScalar && e.op == ScalarKind::kMzNow && e.args.empty(); }
bool is_temporal_predicate(const HExpr& e) { return e.kind == HExprKind::kScalar && e.op == ScalarKind::kMzNow && e.args.size() == 1; }

bool contains_mz_now(const HExpr& e) {
  if (e.kind == HExprKind::kScalar && e.op == ScalarKind::kMzNow) return true;
  for (const auto& a : e.args)
    if (contains_mz_now(a)) return true;
  return false;
}

}  // namespace

HExpr Binder::plain_nested_temporal(HExpr e, bool top) {
  if (is_temporal_predicate(e)) {
    if (top) return e;
    static const char* const kOps[] = {"=", "<", "<=", ">", ">="};
    const char* op = kOps[static_cast<int>(e.column)];
    HExpr other = std::move(e.args[0]);
    // Both sides as exact numbers of milliseconds since the Unix epoch, as the temporal filter
    // reads them: timestamps and dates through extract(epoch ...) (numeric, with the
    // microseconds; timestamp and date as UTC), numbers as they are.
    HExpr left = coerce(HExpr::make(ScalarKind::kMzNow, {}, Type(TypeId::kInt8)), Type(TypeId::kNumeric), CastContext::kExplicit);
    TypeId t = other.type.id;
    if (t == TypeId::kTimestamp || t == TypeId::kTimestampTz || t == TypeId::kDate) {
      std::vector<Type> ts{Type(TypeId::kText), other.type};
      ResolvedCall q = resolve_function("extract", ts, 0);
      std::vector<HExpr> a;
      a.push_back(HExpr::literal_of(Datum::from_string("epoch"), Type(TypeId::kText)));
      a.push_back(std::move(other));
      HExpr seconds = HExpr::call(q.impl, std::move(a), q.result_type);
      other = make_operator("*", std::move(seconds), HExpr::literal_of(Datum::from_int(1000), Type(TypeId::kInt4)), 0);
    }
    return make_operator(op, std::move(left), std::move(other), 0);
  }
  bool and_here = top && e.kind == HExprKind::kScalar && e.op == ScalarKind::kAnd;
  for (auto& a : e.args) a = plain_nested_temporal(std::move(a), and_here);
  return e;
}

namespace {

// A WHERE or HAVING predicate: mz_now() only in temporal predicates (mz_now() op expr).
void check_temporal_conjuncts(const HExpr& e, bool top, const char* clause) {
  // Temporal predicates that are not top-level conjuncts are made plain comparisons
  // afterwards (Binder::plain_nested_temporal).
  if (is_temporal_predicate(e)) return;
  if (is_bare_mz_now(e))
    throw SqlError(sqlstate::kFeatureNotSupported,
                   std::string("unsupported temporal predicate in ") + clause + ": mz_now() must be directly compared to an expression")
        .with_hint(kTemporalHint);
  bool and_here = top && e.kind == HExprKind::kScalar && e.op == ScalarKind::kAnd;
  for (const auto& a : e.args) check_temporal_conjuncts(a, and_here, clause);
}

}  // namespace

std::string lower_ident(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool operator==(const HExpr& a, const HExpr& b) {
  if (a.kind != b.kind || !(a.type.id == b.type.id)) return false;
  switch (a.kind) {
    case HExprKind::kColumn:
      return a.level == b.level && a.column == b.column;
    case HExprKind::kExists:
    case HExprKind::kSubquery:
      return a.subquery == b.subquery;
    case HExprKind::kScalar:
      return a.op == b.op && a.fn == b.fn && a.column == b.column && a.literal == b.literal && a.args == b.args;
  }
  return false;
}

static bool rel_refers_outside(const HRel& r, uint32_t depth);

// `t.c` with no column c in t (or no t): PostgreSQL's words, or Materialize's under its dialect.
[[noreturn]] static void qualified_column_missing(const std::string& table, const std::string& name, int pos) {
  if (materialize_dialect())
    throw SqlError(sqlstate::kUndefinedColumn, "column \"" + table + "." + name + "\" does not exist", pos);
  throw SqlError(sqlstate::kUndefinedColumn, "column " + table + "." + name + " does not exist", pos);
}

// A column of the current query (level 0) anywhere in e; a subquery counts as one (its own
// references are not followed), so that an aggregate over one is never taken for outer-only.
static bool refers_to_level0(const HExpr& e) {
  if (e.kind == HExprKind::kColumn) return e.level == 0;
  if (e.subquery) return true;
  for (const auto& a : e.args)
    if (refers_to_level0(a)) return true;
  return false;
}

bool HExpr::refers_outside(uint32_t depth) const {
  if (kind == HExprKind::kColumn) return level < kWindowLevel && level >= depth;
  if (subquery && rel_refers_outside(*subquery, depth + 1)) return true;
  for (const auto& a : args)
    if (a.refers_outside(depth)) return true;
  return false;
}

bool HExpr::contains_subquery() const {
  if (kind == HExprKind::kExists || kind == HExprKind::kSubquery) return true;
  for (const auto& a : args)
    if (a.contains_subquery()) return true;
  return false;
}

static bool rel_refers_outside(const HRel& r, uint32_t depth) {
  for (size_t i = 0; i < r.inputs.size(); ++i)
    // A LATERAL right side sees the left side as its level 1.
    if (rel_refers_outside(*r.inputs[i], r.kind == HRelKind::kLateral && i == 1 ? depth + 1 : depth)) return true;
  for (const auto& e : r.exprs)
    if (e.refers_outside(depth)) return true;
  for (const auto& e : r.group_key)
    if (e.refers_outside(depth)) return true;
  for (const auto& a : r.aggregates)
    for (const auto& e : a.args)
      if (e.refers_outside(depth)) return true;
  for (const auto& row : r.rows)
    for (const auto& e : row)
      if (e.refers_outside(depth)) return true;
  return false;
}

bool HRel::refers_outside(uint32_t depth) const { return rel_refers_outside(*this, depth); }

static void shift_rel(HRel& r, int delta, uint32_t min_level);

HExpr shift_levels(const HExpr& e, int delta, uint32_t min_level) {
  HExpr r = e;
  if (r.kind == HExprKind::kColumn) {
    if (r.level < kWindowLevel && r.level >= min_level) r.level = static_cast<uint32_t>(static_cast<int>(r.level) + delta);
    return r;
  }
  for (auto& a : r.args) a = shift_levels(a, delta, min_level);
  if (r.subquery && r.subquery->refers_outside(min_level + 1)) {
    auto copy = std::make_shared<HRel>(*r.subquery);
    shift_rel(*copy, delta, min_level + 1);
    r.subquery = copy;
  }
  return r;
}

static void shift_rel(HRel& r, int delta, uint32_t min_level) {
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    auto& in = r.inputs[i];
    uint32_t m = r.kind == HRelKind::kLateral && i == 1 ? min_level + 1 : min_level;
    if (in->refers_outside(m)) {
      auto copy = std::make_shared<HRel>(*in);
      shift_rel(*copy, delta, m);
      in = copy;
    }
  }
  for (auto& e : r.exprs) e = shift_levels(e, delta, min_level);
  for (auto& e : r.group_key) e = shift_levels(e, delta, min_level);
  for (auto& a : r.aggregates)
    for (auto& e : a.args) e = shift_levels(e, delta, min_level);
  for (auto& row : r.rows)
    for (auto& e : row) e = shift_levels(e, delta, min_level);
}

void check_column_aliases(const BoundQuery& q, size_t n_aliases, bool view) {
  if (n_aliases <= q.column_names.size()) return;
  throw SqlError(sqlstate::kSyntaxError,
                 view ? "CREATE VIEW specifies more column names than columns" : "too many column names were specified");
}

Type type_of_type_object(const ObjectInfo& o) {
  std::string shown = o.schema == "public" ? o.name : o.schema + "." + o.name;
  if (o.columns.size() == 1 && o.columns[0].name == kListElementField)
    return named_list_type_of(o.columns[0].type, o.oid, shown);
  std::vector<RecordField> fields;
  for (const auto& c : o.columns) fields.push_back({c.name, c.type});
  return record_type_of(fields, o.oid, shown);
}

void collect_named_type_oids(Type t, std::vector<uint32_t>& oids) {
  if (uint32_t oid = named_type_oid(t); oid != 0 && std::find(oids.begin(), oids.end(), oid) == oids.end()) oids.push_back(oid);
  if (t.id == TypeId::kList && t.typmod >= 0) collect_named_type_oids(list_element_type(t), oids);
  if (is_record_value_type(t))
    for (const auto& f : record_fields(t)) collect_named_type_oids(f.type, oids);
}

Binder::Binder(const CatalogView& catalog, std::vector<Type>& param_types)
    : catalog_(catalog), access_(catalog_access(catalog)), param_types_(param_types) {}

void Binder::finish_params() {
  for (auto& t : param_types_)
    if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
}

// ---------------------------------------------------------------------------------------------
// Types and coercion

Type Binder::bind_type(const PgQuery__TypeName* tn) {
  std::string name;
  for (size_t i = 0; i < tn->n_names; ++i) {
    std::string part = str_of(tn->names[i]);
    if (i + 1 < tn->n_names && (part == "pg_catalog" || part == "mz_catalog")) continue;  // mz_catalog.mz_timestamp
    if (!name.empty()) name += ".";
    name += part;
  }
  int pos = loc(tn->location);
  if (name.size() > 5 && name.ends_with(" list") && tn->n_names == 1 && tn->n_array_bounds == 0) {
    // Materialize's `T list`, quoted by mz_syntax.cpp into one name ("int4 list list"): the
    // element type is read by the grammar as the type of a cast.
    std::string elem_text = name.substr(0, name.size() - 5);
    size_t depth = 0;
    for (size_t at = name.find(" list"); at != std::string::npos; at = name.find(" list", at + 1)) ++depth;
    // The grammar cuts identifiers at 63 bytes (NAMEDATALEN - 1): a name that long may have
    // lost part of the type.
    if (depth > 64 || name.size() >= 63)
      throw SqlError(sqlstate::kProgramLimitExceeded, "list type name \"" + name + "\" is too long (at most 62 bytes)", pos);
    std::shared_ptr<ParseTree> tree;
    const PgQuery__TypeName* elem_tn = nullptr;
    if (elem_text.ends_with(" list")) {
      std::string quoted = "\"";
      for (char c : elem_text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      elem_text = quoted + "\"";
    }
    try {
      tree = ParseTree::parse("SELECT NULL::" + elem_text);
    } catch (const SqlError&) {
      throw SqlError(sqlstate::kUndefinedObject, "type \"" + name + "\" does not exist", pos);
    }
    if (tree->size() == 1 && tree->statement(0)->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
      const auto* sel = tree->statement(0)->select_stmt;
      if (sel->n_target_list == 1 && sel->target_list[0]->res_target->val->node_case == PG_QUERY__NODE__NODE_TYPE_CAST)
        elem_tn = sel->target_list[0]->res_target->val->type_cast->type_name;
    }
    if (elem_tn == nullptr) throw SqlError(sqlstate::kUndefinedObject, "type \"" + name + "\" does not exist", pos);
    Type et = bind_type(elem_tn);
    if ((et.id == TypeId::kRecord && !is_record_value_type(et)) || et.id == TypeId::kUnknown) unsupported("lists of " + type_name(et), pos);
    return list_type_of(et);
  }
  if (tn->n_array_bounds > 0) {
    auto elem = sql_type_from_name(name);
    std::optional<TypeId> arr = elem ? array_type_of(*elem) : std::nullopt;
    if (!arr) {
      if (!elem) throw SqlError(sqlstate::kUndefinedObject, "type \"" + name + "\" does not exist", pos);
      unsupported("array type " + name + "[]", pos);
    }
    return Type(*arr);
  }
  auto id = sql_type_from_name(name);
  if (!id || tn->n_names > 1) {
    // A type made by CREATE TYPE: [schema.]name, in the search path like a relation.
    std::string tschema = tn->n_names > 1 ? str_of(tn->names[tn->n_names - 2]) : "";
    std::string tname = str_of(tn->names[tn->n_names - 1]);
    if (!(tschema == "pg_catalog" || tschema == "mz_catalog")) {
      const ObjectInfo* o = catalog_.lookup(tschema, tname);
      if (o != nullptr && o->kind == ObjectKind::kType) {
        if (tn->n_typmods > 0) throw SqlError(sqlstate::kSyntaxError, "type modifier is not allowed for type \"" + name + "\"", pos);
        return type_of_type_object(*o);
      }
      id = std::nullopt;
    }
  }
  if (!id) throw SqlError(sqlstate::kUndefinedObject, "type \"" + name + "\" does not exist", pos);
  int32_t typmod = -1;
  std::vector<int32_t> mods;
  for (size_t i = 0; i < tn->n_typmods; ++i) {
    const auto* n = tn->typmods[i];
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      mods.push_back(n->a_const->ival->ival);
    } else if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_FVAL) {
      // A number the grammar did not take as an integer: PostgreSQL passes its text to the
      // type's typmodin, whose int4 input refuses it.
      const std::string text = n->a_const->fval->fval ? n->a_const->fval->fval : "";
      const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      if (digits)
        throw SqlError(sqlstate::kNumericValueOutOfRange, "value \"" + text + "\" is out of range for type integer", pos);
      throw SqlError(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type integer: \"" + text + "\"", pos);
    } else {
      throw SqlError(sqlstate::kSyntaxError, "type modifiers must be simple constants", pos);
    }
  }
  switch (*id) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
      if (!mods.empty()) {
        // PostgreSQL's MaxAttrSize limit and texts (anychar_typmodin names bpchar "char").
        const std::string shown = *id == TypeId::kBpchar ? "char" : "varchar";
        if (materialize_dialect() && (mods[0] < 1 || mods[0] > 10485760))  // string.slt:1025
          throw SqlError(sqlstate::kInvalidParameterValue,
                         std::string("length for type ") + (*id == TypeId::kBpchar ? "character" : "character varying") +
                             " must be between 1 and 10485760",
                         pos);
        if (mods[0] < 1) throw SqlError(sqlstate::kInvalidParameterValue, "length for type " + shown + " must be at least 1", pos);
        if (mods[0] > 10485760)
          throw SqlError(sqlstate::kInvalidParameterValue, "length for type " + shown + " cannot exceed 10485760", pos);
        typmod = mods[0];
      }
      // `char` without a length is char(1): PostgreSQL's grammar (and so libpg_query's tree)
      // gives it the typmod 1; the type name `bpchar` has none and takes any length.
      break;
    case TypeId::kNumeric:
      if (!mods.empty()) {
        int p = mods[0], s = mods.size() > 1 ? mods[1] : 0;
        // Materialize's limits and words (PostgreSQL allows a precision up to 1000).
        if (p < 1 || p > kNumericMaxDigits)
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "precision for type numeric must be between 1 and " + std::to_string(kNumericMaxDigits), pos);
        if (s < 0 || s > p)
          throw SqlError(sqlstate::kInvalidParameterValue, "scale for type numeric must be between 0 and precision " + std::to_string(p), pos);
        typmod = (p << 16) | s;
      }
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      if (!mods.empty()) {
        // Materialize refuses what PostgreSQL reduces to 6 (dates-times.slt:1462, 1660).
        if (materialize_dialect() && (mods[0] < 0 || mods[0] > 6))
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "precision for type timestamp or timestamptz must be between 0 and 6", pos);
        if (mods[0] < 0)  // anytimestamp_typmod_check
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "TIMESTAMP(" + std::to_string(mods[0]) + ")" +
                             (*id == TypeId::kTimestampTz ? " WITH TIME ZONE" : "") + " precision must not be negative",
                         pos);
        typmod = std::min(mods[0], 6);
      }
      break;
    case TypeId::kTime:
      if (!mods.empty()) typmod = mods[0];
      break;
    case TypeId::kInterval:
      // The grammar gives the qualifier as a range mask (INTERVAL '1' MONTH) and then an
      // optional precision (SECOND(2), interval(3)): PostgreSQL's intervaltypmodin.
      if (!mods.empty()) {
        int32_t range = mods[0], precision = mods.size() > 1 ? mods[1] : kIntervalFullPrecision;
        if (precision != kIntervalFullPrecision && precision < 0)
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "INTERVAL(" + std::to_string(precision) + ") precision must not be negative", pos);
        // Above 6, PostgreSQL warns "precision reduced to maximum allowed, 6" and uses 6;
        // Materialize refuses it.
        if (precision != kIntervalFullPrecision && precision > 6 && materialize_dialect())
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "SECOND precision must be (0, 6), have SECOND(" + std::to_string(precision) + ")", pos);
        if (precision != kIntervalFullPrecision && precision > 6) precision = 6;
        typmod = (range << 16) | precision;
        if (range == kIntervalFullRange && precision == kIntervalFullPrecision) typmod = -1;
      }
      break;
    default:
      break;
  }
  // "timestamp with time zone" arrives as timestamptz already; "float(p)"
  if (*id == TypeId::kFloat8 && !mods.empty() && mods[0] <= 24) return Type(TypeId::kFloat4);
  return Type(*id, typmod);
}

HExpr Binder::bpchar_key(HExpr e) {
  if (e.type.id != TypeId::kBpchar || e.type.typmod >= 0) return e;
  // bpchar -> text drops the trailing blanks (rtrim1), text -> bpchar keeps the rest.
  return coerce(coerce(std::move(e), Type(TypeId::kText), CastContext::kExplicit), Type(TypeId::kBpchar),
                CastContext::kExplicit);
}

HRelPtr Binder::bpchar_keys(HRelPtr rel, const std::vector<bool>& which) {
  auto marked = [&](size_t c) {
    const Type& t = rel->column_types[c];
    return t.id == TypeId::kBpchar && (which.empty() ? t.typmod < 0 : which[c]);
  };
  bool any = false;
  for (size_t c = 0; c < rel->arity(); ++c) any |= marked(c);
  if (!any) return rel;
  auto m = std::make_shared<HRel>();
  m->kind = HRelKind::kMap;
  m->inputs = {rel};
  m->column_types = rel->column_types;
  auto p = std::make_shared<HRel>();
  p->kind = HRelKind::kProject;
  p->inputs = {m};
  for (size_t c = 0; c < rel->arity(); ++c) {
    if (!marked(c)) {
      p->columns.push_back(static_cast<uint32_t>(c));
      p->column_types.push_back(rel->column_types[c]);
      continue;
    }
    HExpr col = HExpr::column_ref(0, static_cast<uint32_t>(c), Type(TypeId::kBpchar));
    HExpr k = bpchar_key(std::move(col));
    p->columns.push_back(static_cast<uint32_t>(m->column_types.size()));
    p->column_types.push_back(k.type);
    m->column_types.push_back(k.type);
    m->exprs.push_back(std::move(k));
  }
  return p;
}

HExpr Binder::coerce(HExpr e, Type t, CastContext ctx, int position, std::string_view what) {
  if (e.type.id == t.id && (t.typmod < 0 || e.type.typmod == t.typmod)) return e;
  if (t.id == TypeId::kUnknown) return e;
  if (e.kind == HExprKind::kScalar && e.op == ScalarKind::kParam && e.type.id == TypeId::kUnknown) {
    param_types_[e.column] = t;
    e.type = t;
    return e;
  }
  if (e.is_literal() && e.type.id == TypeId::kUnknown) {
    Datum d = e.literal.get(0);
    if (d.is_null()) return HExpr::literal_of(Datum::null(), t);
    Arena& arena = binder_arena();
    try {
      Datum v;
      if (is_reg_type(t.id)) {
        // A name: looked up in the catalog now ('t'::regclass, pg_relation_size('t')).
        EvalContext ectx;
        ectx.arena = &arena;
        ectx.catalog = access_;
        v = cast_datum(d, Type(TypeId::kText), t, ectx, true);
      } else if (ctx == CastContext::kExplicit && t.typmod >= 0 && t.id != TypeId::kInterval && t.id != TypeId::kList &&
                 t.id != TypeId::kRecord) {
        // An explicit cast applies the modifier as a cast does (varchar(2) truncates), not as
        // input does (which would raise 22001).
        Type base(t.id);
        EvalContext ectx;
        ectx.arena = &arena;
        v = cast_datum(parse_datum(d.as_string(), base, arena), base, t, ectx, true);
      } else {
        v = parse_datum(d.as_string(), t, arena);
      }
      HExpr r = HExpr::literal_of(v, t);
      arena.reset();
      return r;
    } catch (SqlError& err) {
      arena.reset();
      err.with_position(position);
      throw;
    }
  }
  if (e.is_null_literal()) return HExpr::literal_of(Datum::null(), t);
  if (is_record_value_type(t) && is_record_value_type(e.type)) return coerce_record(std::move(e), t, ctx, position);
  if (t.id == TypeId::kList && e.type.id == TypeId::kList && !list_cast_allowed(e.type, t, ctx)) {
    if (!what.empty())
      throw SqlError(sqlstate::kDatatypeMismatch,
                     std::string(what) + " is of type " + type_name(t) + " but expression is of type " + type_name(e.type), position);
    if (ctx == CastContext::kExplicit)
      throw SqlError(sqlstate::kCannotCoerce, "cannot cast type " + type_name(e.type) + " to " + type_name(t), position);
    throw SqlError(sqlstate::kDatatypeMismatch, "expression of type " + type_name(e.type) + " cannot be used as " + type_name(t), position);
  }
  if (e.type.id == TypeId::kUnknown) {
    // An unknown-typed non-literal (e.g. CASE of unknowns): resolve to text first.
    e.type = Type(TypeId::kText);
    if (t.id == TypeId::kText) return e;
    ctx = CastContext::kExplicit;
  }
  // Materialize types `"char"::varchar` as character (bpchar without a length): its cast
  // function returns VarChar<String>, whose AsColumnType says Char { length: None }
  // (src/repr/src/scalar.rs; char.slt:46). The value is the same one-character string.
  if (materialize_dialect() && ctx == CastContext::kExplicit && e.type.id == TypeId::kChar && t.id == TypeId::kVarchar && t.typmod < 0)
    t = Type(TypeId::kBpchar);
  if (e.type.id == t.id || cast_exists(e.type.id, t.id, ctx)) {
    if (e.is_literal()) {
      // Fold the cast of a constant now, as PostgreSQL's planner does.
      Arena& arena = binder_arena();
      EvalContext ectx;
      ectx.arena = &arena;
      ectx.catalog = access_;
      try {
        Datum v = cast_datum(e.literal.get(0), e.type, t, ectx, ctx == CastContext::kExplicit);
        HExpr r = HExpr::literal_of(v, t);
        arena.reset();
        return r;
      } catch (SqlError& err) {
        arena.reset();
        err.with_position(position);
        throw;
      }
    }
    return HExpr::make(ScalarKind::kCast, {std::move(e)}, t);
  }
  if (!what.empty())
    throw SqlError(sqlstate::kDatatypeMismatch,
                   std::string(what) + " is of type " + type_name(t) + " but expression is of type " + type_name(e.type), position)
        .with_hint("You will need to rewrite or cast the expression.");
  if (ctx == CastContext::kExplicit)
    throw SqlError(sqlstate::kCannotCoerce, "cannot cast type " + type_name(e.type) + " to " + type_name(t), position);
  throw SqlError(sqlstate::kDatatypeMismatch,
                 "expression of type " + type_name(e.type) + " cannot be used as " + type_name(t), position);
}

HExpr Binder::to_bool(HExpr e, const char* clause, int position) {
  if (e.type.id == TypeId::kBool) return e;
  if (e.type.id == TypeId::kUnknown) return coerce(std::move(e), Type(TypeId::kBool), CastContext::kImplicit, position);
  if (materialize_dialect()) {
    // Materialize's words (its CoercibleScalarExpr::type_as; boolean.slt:57, comparison.slt:57).
    std::string_view c = clause;
    if (c == "JOIN/ON") c = "ON";  // Materialize names the join condition "ON clause"
    std::string what = std::string(c) + (c == "NOT" || c == "AND" || c == "OR" ? " argument" : " clause");
    throw SqlError(sqlstate::kDatatypeMismatch, what + " must have type boolean, not type " + type_name(e.type), position);
  }
  throw SqlError(sqlstate::kDatatypeMismatch,
                 std::string("argument of ") + clause + " must be type boolean, not type " + type_name(e.type), position);
}

std::vector<HExpr> Binder::coerce_common(std::vector<HExpr> es, std::string_view context, int position) {
  std::vector<Type> types;
  for (const auto& e : es) types.push_back(e.type);
  Type t = common_type(types, context, position);
  if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
  for (auto& e : es) e = coerce(std::move(e), without_typmod(t), CastContext::kImplicit, position);
  return es;
}

HExpr Binder::make_operator(std::string_view op, std::optional<HExpr> left, HExpr right, int position) {
  // mz_now() op mz_now() is a plain comparison of two mz_timestamp values (Materialize's
  // mztimestamp.slt: `SELECT mz_now() = mz_now()` is true).
  if (left && (is_bare_mz_now(*left) != is_bare_mz_now(right))) {
    // mz_now() op expr: a temporal predicate (hir.hpp), kept apart for lowering.
    static const std::pair<std::string_view, dataflow::TemporalOp> kOps[] = {
        {"=", dataflow::TemporalOp::kEq}, {"<", dataflow::TemporalOp::kLt}, {"<=", dataflow::TemporalOp::kLe},
        {">", dataflow::TemporalOp::kGt}, {">=", dataflow::TemporalOp::kGe}};
    bool now_left = is_bare_mz_now(*left);
    HExpr other = now_left ? std::move(right) : std::move(*left);
    std::optional<dataflow::TemporalOp> top;
    for (const auto& [name, k] : kOps)
      if (name == op) top = k;
    if (!top || contains_mz_now(other))
      throw SqlError(sqlstate::kFeatureNotSupported, "unsupported temporal predicate: mz_now() " + std::string(op) + " ...", position)
          .with_hint(kTemporalHint);
    if (!now_left) {
      // expr op mz_now()  ==  mz_now() flipped(op) expr
      switch (*top) {
        case dataflow::TemporalOp::kLt: top = dataflow::TemporalOp::kGt; break;
        case dataflow::TemporalOp::kLe: top = dataflow::TemporalOp::kGe; break;
        case dataflow::TemporalOp::kGt: top = dataflow::TemporalOp::kLt; break;
        case dataflow::TemporalOp::kGe: top = dataflow::TemporalOp::kLe; break;
        case dataflow::TemporalOp::kEq: break;
      }
    }
    switch (other.type.id) {
      case TypeId::kTimestamp:
      case TypeId::kTimestampTz:
      case TypeId::kDate:
      case TypeId::kInt2:
      case TypeId::kInt4:
      case TypeId::kInt8:
      case TypeId::kNumeric:
        break;
      case TypeId::kMzTimestamp:  // exact milliseconds, compared as numeric (lower.cpp); mz_timestamp
                                  // has no cast to numeric but its text is the number
        other = coerce(std::move(other), Type(TypeId::kText), CastContext::kExplicit, position);
        other = coerce(std::move(other), Type(TypeId::kNumeric), CastContext::kExplicit, position);
        break;
      case TypeId::kUInt4:
      case TypeId::kUInt8:
        other = coerce(std::move(other), Type(TypeId::kNumeric), CastContext::kExplicit, position);
        break;
      case TypeId::kUnknown:
        other = coerce(std::move(other), Type(TypeId::kTimestampTz), CastContext::kImplicit, position);
        break;
      default:
        throw SqlError(sqlstate::kUndefinedFunction,
                       "operator does not exist: mz_timestamp " + std::string(op) + " " + type_name(other.type), position)
            .with_hint("mz_now() compares with timestamp, timestamp with time zone, date and integer or numeric "
                       "(milliseconds since the Unix epoch) expressions.");
    }
    HExpr t = HExpr::make(ScalarKind::kMzNow, {std::move(other)}, Type(TypeId::kBool));
    t.column = static_cast<uint32_t>(*top);
    return t;
  }
  if (left && (left->type.id == TypeId::kList || right.type.id == TypeId::kList)) {
    if (auto r = make_list_operator(op, *left, right, position)) return std::move(*r);
  }
  if (op == "||" && left) {
    // array || element, element || array (PostgreSQL's anycompatible operators).
    bool la = is_array_type(left->type.id), ra = is_array_type(right.type.id);
    auto known = [](const HExpr& e) { return e.type.id != TypeId::kUnknown; };
    if (la && !ra && known(right)) {
      HExpr elem = coerce(std::move(right), Type(*array_element_type(left->type.id)), CastContext::kImplicit, position);
      ResolvedCall rc = resolve_function("array_append", std::vector<Type>{left->type, elem.type}, position);
      return HExpr::call(rc.impl, {std::move(*left), std::move(elem)}, rc.result_type);
    }
    if (ra && !la && known(*left)) {
      HExpr elem = coerce(std::move(*left), Type(*array_element_type(right.type.id)), CastContext::kImplicit, position);
      ResolvedCall rc = resolve_function("array_prepend", std::vector<Type>{elem.type, right.type}, position);
      return HExpr::call(rc.impl, {std::move(elem), std::move(right)}, rc.result_type);
    }
  }
  std::optional<Type> lt;
  if (left) lt = left->type;
  ResolvedCall rc = resolve_operator(op, lt, right.type, position);
  std::vector<HExpr> args;
  size_t i = 0;
  if (left) args.push_back(coerce(std::move(*left), rc.arg_types[i++], CastContext::kImplicit, position));
  args.push_back(coerce(std::move(right), rc.arg_types[i], CastContext::kImplicit, position));
  return HExpr::call(rc.impl, std::move(args), rc.result_type);
}

// Materialize's list operators: list || list, list || element, element || list, and = / <>
// (a list value is its canonical text, so equal lists have equal text). nullopt: not a list
// operator (the operator lookup reports it).
std::optional<HExpr> Binder::make_list_operator(std::string_view op, HExpr& left, HExpr& right, int position) {
  bool ll = left.type.id == TypeId::kList, rl = right.type.id == TypeId::kList;
  if (op == "||") {
    // Materialize's list ||: list || list of the same depth concatenates (an untyped side,
    // NULL or '{2}', is read as a list: LIST[1] || NULL is {1}); a list || a list one layer
    // shallower, or a non-list element, appends (prepends). The result is the list of the
    // common element type (LIST[1::int2] || 2::int8 is a bigint list).
    auto depth = [](Type t) {
      int d = 0;
      for (; t.id == TypeId::kList; t = list_element_type(t)) ++d;
      return d;
    };
    std::vector<HExpr> args;
    args.push_back(std::move(left));
    args.push_back(std::move(right));
    int dl = ll ? depth(args[0].type) : 0, dr = rl ? depth(args[1].type) : 0;
    bool cat = (ll && rl && dl == dr) || (ll && args[1].type.id == TypeId::kUnknown) || (rl && args[0].type.id == TypeId::kUnknown);
    if (cat) return bind_list_function("list_cat", args, position);
    if (ll && (!rl || dr == dl - 1)) return bind_list_function("list_append", args, position);
    if (rl && (!ll || dl == dr - 1)) return bind_list_function("list_prepend", args, position);
    throw SqlError(sqlstate::kUndefinedFunction,
                   "operator does not exist: " + type_name(args[0].type) + " || " + type_name(args[1].type), position);
  }
  if (op == "@>" || op == "<@") {
    // Containment (Materialize, as PostgreSQL's arrays): duplicates do not count; a NULL is
    // contained in no list.
    std::vector<Type> both{left.type, right.type};
    Type t = common_type(both, op, position);
    std::vector<HExpr> args;
    args.push_back(coerce(std::move(op == "@>" ? left : right), t, CastContext::kImplicit, position));
    args.push_back(coerce(std::move(op == "@>" ? right : left), t, CastContext::kImplicit, position));
    HExpr e = HExpr::make(ScalarKind::kListFn, std::move(args), Type(TypeId::kBool));
    e.column = static_cast<uint32_t>(dataflow::ListFn::kContains);
    return e;
  }
  if (op == "=" || op == "<>" || op == "!=") {
    Type t = ll ? left.type : right.type;
    HExpr l = coerce(std::move(left), t, CastContext::kImplicit, position);
    HExpr r = coerce(std::move(right), t, CastContext::kImplicit, position);
    if (l.type != r.type)
      throw SqlError(sqlstate::kUndefinedFunction,
                     "operator does not exist: " + type_name(l.type) + " " + std::string(op) + " " + type_name(r.type), position);
    l = coerce(std::move(l), Type(TypeId::kText), CastContext::kExplicit, position);  // the same bytes: compared as text
    r = coerce(std::move(r), Type(TypeId::kText), CastContext::kExplicit, position);
    ResolvedCall rc = resolve_operator(op == "=" ? "=" : "<>", Type(TypeId::kText), Type(TypeId::kText), position);
    std::vector<HExpr> args;
    args.push_back(std::move(l));
    args.push_back(std::move(r));
    return HExpr::call(rc.impl, std::move(args), rc.result_type);
  }
  return std::nullopt;
}

// LIST[...] (as __mz_list(...), mz_syntax.cpp) and Materialize's list functions; nullopt when
// name is none of them.
std::optional<HExpr> Binder::bind_list_function(std::string_view name, std::vector<HExpr>& args, int pos) {
  auto need_list = [&](size_t i) {
    if (i >= args.size() || args[i].type.id != TypeId::kList) {
      std::string sig(name);
      sig += "(";
      for (size_t k = 0; k < args.size(); ++k) sig += (k ? ", " : "") + type_name(args[k].type);
      throw SqlError(sqlstate::kUndefinedFunction, "function " + sig + ") does not exist", pos);
    }
  };
  auto list_fn = [&](dataflow::ListFn f, Type result) {
    HExpr e = HExpr::make(ScalarKind::kListFn, std::move(args), result);
    e.column = static_cast<uint32_t>(f);
    return e;
  };
  if (name == kListConstructor) {
    if (args.empty())
      throw SqlError(sqlstate::kIndeterminateDatatype, "cannot determine type of empty list", pos)
          .with_hint("Explicitly cast to the desired type, for example LIST[]::integer list.");
    // The elements' common type, with a modifier only when all agree (LIST['a'::varchar(1),
    // 'b'::varchar(2)] is a character varying list; LIST[1.234::numeric(39,2), 2.345] keeps 2.345).
    std::vector<Type> types;
    for (const HExpr& a : args) {
      // Materialize refuses lists of char(n), whose padding the list text would lose.
      if (a.type.id == TypeId::kBpchar) throw SqlError(sqlstate::kFeatureNotSupported, "char list not yet supported", pos);
      types.push_back(a.type);
    }
    Type et = common_type(types, "LIST", pos);
    if (et.id == TypeId::kUnknown) et = Type(TypeId::kText);
    args = coerce_common(std::move(args), "LIST", pos);
    if (et.id == TypeId::kRecord && !is_record_value_type(et)) unsupported("lists of records", pos);
    return HExpr::make(ScalarKind::kArray, std::move(args), list_type_of(et));
  }
  if (name == "list_length") {
    if (args.size() != 1) need_list(99);
    need_list(0);
    return list_fn(dataflow::ListFn::kLength, Type(TypeId::kInt4));
  }
  if (name == "list_append" || name == "list_prepend") {
    size_t li = name == "list_append" ? 0 : 1;
    if (args.size() != 2) need_list(99);
    need_list(li);
    // The list of the common type of the list's elements and the new element.
    Type et = list_element_type(args[li].type);
    if (args[1 - li].type.id != TypeId::kUnknown) {
      std::vector<Type> both{et, args[1 - li].type};
      et = common_type(both, name, pos);
    }
    Type lt = list_type_of(et);
    args[li] = coerce(std::move(args[li]), lt, CastContext::kImplicit, pos);
    args[1 - li] = coerce(std::move(args[1 - li]), et, CastContext::kImplicit, pos);
    return list_fn(name == "list_append" ? dataflow::ListFn::kAppend : dataflow::ListFn::kPrepend, lt);
  }
  if (name == "list_cat") {
    if (args.size() != 2) need_list(99);
    if (args[0].type.id != TypeId::kList && args[1].type.id != TypeId::kList) need_list(0);
    if (args[0].type.id != TypeId::kList && args[0].type.id != TypeId::kUnknown) need_list(0);
    if (args[1].type.id != TypeId::kList && args[1].type.id != TypeId::kUnknown) need_list(1);
    // Both to the list of the elements' common type (int2 list || int8 list is a bigint list).
    std::vector<Type> both{args[0].type, args[1].type};
    Type lt = common_type(both, name, pos);
    args[0] = coerce(std::move(args[0]), lt, CastContext::kImplicit, pos);
    args[1] = coerce(std::move(args[1]), lt, CastContext::kImplicit, pos);
    return list_fn(dataflow::ListFn::kCat, lt);
  }
  if (name == "list_n_layers") {
    if (args.size() != 1) need_list(99);
    if (args[0].type.id == TypeId::kUnknown)
      throw SqlError(sqlstate::kIndeterminateDatatype, "could not determine polymorphic type because input has type unknown", pos);
    need_list(0);
    return list_fn(dataflow::ListFn::kNLayers, Type(TypeId::kInt4));
  }
  if (name == "list_length_max") {
    if (args.size() != 2) need_list(99);
    if (args[0].type.id == TypeId::kUnknown)
      throw SqlError(sqlstate::kIndeterminateDatatype, "could not determine polymorphic type because input has type unknown", pos);
    need_list(0);
    if (!is_integer_type(args[1].type.id) && args[1].type.id != TypeId::kUnknown) need_list(99);
    args[1] = coerce(std::move(args[1]), Type(TypeId::kInt8), CastContext::kImplicit, pos);
    return list_fn(dataflow::ListFn::kLengthMax, Type(TypeId::kInt4));
  }
  if (name == "list_remove") {
    // The list of the common type of its elements and the removed value, as list_append.
    if (args.size() != 2) need_list(99);
    need_list(0);
    Type et = list_element_type(args[0].type);
    if (args[1].type.id != TypeId::kUnknown) {
      std::vector<Type> both{et, args[1].type};
      et = common_type(both, name, pos);
    }
    Type lt = list_type_of(et);
    args[0] = coerce(std::move(args[0]), lt, CastContext::kImplicit, pos);
    args[1] = coerce(std::move(args[1]), et, CastContext::kImplicit, pos);
    return list_fn(dataflow::ListFn::kRemove, lt);
  }
  if (name == "to_jsonb" && args.size() == 1 && (args[0].type.id == TypeId::kList || is_record_value_type(args[0].type)))
    return list_fn(dataflow::ListFn::kToJsonb, Type(TypeId::kJsonb));
  return std::nullopt;
}

HExpr Binder::make_array_compare(std::string_view op, HExpr x, HExpr arr, bool any, int position) {
  // An untyped parameter ($1 in relkind = ANY($1), pgcli's catalog queries) is an array of
  // the left side's type, as PostgreSQL infers it (text[] where Freshet has no such array).
  if (arr.kind == HExprKind::kScalar && arr.op == ScalarKind::kParam && arr.type.id == TypeId::kUnknown) {
    auto at = array_type_of(x.type.id);
    arr = coerce(std::move(arr), Type(at ? *at : TypeId::kTextArray), CastContext::kImplicit, position);
  }
  auto elem = array_element_type(arr.type.id);
  if (!elem) {
    if (arr.is_null_literal()) return HExpr::literal_of(Datum::null(), Type(TypeId::kBool));
    throw SqlError(sqlstate::kWrongObjectType, "op ANY/ALL (array) requires array on right side", position);
  }
  // Resolve the operator against one element; the array is then cast to the array of the
  // operator's right argument type.
  HExpr cmp = make_operator(op, std::move(x), HExpr::literal_of(Datum::null(), Type(*elem)), position);
  if (cmp.type.id != TypeId::kBool || cmp.fn == nullptr || cmp.args.size() != 2)
    throw SqlError(sqlstate::kWrongObjectType, "op ANY/ALL (array) requires operator to yield boolean", position);
  auto want = array_type_of(cmp.fn->arg_types[1].id);
  if (!want) unsupported("ANY/ALL over arrays of " + type_name(cmp.fn->arg_types[1]), position);
  arr = coerce(std::move(arr), Type(*want), CastContext::kImplicit, position);
  HExpr out = HExpr::make(ScalarKind::kArrayCompare, {std::move(cmp.args[0]), std::move(arr)}, Type(TypeId::kBool));
  out.fn = cmp.fn;
  out.column = any ? 0 : 1;
  return out;
}

HExpr Binder::make_bool(ScalarKind op, std::vector<HExpr> args) { return HExpr::make(op, std::move(args), Type(TypeId::kBool)); }

// ---------------------------------------------------------------------------------------------
// Expressions

HExpr Binder::bind_expr_in_scope(const PgQuery__Node* node, const Scope& scope, const char* clause,
                                 bool write_statement) {
  ExprContext ctx;
  ctx.scope = &scope;
  ctx.clause = clause;
  ctx.write_statement = write_statement;
  return bind_expr(node, ctx);
}

HExpr Binder::bind_const(const PgQuery__AConst* c) {
  if (c->isnull) return HExpr::literal_of(Datum::null(), Type(TypeId::kUnknown));
  switch (c->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
      return HExpr::literal_of(Datum::from_int(c->ival->ival), Type(TypeId::kInt4));
    case PG_QUERY__A__CONST__VAL_FVAL: {
      std::string_view s = c->fval->fval;
      // Integer literals too large for int4 arrive as Float; PostgreSQL types them int8 when
      // they fit, numeric otherwise.
      if (s.find_first_of(".eE") == std::string_view::npos) {
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(std::string(s).c_str(), &end, 10);
        // The grammar folds a minus sign into the literal: -2147483648 fits int4 (make_const).
        if (errno == 0 && v >= INT32_MIN && v <= INT32_MAX) return HExpr::literal_of(Datum::from_int(v), Type(TypeId::kInt4));
        if (errno == 0) return HExpr::literal_of(Datum::from_int(v), Type(TypeId::kInt8));
      }
      // Materialize's lexer spells a literal's exponent `E`, and its out-of-range message quotes
      // the literal so ("1E39" is out of range for type numeric); the value is the same.
      std::string lit(s);
      for (char& ch : lit) ch = ch == 'e' ? 'E' : ch;
      return HExpr::literal_of(Datum::from_numeric(numeric_parse(lit)), Type(TypeId::kNumeric));
    }
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
      return HExpr::literal_of(Datum::from_bool(c->boolval->boolval), Type(TypeId::kBool));
    case PG_QUERY__A__CONST__VAL_SVAL: {
      // The literal's bytes must outlive the Datum: pack into the HExpr's own row.
      HExpr e;
      e.op = ScalarKind::kLiteral;
      e.type = Type(TypeId::kUnknown);
      Datum d = Datum::from_string(c->sval->sval);
      e.literal = Row::pack(std::span<const Datum>(&d, 1));
      return e;
    }
    case PG_QUERY__A__CONST__VAL_BSVAL:
      unsupported("bit string literal", loc(c->location));
    default:
      break;
  }
  return HExpr::literal_of(Datum::null(), Type(TypeId::kUnknown));
}

HExpr Binder::bind_cast(const PgQuery__TypeCast* c, ExprContext& ctx) {
  Type t = bind_type(c->type_name);
  int pos = loc(c->location);
  if (t.id == TypeId::kList && c->arg->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && c->arg->func_call->n_args == 0 &&
      lower_ident(last_name(c->arg->func_call->funcname, c->arg->func_call->n_funcname)) == kListConstructor)
    return HExpr::literal_of(Datum::from_string("{}"), t);  // LIST[]::int list
  if (c->arg->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR && c->arg->a_array_expr->n_elements == 0 && is_array_type(t.id)) {
    Datum empty = Datum::from_string("{}");  // ARRAY[]::int[]: the cast gives the empty array its type
    return HExpr::literal_of(empty, t);
  }
  if ((t.id == TypeId::kFloat4 || t.id == TypeId::kFloat8) && c->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      c->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_FVAL) {
    // 9E-39::float4: PostgreSQL goes numeric -> text -> float, so the literal's own digits
    // decide (a float4 subnormal, or a value past numeric's 38 digits here).
    Arena& arena = binder_arena();
    try {
      HExpr r = HExpr::literal_of(parse_datum(c->arg->a_const->fval->fval, t, arena), t);
      arena.reset();
      return r;
    } catch (SqlError& err) {
      arena.reset();
      err.with_position(pos);
      throw;
    }
  }
  HExpr arg = bind_expr(c->arg, ctx);
  return coerce(std::move(arg), t, CastContext::kExplicit, pos);
}

HExpr Binder::bind_row(const PgQuery__RowExpr* r, ExprContext& ctx) {
  int pos = loc(r->location);
  std::vector<HExpr> fields;
  for (size_t i = 0; i < r->n_args; ++i) {
    const PgQuery__Node* a = r->args[i];
    if (a->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        a->column_ref->fields[a->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      // t.* (or *): the columns of t, as the select list expands them.
      const auto* cr = a->column_ref;
      std::string table = cr->n_fields >= 2 ? str_of(cr->fields[cr->n_fields - 2]) : "";
      bool any = false;
      // Materialize reads t.* in an expression as t's whole row, one record field
      // (ROW(x.*) is ("(3)") in its joins.slt); PostgreSQL expands it into the columns.
      const bool whole_row = materialize_dialect() && !table.empty();
      std::vector<HExpr> cols;
      std::vector<RecordField> names;
      if (ctx.scope != nullptr)
        for (const auto& it : ctx.scope->items) {
          if (table.empty() ? !it.star : (it.table != table || it.whole_row)) continue;
          (whole_row ? cols : fields).push_back(HExpr::column_ref(0, it.column, it.type));
          names.push_back({it.name, it.type});
          any = true;
        }
      if (whole_row && any) fields.push_back(HExpr::make(ScalarKind::kArray, std::move(cols), record_type_of(names)));
      if (!any)
        throw SqlError(sqlstate::kUndefinedTable, "missing FROM-clause entry for table \"" + table + "\"", loc(cr->location));
      continue;
    }
    fields.push_back(bind_expr(a, ctx));
  }
  if (fields.empty()) unsupported("a row constructor without fields", pos);
  std::vector<RecordField> rf;
  for (auto& f : fields) {
    if (f.type.id == TypeId::kUnknown) f = coerce(std::move(f), Type(TypeId::kText), CastContext::kImplicit, pos);
    if (f.type.id == TypeId::kRecord && !is_record_value_type(f.type)) unsupported("this record as a field of a record", pos);
    rf.push_back({"f" + std::to_string(rf.size() + 1), f.type});
  }
  return HExpr::make(ScalarKind::kArray, std::move(fields), record_type_of(rf));
}

HExpr Binder::coerce_record(HExpr e, Type t, CastContext ctx, int position) {
  const auto& want = record_fields(t);
  if (e.kind == HExprKind::kScalar && e.op == ScalarKind::kArray && is_record_value_type(e.type)) {
    if (e.args.size() != want.size())
      throw SqlError(sqlstate::kCannotCoerce, "cannot cast type " + type_name(e.type) + " to " + type_name(t), position)
          .with_detail("Input has too " + std::string(e.args.size() < want.size() ? "few" : "many") + " columns.");
    std::vector<HExpr> args;
    for (size_t k = 0; k < want.size(); ++k) args.push_back(coerce(std::move(e.args[k]), want[k].type, ctx, position));
    return HExpr::make(ScalarKind::kArray, std::move(args), t);
  }
  unsupported("casting " + type_name(e.type) + " to " + type_name(t) + " other than from a row constructor", position);
}

bool Binder::list_cast_allowed(Type from, Type to, CastContext ctx) const {
  Type f = list_element_type(from), t = list_element_type(to);
  if (f == t) return true;
  if (f.id == TypeId::kList && t.id == TypeId::kList) return list_cast_allowed(f, t, ctx);
  // A list element to or from text (I/O): LIST[NULL]::int list list.
  return cast_exists(f.id, t.id, ctx);
}

std::optional<HExpr> Binder::bind_negated_unsigned_cast(const PgQuery__Node* node, ExprContext& ctx) {
  (void)ctx;
  std::vector<const PgQuery__TypeCast*> casts;  // outermost first
  while (node && node->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
    casts.push_back(node->type_cast);
    node = node->type_cast->arg;
  }
  if (casts.empty() || !node || node->node_case != PG_QUERY__NODE__NODE_A_CONST) return std::nullopt;
  const PgQuery__AConst* c = node->a_const;
  if (c->isnull || (c->val_case != PG_QUERY__A__CONST__VAL_IVAL && c->val_case != PG_QUERY__A__CONST__VAL_FVAL))
    return std::nullopt;
  std::vector<Type> types;
  bool any_unsigned = false;
  for (const auto* tc : casts) {
    types.push_back(bind_type(tc->type_name));
    any_unsigned = any_unsigned || is_unsigned_type(types.back().id);
  }
  if (!any_unsigned) return std::nullopt;
  std::string text = "-" + (c->val_case == PG_QUERY__A__CONST__VAL_IVAL ? std::to_string(c->ival->ival) : std::string(c->fval->fval));
  HExpr v;
  if (text.find_first_of(".eE") == std::string::npos) {
    errno = 0;
    long long i = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == 0) v = HExpr::literal_of(Datum::from_int(i), Type(i >= INT32_MIN ? TypeId::kInt4 : TypeId::kInt8));
  }
  if (v.type.id == TypeId::kUnknown) {
    for (char& ch : text) ch = ch == 'e' ? 'E' : ch;
    v = HExpr::literal_of(Datum::from_numeric(numeric_parse(text)), Type(TypeId::kNumeric));
  }
  for (size_t k = casts.size(); k-- > 0;) v = coerce(std::move(v), types[k], CastContext::kExplicit, loc(casts[k]->location));
  return v;
}

HExpr Binder::bind_column_ref(const PgQuery__ColumnRef* ref, ExprContext& ctx) {
  int pos = loc(ref->location);
  std::vector<std::string> parts;
  for (size_t i = 0; i < ref->n_fields; ++i) {
    if (ref->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) unsupported("* in this position", pos);
    parts.push_back(str_of(ref->fields[i]));
  }
  std::string name = parts.back();
  std::string table = parts.size() >= 2 ? parts[parts.size() - 2] : "";
  uint32_t level = 0;
  for (const Scope* s = ctx.scope; s != nullptr; s = s->parent, ++level) {
    const ScopeItem* found = nullptr;
    bool table_seen = false;
    for (const auto& it : s->items) {
      if (!table.empty()) {
        if (it.table != table) continue;
        table_seen = true;
      } else if (it.qualified_only) {
        continue;
      }
      if (it.name != name) continue;
      if (found && found->column != it.column)
        throw SqlError(sqlstate::kAmbiguousColumn, "column reference \"" + name + "\" is ambiguous", pos);
      found = &it;
    }
    if (found) return HExpr::column_ref(level, found->column, found->type);
    // PostgreSQL reads `t.c` in the nearest scope that has a `t`: an outer `t` is not looked at
    // (`... FROM (VALUES (true)) a2 (f1) WHERE (SELECT ... FROM ... AS a2 (f2) WHERE a2.f1)`).
    if (table_seen) qualified_column_missing(table, name, pos);
  }
  // Materialize says `column "t2.a" does not exist` whatever is missing (returning.slt:82,
  // joins.slt:815, cte.slt:104); PostgreSQL names the missing table or unquoted t.c.
  if (!table.empty() && materialize_dialect()) qualified_column_missing(table, name, pos);
  if (!table.empty()) {
    bool any_table = false;
    for (const Scope* s = ctx.scope; s != nullptr; s = s->parent)
      for (const auto& it : s->items)
        if (it.table == table) any_table = true;
    if (!any_table) {
      // The table is in FROM under another name (`UPDATE t1 AS m ... t1.x`, `(t1 JOIN t2) AS
      // x ... t1.f1`): PostgreSQL's errorMissingRTE text.
      for (const Scope* s = ctx.scope; s != nullptr; s = s->parent)
        for (const auto& it : s->items)
          if (it.origin_table != 0)
            if (const ObjectInfo* o = catalog_.lookup_oid(it.origin_table); o && o->name == table)
              throw SqlError(sqlstate::kUndefinedTable, "invalid reference to FROM-clause entry for table \"" + table + "\"", pos);
      throw SqlError(sqlstate::kUndefinedTable, "missing FROM-clause entry for table \"" + table + "\"", pos);
    }
    qualified_column_missing(table, name, pos);
  }
  throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" does not exist", pos);
}

HExpr Binder::bind_a_expr(const PgQuery__AExpr* e, ExprContext& ctx) {
  int pos = loc(e->location);
  std::string op = last_name(e->name, e->n_name);
  auto list_items = [&](const PgQuery__Node* n) {
    std::vector<const PgQuery__Node*> items;
    if (n && n->node_case == PG_QUERY__NODE__NODE_LIST)
      for (size_t i = 0; i < n->list->n_items; ++i) items.push_back(n->list->items[i]);
    else if (n)
      items.push_back(n);
    return items;
  };
  switch (e->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
      if (!e->lexpr && op == "-" && e->rexpr)
        if (auto folded = bind_negated_unsigned_cast(e->rexpr, ctx)) return std::move(*folded);
      if (e->lexpr && e->rexpr && e->lexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
          e->rexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
          (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=")) {
        // (a, b) op (c, d): PostgreSQL's row comparison, pair by pair: = is every pair equal,
        // <> any pair different, < <= > >= decided by the first pair that is not equal (a
        // NULL there makes it NULL), which the AND/OR chain below gives in three-valued logic.
        const auto* l = e->lexpr->row_expr;
        const auto* r = e->rexpr->row_expr;
        if (l->n_args != r->n_args)
          throw SqlError(sqlstate::kSyntaxError, "unequal number of entries in row expressions", pos);
        if (l->n_args == 0) unsupported("comparison of empty rows", pos);
        std::vector<HExpr> ls, rs;
        for (size_t i = 0; i < l->n_args; ++i) {
          ls.push_back(bind_expr(l->args[i], ctx));
          rs.push_back(bind_expr(r->args[i], ctx));
        }
        const size_t n = ls.size();
        if (op == "=" || op == "<>") {
          std::vector<HExpr> parts;
          for (size_t i = 0; i < n; ++i) parts.push_back(make_operator(op, ls[i], rs[i], pos));
          if (n == 1) return std::move(parts[0]);
          return make_bool(op == "=" ? ScalarKind::kAnd : ScalarKind::kOr, std::move(parts));
        }
        const std::string strict = op.substr(0, 1);
        HExpr acc = make_operator(op, ls[n - 1], rs[n - 1], pos);
        for (size_t i = n - 1; i-- > 0;) {
          HExpr eq = make_operator("=", ls[i], rs[i], pos);
          HExpr both = make_bool(ScalarKind::kAnd, {std::move(eq), std::move(acc)});
          acc = make_bool(ScalarKind::kOr, {make_operator(strict, ls[i], rs[i], pos), std::move(both)});
        }
        return acc;
      }
      std::optional<HExpr> left;
      if (e->lexpr) left = bind_expr(e->lexpr, ctx);
      HExpr right = bind_expr(e->rexpr, ctx);
      return make_operator(op, std::move(left), std::move(right), pos);
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
      HExpr left = bind_expr(e->lexpr, ctx);
      HExpr right = bind_expr(e->rexpr, ctx);
      return make_operator(op, std::move(left), std::move(right), pos);
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
      HExpr l = bind_expr(e->lexpr, ctx);
      HExpr r = bind_expr(e->rexpr, ctx);
      // Resolve like `=` so that the two sides get a common type.
      HExpr eq = make_operator("=", std::move(l), std::move(r), pos);
      HExpr d = make_bool(ScalarKind::kIsDistinct, {eq.args[0], eq.args[1]});
      if (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT) return make_bool(ScalarKind::kNot, {std::move(d)});
      return d;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF: {
      HExpr l = bind_expr(e->lexpr, ctx);
      HExpr r = bind_expr(e->rexpr, ctx);
      HExpr eq = make_operator("=", l, r, pos);
      HExpr out = HExpr::make(ScalarKind::kNullIf, {eq.args[0], eq.args[1]}, eq.args[0].type);
      out.fn = eq.fn;
      return out;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
      HExpr l = bind_expr(e->lexpr, ctx);
      std::vector<HExpr> vals;
      for (const auto* n : list_items(e->rexpr)) vals.push_back(bind_expr(n, ctx));
      bool negated = op == "<>";
      std::vector<HExpr> all = vals;
      all.insert(all.begin(), l);
      std::vector<Type> types;
      for (const auto& x : all) types.push_back(x.type);
      bool common_ok = true;
      Type common;
      try {
        common = common_type(types, "IN", pos);
      } catch (const SqlError&) {
        common_ok = false;
      }
      std::vector<HExpr> terms;
      for (auto& v : vals) {
        HExpr left = l, right = v;
        if (common_ok && common.id != TypeId::kUnknown) {
          left = coerce(left, without_typmod(common), CastContext::kImplicit, pos);
          right = coerce(right, without_typmod(common), CastContext::kImplicit, pos);
        }
        terms.push_back(make_operator(negated ? "<>" : "=", left, right, pos));
      }
      if (terms.size() == 1) return terms[0];
      return make_bool(negated ? ScalarKind::kAnd : ScalarKind::kOr, std::move(terms));
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM: {
      HExpr x = bind_expr(e->lexpr, ctx);
      auto items = list_items(e->rexpr);
      if (items.size() != 2) throw SqlError(sqlstate::kSyntaxError, "BETWEEN needs two bounds", pos);
      HExpr lo = bind_expr(items[0], ctx);
      HExpr hi = bind_expr(items[1], ctx);
      auto between = [&](const HExpr& a, const HExpr& b) {
        return make_bool(ScalarKind::kAnd, {make_operator(">=", x, a, pos), make_operator("<=", x, b, pos)});
      };
      HExpr r = between(lo, hi);
      if (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM || e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM)
        r = make_bool(ScalarKind::kOr, {r, between(hi, lo)});
      if (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN || e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM)
        r = make_bool(ScalarKind::kNot, {r});
      return r;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL: {
      // x op ANY (ARRAY[...]) / ('{...}'): expand a constant array into OR / AND.
      HExpr x = bind_expr(e->lexpr, ctx);
      const PgQuery__Node* r = e->rexpr;
      std::vector<HExpr> vals;
      if (r->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
        for (size_t i = 0; i < r->a_array_expr->n_elements; ++i) vals.push_back(bind_expr(r->a_array_expr->elements[i], ctx));
      } else {
        HExpr arr = bind_expr(r, ctx);
        if (!(arr.is_literal() && arr.type.id == TypeId::kUnknown)) return make_array_compare(op, std::move(x), std::move(arr), e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY, pos);
        Datum d = arr.literal.get(0);
        if (d.is_null()) return HExpr::literal_of(Datum::null(), Type(TypeId::kBool));
        std::string s(d.as_string());
        if (s.size() < 2 || s.front() != '{' || s.back() != '}')
          throw SqlError(sqlstate::kInvalidTextRepresentation, "malformed array literal: \"" + s + "\"", pos);
        std::string body = s.substr(1, s.size() - 2);
        size_t start = 0;
        while (!body.empty() && start <= body.size()) {
          size_t comma = body.find(',', start);
          std::string item = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (item.size() >= 2 && item.front() == '"') item = item.substr(1, item.size() - 2);
          HExpr lit;
          lit.op = ScalarKind::kLiteral;
          lit.type = Type(TypeId::kUnknown);
          Datum id = Datum::from_string(item);
          lit.literal = Row::pack(std::span<const Datum>(&id, 1));
          vals.push_back(lit);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      bool any = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY;
      if (vals.empty()) return HExpr::literal_of(Datum::from_bool(!any), Type(TypeId::kBool));
      std::vector<HExpr> terms;
      for (auto& v : vals) terms.push_back(make_operator(op, x, v, pos));
      if (terms.size() == 1) return terms[0];
      return make_bool(any ? ScalarKind::kOr : ScalarKind::kAnd, std::move(terms));
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
      unsupported("SIMILAR TO", pos);
    default:
      unsupported("this operator form", pos);
  }
}

namespace {
// PostgreSQL's FRAMEOPTION_* bits (nodes/parsenodes.h), as libpg_query's WindowDef carries them.
constexpr int32_t kFrameNonDefault = 0x1, kFrameRange = 0x2, kFrameRows = 0x4, kFrameGroups = 0x8;
constexpr int32_t kFrameStartUnboundedPreceding = 0x20, kFrameStartUnboundedFollowing = 0x80;
constexpr int32_t kFrameEndUnboundedPreceding = 0x40, kFrameEndUnboundedFollowing = 0x100;
constexpr int32_t kFrameStartCurrentRow = 0x200, kFrameEndCurrentRow = 0x400;
constexpr int32_t kFrameStartOffsetPreceding = 0x800, kFrameEndOffsetPreceding = 0x1000;
constexpr int32_t kFrameStartOffsetFollowing = 0x2000, kFrameEndOffsetFollowing = 0x4000;
constexpr int32_t kFrameExcludeCurrentRow = 0x8000, kFrameExcludeGroup = 0x10000, kFrameExcludeTies = 0x20000;

// A window definition with WINDOW-clause references resolved (PostgreSQL's rules for
// `OVER w` and `OVER (w ...)`).
struct ResolvedWindow {
  std::vector<const PgQuery__Node*> partition;
  std::vector<const PgQuery__Node*> order;
  int32_t frame_options = 0;
  const PgQuery__Node* start_offset = nullptr;
  const PgQuery__Node* end_offset = nullptr;
};

const PgQuery__WindowDef* named_window(const PgQuery__SelectStmt* select, const std::string& name, int pos) {
  if (select != nullptr)
    for (size_t i = 0; i < select->n_window_clause; ++i) {
      const auto* w = select->window_clause[i]->window_def;
      if (w != nullptr && w->name != nullptr && name == w->name) return w;
    }
  throw SqlError(sqlstate::kUndefinedObject, "window \"" + name + "\" does not exist", pos);
}

ResolvedWindow resolve_window(const PgQuery__WindowDef* w, const PgQuery__SelectStmt* select, int pos, int depth = 0) {
  if (depth > 100) throw SqlError("42P20", "window definitions refer to each other in a cycle", pos);
  ResolvedWindow r;
  bool has_ref = w->refname != nullptr && *w->refname;
  if (has_ref) {
    std::string ref = w->refname;
    const PgQuery__WindowDef* base = named_window(select, ref, pos);
    r = resolve_window(base, select, pos, depth + 1);
    if (w->n_partition_clause > 0)
      throw SqlError("42P20", "cannot override PARTITION BY clause of window \"" + ref + "\"", pos);
    if (w->n_order_clause > 0 && !r.order.empty())
      throw SqlError("42P20", "cannot override ORDER BY clause of window \"" + ref + "\"", pos);
    if (r.frame_options & kFrameNonDefault)
      throw SqlError("42P20", "cannot copy window \"" + ref + "\" because it has a frame clause", pos)
          .with_hint("Omit the parentheses in this OVER clause.");
  }
  for (size_t i = 0; i < w->n_partition_clause; ++i) r.partition.push_back(w->partition_clause[i]);
  for (size_t i = 0; i < w->n_order_clause; ++i) r.order.push_back(w->order_clause[i]);
  r.frame_options = w->frame_options;
  r.start_offset = w->start_offset;
  r.end_offset = w->end_offset;
  return r;
}
}  // namespace

namespace {
bool same_bound(const dataflow::FrameBound& a, const dataflow::FrameBound& b) {
  return a.kind == b.kind && a.rows == b.rows && a.range.bytes() == b.range.bytes() && a.range_type == b.range_type;
}
}  // namespace

bool Binder::same_window_call(const WindowCall& a, const WindowCall& b) {
  if (a.kind != b.kind || !(a.partition == b.partition) || !(a.order == b.order) || !(a.args == b.args) ||
      a.agg_kind != b.agg_kind || a.agg_filter != b.agg_filter || a.ignore_nulls != b.ignore_nulls ||
      !(a.result_type == b.result_type) || a.keys.size() != b.keys.size())
    return false;
  for (size_t k = 0; k < a.keys.size(); ++k)
    if (a.keys[k].column != b.keys[k].column || a.keys[k].descending != b.keys[k].descending ||
        a.keys[k].nulls_first != b.keys[k].nulls_first)
      return false;
  const auto& fa = a.frame;
  const auto& fb = b.frame;
  return fa.rows == fb.rows && fa.groups == fb.groups && fa.exclude == fb.exclude && same_bound(fa.start, fb.start) &&
         same_bound(fa.end, fb.end);
}

HExpr Binder::bind_window_call(const PgQuery__FuncCall* f, const std::string& written_name, ExprContext& ctx, int pos) {
  using dataflow::WindowFuncKind;
  // lag/lead IGNORE NULLS arrive renamed by the pre-parser (mz_syntax.hpp).
  bool ignore_nulls = written_name == "__mz_lag_ignore_nulls" || written_name == "__mz_lead_ignore_nulls";
  const std::string name = ignore_nulls ? written_name.substr(5, written_name.find('_', 5) - 5) : written_name;
  if (!ctx.windows) {
    if (std::string_view(ctx.clause) == "aggregate function calls" || std::string_view(ctx.clause) == "FILTER")
      throw SqlError(sqlstate::kGroupingError, "aggregate function calls cannot contain window function calls", pos);
    std::string_view clause = ctx.clause;
    throw SqlError("42P20", std::string("window functions are not allowed in ") +
                                (clause.starts_with("window ") ? "window definitions" : ctx.clause), pos);
  }
  const PgQuery__WindowDef* over = f->over;
  // OVER w: the named window itself; OVER (w ...): a copy of it with more clauses.
  bool bare_name = over->name != nullptr && *over->name && !(over->refname != nullptr && *over->refname);
  ResolvedWindow w = bare_name ? resolve_window(named_window(ctx.select, over->name, pos), ctx.select, pos)
                               : resolve_window(over, ctx.select, pos);
  if (f->agg_distinct) throw SqlError(sqlstate::kFeatureNotSupported, "DISTINCT is not implemented for window functions", pos);
  if (f->n_agg_order > 0)
    throw SqlError(sqlstate::kFeatureNotSupported, "aggregate ORDER BY is not implemented for window functions", pos);
  static const std::pair<const char*, WindowFuncKind> kFuncs[] = {
      {"row_number", WindowFuncKind::kRowNumber}, {"rank", WindowFuncKind::kRank},
      {"dense_rank", WindowFuncKind::kDenseRank}, {"percent_rank", WindowFuncKind::kPercentRank},
      {"cume_dist", WindowFuncKind::kCumeDist},   {"ntile", WindowFuncKind::kNtile},
      {"lag", WindowFuncKind::kLag},              {"lead", WindowFuncKind::kLead},
      {"first_value", WindowFuncKind::kFirstValue}, {"last_value", WindowFuncKind::kLastValue},
      {"nth_value", WindowFuncKind::kNthValue}};
  WindowCall call;
  call.ignore_nulls = ignore_nulls;
  bool found = false;
  for (const auto& [n, k] : kFuncs)
    if (name == n) {
      call.kind = k;
      found = true;
    }
  bool aggregate = !found && is_aggregate_name(name);
  if (!found && !aggregate)
    throw SqlError(sqlstate::kWrongObjectType, "OVER specified, but " + name + " is not a window function nor an aggregate function", pos);
  // Arguments, PARTITION BY and ORDER BY may use the query's aggregates: the windows are
  // computed after grouping (rank() OVER (ORDER BY sum(x))).
  // Arguments, PARTITION BY and ORDER BY may hold window calls themselves (Materialize
  // allows nesting, PostgreSQL does not): they go into the same list before this call, and
  // bind_windows computes them first (a call's depth is one more than its inner calls').
  ExprContext inner = ctx;
  inner.window_arg_aggs = nullptr;
  inner.window_agg_args = false;
  if (aggregate) {
    // The aggregate as the aggregate binder sees it (argument types, FILTER), then its
    // arguments become columns of the window's input.
    PgQuery__FuncCall plain = *f;
    plain.over = nullptr;
    std::vector<HAggregate> aggs;
    ExprContext actx = inner;
    actx.aggs = &aggs;
    actx.window_arg_aggs = ctx.aggs;
    actx.window_agg_args = true;
    actx.clause = "window functions";
    HExpr ref = bind_func_call(&plain, actx);
    if (aggs.size() != 1 || ref.kind != HExprKind::kColumn || ref.level != kAggLevel || !aggs[0].order_keys.empty())
      unsupported("aggregate " + name + " as a window function", pos);
    call.kind = WindowFuncKind::kAggregate;
    call.agg_kind = aggs[0].kind;
    call.agg_filter = aggs[0].has_filter;
    call.args = aggs[0].args;
    call.result_type = aggs[0].result_type;
  } else {
    if (f->agg_filter)
      throw SqlError(sqlstate::kFeatureNotSupported, "FILTER is not implemented for non-aggregate window functions", pos);
    if (f->agg_star) throw SqlError(sqlstate::kWrongObjectType, name + "(*) specified, but " + name + " is not an aggregate function", pos);
    inner.clause = "window functions";
    std::vector<HExpr> args;
    for (size_t i = 0; i < f->n_args; ++i) {
      HExpr a = bind_expr(f->args[i], inner);
      args.push_back(std::move(a));
    }
    auto arity_error = [&]() -> void {
      std::string sig = name + "(";
      for (size_t i = 0; i < args.size(); ++i) sig += (i > 0 ? ", " : "") + type_name(args[i].type);
      throw SqlError(sqlstate::kUndefinedFunction, "function " + sig + ") does not exist", pos)
          .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.");
    };
    auto value_arg = [&](HExpr& a) {
      if (a.type.id == TypeId::kUnknown)
        throw SqlError(sqlstate::kDatatypeMismatch, "could not determine polymorphic type because input has type unknown", pos);
    };
    switch (call.kind) {
      case WindowFuncKind::kRowNumber:
      case WindowFuncKind::kRank:
      case WindowFuncKind::kDenseRank:
        if (!args.empty()) arity_error();
        call.result_type = Type(TypeId::kInt8);
        break;
      case WindowFuncKind::kPercentRank:
      case WindowFuncKind::kCumeDist:
        if (!args.empty()) arity_error();
        call.result_type = Type(TypeId::kFloat8);
        break;
      case WindowFuncKind::kNtile:
        if (args.size() != 1 || !can_coerce(args[0].type.id, TypeId::kInt4, CastContext::kImplicit)) arity_error();
        args[0] = coerce(std::move(args[0]), Type(TypeId::kInt4), CastContext::kImplicit, pos);
        call.result_type = Type(TypeId::kInt4);
        break;
      case WindowFuncKind::kLag:
      case WindowFuncKind::kLead: {
        if (args.empty() || args.size() > 3) arity_error();
        if (args.size() >= 2) {
          if (!can_coerce(args[1].type.id, TypeId::kInt4, CastContext::kImplicit)) arity_error();
          args[1] = coerce(std::move(args[1]), Type(TypeId::kInt4), CastContext::kImplicit, pos);
        }
        Type t = args[0].type;
        if (args.size() < 3) value_arg(args[0]);
        if (args.size() == 3) {
          Type ts[2] = {args[0].type, args[2].type};
          t = common_type(ts, name, pos);
          args[2] = coerce(std::move(args[2]), t, CastContext::kImplicit, pos);
        }
        args[0] = coerce(std::move(args[0]), t, CastContext::kImplicit, pos);
        call.result_type = t;
        break;
      }
      case WindowFuncKind::kFirstValue:
      case WindowFuncKind::kLastValue:
        if (args.size() != 1) arity_error();
        value_arg(args[0]);
        call.result_type = args[0].type;
        break;
      case WindowFuncKind::kNthValue:
        if (args.size() != 2 || !can_coerce(args[1].type.id, TypeId::kInt4, CastContext::kImplicit)) arity_error();
        value_arg(args[0]);
        args[1] = coerce(std::move(args[1]), Type(TypeId::kInt4), CastContext::kImplicit, pos);
        call.result_type = args[0].type;
        break;
      case WindowFuncKind::kAggregate:
        break;
    }
    call.args = std::move(args);
  }
  inner.clause = "window definitions";
  for (const PgQuery__Node* n : w.partition) {
    HExpr p = bind_expr(n, inner);
    if (p.type.id == TypeId::kUnknown) p = coerce(std::move(p), Type(TypeId::kText), CastContext::kImplicit);
    call.partition.push_back(std::move(p));
  }
  for (size_t i = 0; i < w.order.size(); ++i) {
    const auto* sb = w.order[i]->sort_by;
    HExpr o = bind_expr(sb->node, inner);
    if (o.type.id == TypeId::kUnknown) o = coerce(std::move(o), Type(TypeId::kText), CastContext::kImplicit);
    check_orderable(o.type, loc(sb->location));
    dataflow::SortKey k;
    k.column = static_cast<uint32_t>(i);
    k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                    (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && k.descending);
    call.order.push_back(std::move(o));
    call.keys.push_back(k);
  }
  // The frame (used by first_value, last_value, nth_value and aggregates).
  int32_t fo = w.frame_options;
  dataflow::WindowFrame& fr = call.frame;
  if (fo & kFrameNonDefault) {
    fr.rows = (fo & kFrameRows) != 0;
    fr.groups = (fo & kFrameGroups) != 0;
    if (fr.groups && call.order.empty()) throw SqlError("42P20", "GROUPS mode requires an ORDER BY clause", pos);
    bool range_offset = !fr.rows && !fr.groups && (fo & (kFrameStartOffsetPreceding | kFrameStartOffsetFollowing | kFrameEndOffsetPreceding |
                                           kFrameEndOffsetFollowing));
    if (range_offset && call.order.size() != 1)
      throw SqlError("42P20", "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column", pos);
    auto offset = [&](const PgQuery__Node* n, bool start) -> std::pair<int64_t, Row> {
      const char* which = start ? "starting" : "ending";
      ExprContext octx;
      Scope empty;
      octx.scope = &empty;
      // PostgreSQL's names: aggregates are "not allowed in window ROWS", window functions
      // "not allowed in window definitions" (bind_window_call).
      octx.clause = fr.rows ? "window ROWS" : fr.groups ? "window GROUPS" : "window RANGE";
      HExpr e = bind_expr(n, octx);
      Type t(TypeId::kInt8);
      if (!fr.rows && !fr.groups) {
        TypeId ot = call.order[0].type.id;
        if (is_integer_type(ot)) t = Type(TypeId::kInt8);
        else if (ot == TypeId::kFloat4 || ot == TypeId::kFloat8) t = Type(TypeId::kFloat8);
        else if (ot == TypeId::kNumeric) t = Type(TypeId::kNumeric);
        else unsupported("RANGE with offset PRECEDING/FOLLOWING over " + type_name(call.order[0].type), pos);
      }
      // ROWS/GROUPS offsets: PostgreSQL's transformFrameOffset coerces to bigint by assignment
      // (1.5 is 2; 18446744073709551615 is "bigint out of range").
      e = coerce(std::move(e), t, fr.rows || fr.groups ? CastContext::kAssignment : CastContext::kImplicit, pos);
      dataflow::ScalarExpr se = lower_constant_expr(e);
      if (!dataflow::is_constant_expr(se)) unsupported("a frame offset that is not a constant", pos);
      Arena arena;
      EvalContext ectx;
      ectx.arena = &arena;
      Datum d = dataflow::eval(se, {}, ectx);
      if (d.is_null()) throw SqlError("22004", std::string("frame ") + which + " offset must not be null", pos);
      bool negative = t.id == TypeId::kInt8      ? d.as_int() < 0
                      : t.id == TypeId::kFloat8 ? d.as_float() < 0 || std::isnan(d.as_float())
                                                 : numeric_compare(d.as_numeric(), numeric_from_int(0)) < 0 || d.as_numeric().is_nan();
      if (negative) throw SqlError("22013", std::string("frame ") + which + " offset must not be negative", pos);
      return {t.id == TypeId::kInt8 ? d.as_int() : 0, Row::pack(std::span<const Datum>(&d, 1))};
    };
    using dataflow::FrameBoundKind;
    auto bound = [&](bool start) {
      dataflow::FrameBound b;
      int32_t up = start ? kFrameStartUnboundedPreceding : kFrameEndUnboundedPreceding;
      int32_t uf = start ? kFrameStartUnboundedFollowing : kFrameEndUnboundedFollowing;
      int32_t cr = start ? kFrameStartCurrentRow : kFrameEndCurrentRow;
      int32_t op = start ? kFrameStartOffsetPreceding : kFrameEndOffsetPreceding;
      int32_t of = start ? kFrameStartOffsetFollowing : kFrameEndOffsetFollowing;
      if (fo & up) b.kind = FrameBoundKind::kUnboundedPreceding;
      else if (fo & uf) b.kind = FrameBoundKind::kUnboundedFollowing;
      else if (fo & cr) b.kind = FrameBoundKind::kCurrentRow;
      else if (fo & (op | of)) {
        b.kind = (fo & op) ? FrameBoundKind::kPreceding : FrameBoundKind::kFollowing;
        auto [rows, range] = offset(start ? w.start_offset : w.end_offset, start);
        b.rows = rows;
        b.range = std::move(range);
        if (!fr.rows && !fr.groups) b.range_type = Type(b.range.get(0).kind() == PhysicalKind::kInt ? TypeId::kInt8 : b.range.get(0).kind() == PhysicalKind::kFloat ? TypeId::kFloat8 : TypeId::kNumeric);
      } else {
        b.kind = start ? FrameBoundKind::kUnboundedPreceding : FrameBoundKind::kCurrentRow;  // no BETWEEN: end is CURRENT ROW
      }
      return b;
    };
    fr.start = bound(true);
    fr.end = bound(false);
    if (fo & kFrameExcludeCurrentRow) fr.exclude = dataflow::FrameExclude::kCurrentRow;
    else if (fo & kFrameExcludeGroup) fr.exclude = dataflow::FrameExclude::kGroup;
    else if (fo & kFrameExcludeTies) fr.exclude = dataflow::FrameExclude::kTies;
  }
  // The same call written twice (in the select list and in ORDER BY or DISTINCT ON) is one
  // call, so the two places compare equal.
  for (size_t i = 0; i < ctx.windows->size(); ++i)
    if (same_window_call((*ctx.windows)[i], call))
      return HExpr::column_ref(kWindowLevel, static_cast<uint32_t>(i), call.result_type);
  ctx.windows->push_back(std::move(call));
  return HExpr::column_ref(kWindowLevel, static_cast<uint32_t>(ctx.windows->size() - 1), ctx.windows->back().result_type);
}

HExpr Binder::jsonb_text_of(HExpr e, int pos) {
  if (e.is_null_literal()) return coerce(std::move(e), Type(TypeId::kText), CastContext::kExplicit, pos);
  TypeId t = e.type.id;
  if (t == TypeId::kList || is_record_value_type(e.type)) {
    HExpr j = HExpr::make(ScalarKind::kListFn, {std::move(e)}, Type(TypeId::kJsonb));
    j.column = static_cast<uint32_t>(dataflow::ListFn::kToJsonb);
    return coerce(std::move(j), Type(TypeId::kText), CastContext::kExplicit, pos);
  }
  if (t != TypeId::kJsonb && t != TypeId::kUnknown && t != TypeId::kText) {
    // The type's own to_jsonb (common/functions_to_jsonb.cpp): char(n) keeps its padding,
    // arrays become JSON arrays, NaN and infinities strings.
    for (const FunctionImpl* f : lookup_functions("to_jsonb")) {
      if (f->arg_types.size() != 1 || f->arg_types[0].id != t) continue;
      std::vector<HExpr> one;
      one.push_back(std::move(e));
      HExpr j = HExpr::call(f, std::move(one), f->result_type);
      return coerce(std::move(j), Type(TypeId::kText), CastContext::kExplicit, pos);
    }
  }
  if (t != TypeId::kJsonb) {
    e = coerce(std::move(e), Type(TypeId::kText), CastContext::kExplicit, pos);
    if (t == TypeId::kBool || is_integer_type(t) || t == TypeId::kNumeric || t == TypeId::kFloat4 || t == TypeId::kFloat8) {
      e = coerce(std::move(e), Type(TypeId::kJsonb), CastContext::kExplicit, pos);
    } else {
      if (t == TypeId::kTimestamp || t == TypeId::kTimestampTz) {
        // JSON's timestamps are ISO 8601 (PostgreSQL's to_jsonb): 2020-01-01T10:00:00, and
        // timestamptz with a +hh:mm offset.
        auto rx = [&](HExpr s, const char* pattern, const char* replacement) {
          std::vector<Type> ts(3, Type(TypeId::kText));
          ResolvedCall q = resolve_function("regexp_replace", ts, pos);
          std::vector<HExpr> a;
          a.push_back(std::move(s));
          a.push_back(HExpr::literal_of(Datum::from_string(pattern), Type(TypeId::kText)));
          a.push_back(HExpr::literal_of(Datum::from_string(replacement), Type(TypeId::kText)));
          return HExpr::call(q.impl, std::move(a), q.result_type);
        };
        e = rx(std::move(e), " ", "T");
        if (t == TypeId::kTimestampTz) e = rx(std::move(e), "([+-][0-9][0-9])$", "\\1:00");
      }
      std::vector<Type> ts{Type(TypeId::kText)};
      ResolvedCall q = resolve_function("to_jsonb", ts, pos);
      std::vector<HExpr> one;
      one.push_back(std::move(e));
      e = HExpr::call(q.impl, std::move(one), q.result_type);
    }
  }
  return coerce(std::move(e), Type(TypeId::kText), CastContext::kExplicit, pos);
}

HExpr Binder::bind_func_call(const PgQuery__FuncCall* f, ExprContext& ctx) {
  int pos = loc(f->location);
  std::string name = lower_ident(last_name(f->funcname, f->n_funcname));
  if (f->over) return bind_window_call(f, name, ctx, pos);
  if (name == "mz_logical_timestamp")
    throw SqlError(sqlstate::kUndefinedFunction, "mz_logical_timestamp() has been renamed to mz_now()", pos);
  static const char* const kWindowOnly[] = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
                                            "lag", "lead", "first_value", "last_value", "nth_value"};
  for (const char* w : kWindowOnly)
    if (name == w && f->n_funcname == 1)
      // PostgreSQL's text (Materialize names the schema: "window function
      // pg_catalog.row_number requires an OVER clause").
      throw SqlError(sqlstate::kWrongObjectType, "window function " + name + " requires an OVER clause", pos);
  if (name == "mz_now" && f->n_args == 0) {
    // In WHERE and HAVING the predicate's shape is checked once it is bound
    // (check_temporal_conjuncts); a SELECT without FROM may read the logical time itself.
    // Materialize's message: mz_now() is Materialize's function.
    if (ctx.write_statement)
      throw SqlError(sqlstate::kFeatureNotSupported, "calls to mz_now in write statements are not supported", pos);
    std::string_view clause = ctx.clause;
    bool no_from = clause == "SELECT" && ctx.scope != nullptr && ctx.scope->items.empty();
    if (clause != "WHERE" && clause != "HAVING" && !no_from)
      throw SqlError(sqlstate::kFeatureNotSupported, std::string("mz_now() is not allowed in ") + ctx.clause, pos)
          .with_hint(kTemporalHint);
    // Materialize's type: mz_timestamp (eval.cpp makes the Datum by the expression's type).
    return HExpr::make(ScalarKind::kMzNow, {}, Type(TypeId::kMzTimestamp));
  }
  if (is_aggregate_name(name)) {
    if (!ctx.aggs)
      throw SqlError(sqlstate::kGroupingError, std::string("aggregate functions are not allowed in ") + ctx.clause, pos);
    ExprContext inner = ctx;
    inner.aggs = ctx.window_arg_aggs;
    inner.window_arg_aggs = nullptr;
    inner.clause = "aggregate function calls";
    // A plain aggregate is computed before the windows: it cannot read them.
    if (!ctx.window_agg_args) inner.windows = nullptr;
    inner.window_agg_args = false;
    HAggregate agg;
    agg.distinct = f->agg_distinct;
    std::vector<Type> types;
    std::optional<HExpr> filter;
    if (f->agg_filter) {
      inner.clause = "FILTER";
      filter = to_bool(bind_expr(f->agg_filter, inner), "FILTER", pos);
      inner.clause = "aggregate function calls";
    }
    bool star = f->agg_star;
    if (!star && f->n_args == 0 && name == "count")
      throw SqlError(sqlstate::kWrongObjectType, "count(*) must be used to call a parameterless aggregate function", pos);
    if (filter && star) {
      // count(*) FILTER (WHERE p) is count(CASE WHEN p THEN 1 END).
      star = false;
      name = "count";
    }
    size_t nargs = f->agg_star && filter ? 1 : f->n_args;
    // array_agg (and list_agg) keep NULLs: its FILTER stays a condition on the row
    // (HAggregate::has_filter).
    bool keeps_nulls = name == "array_agg" || name == "list_agg" || name == "jsonb_agg" || name == "jsonb_object_agg";
    bool real_filter = filter && keeps_nulls;
    for (size_t i = 0; i < nargs; ++i) {
      HExpr a = f->agg_star ? HExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt4)) : bind_expr(f->args[i], inner);
      if (filter && i == 0 && !real_filter)
        a = HExpr::make(ScalarKind::kCase, {*filter, a, HExpr::literal_of(Datum::null(), a.type)}, a.type);
      if (a.type.id == TypeId::kUnknown) a = coerce(std::move(a), Type(TypeId::kText), CastContext::kImplicit, pos);
      types.push_back(a.type);
      agg.args.push_back(std::move(a));
    }
    // jsonb_agg(v) / jsonb_object_agg(k, v) aggregate the text of each value's jsonb (values
    // keep their types, as in jsonb_build_object) and keys as text.
    if ((name == "jsonb_agg" && agg.args.size() == 1) || (name == "jsonb_object_agg" && agg.args.size() == 2)) {
      size_t vi = agg.args.size() - 1;
      agg.args[vi] = jsonb_text_of(std::move(agg.args[vi]), pos);
      if (vi == 1) agg.args[0] = coerce(std::move(agg.args[0]), Type(TypeId::kText), CastContext::kExplicit, pos);
      for (size_t i = 0; i < agg.args.size(); ++i) types[i] = agg.args[i].type;
    }
    AggregateSignature sig;
    if (star) types.clear();
    if (!resolve_aggregate(name, types, sig))
      throw SqlError(sqlstate::kUndefinedFunction, "function " + name + " does not exist", pos);
    if (star) agg.args.clear();
    for (size_t i = 0; i < agg.args.size() && i < sig.arg_types.size(); ++i)
      agg.args[i] = coerce(std::move(agg.args[i]), sig.arg_types[i], CastContext::kImplicit, pos);
    agg.kind = sig.kind;
    agg.result_type = sig.result_type;
    // ORDER BY inside the aggregate matters only to the order-sensitive ones.
    if (f->n_agg_order > 0 && (agg.kind == AggKind::kStringAgg || agg.kind == AggKind::kArrayAgg ||
                               agg.kind == AggKind::kJsonbAgg || agg.kind == AggKind::kJsonbObjectAgg)) {
      if (agg.distinct) unsupported("DISTINCT with ORDER BY inside an aggregate", pos);
      inner.clause = "aggregate function calls";
      for (size_t i = 0; i < f->n_agg_order; ++i) {
        const auto* sb = f->agg_order[i]->sort_by;
        HExpr oe = bind_expr(sb->node, inner);
        if (oe.type.id == TypeId::kUnknown) oe = coerce(std::move(oe), Type(TypeId::kText), CastContext::kImplicit);
        check_orderable(oe.type, loc(sb->location));
        dataflow::SortKey k;
        k.column = static_cast<uint32_t>(i);
        k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                        (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && k.descending);
        agg.args.push_back(std::move(oe));
        agg.order_keys.push_back(k);
      }
    }
    if (real_filter) {
      agg.args.push_back(std::move(*filter));
      agg.has_filter = true;
    }
    // An aggregate whose arguments read only enclosing queries' columns belongs, in PostgreSQL,
    // to the outer query (`SELECT (SELECT count(t.x)) FROM t` counts t's rows once); computing
    // it here, per outer row, would be a wrong answer. Refused, as Materialize does
    // (subquery.slt:663).
    {
      bool local = agg.args.empty(), outer_ref = false;
      for (const auto& a : agg.args) {
        local = local || refers_to_level0(a);
        outer_ref = outer_ref || a.refers_outside(1);
      }
      if (filter && !real_filter) local = local || refers_to_level0(*filter);
      if (!local && outer_ref)
        throw SqlError(sqlstate::kFeatureNotSupported,
                       "aggregate functions that refer exclusively to outer columns not yet supported", pos);
    }
    size_t idx = 0;
    for (; idx < ctx.aggs->size(); ++idx)
      if ((*ctx.aggs)[idx] == agg) break;
    if (idx == ctx.aggs->size()) ctx.aggs->push_back(agg);
    return HExpr::column_ref(kAggLevel, static_cast<uint32_t>(idx), sig.result_type);
  }
  if (f->agg_star) throw SqlError(sqlstate::kWrongObjectType, name + "(*) specified, but " + name + " is not an aggregate function", pos);
  if (f->agg_distinct) throw SqlError(sqlstate::kWrongObjectType, "DISTINCT specified, but " + name + " is not an aggregate function", pos);
  if (f->agg_filter) throw SqlError(sqlstate::kWrongObjectType, "FILTER specified, but " + name + " is not an aggregate function", pos);
  if (f->n_agg_order > 0 && !f->agg_within_group)
    throw SqlError(sqlstate::kWrongObjectType, "ORDER BY specified, but " + name + " is not an aggregate function", pos);
  if (name == "pg_typeof" && f->n_args == 1 && materialize_dialect() && f->args[0]->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
    // Materialize plans pg_typeof from its argument's type without evaluating it, so a cast of
    // a constant that cannot be converted still has a type: pg_typeof('{1}'::int4_list_list)
    // is int4_list_list (its cast.slt). Only casts of constants (no aggregates to bind twice).
    const PgQuery__Node* inner = f->args[0];
    while (inner->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) inner = inner->type_cast->arg;
    if (inner->node_case == PG_QUERY__NODE__NODE_A_CONST) {
      try {
        (void)bind_expr(f->args[0], ctx);
      } catch (const SqlError& e) {
        if (!e.sqlstate().starts_with("22")) throw;
        Type t = bind_type(f->args[0]->type_cast->type_name);
        return HExpr::literal_of(Datum::from_string(type_name(without_typmod(t))), Type(TypeId::kText));
      }
    }
  }
  std::vector<HExpr> args;
  std::vector<Type> types;
  for (size_t i = 0; i < f->n_args; ++i) {
    args.push_back(bind_expr(f->args[i], ctx));
    types.push_back(args.back().type);
  }
  if (name == "pg_typeof" && args.size() == 1) {
    // pg_typeof takes "any": an untyped parameter has no type to report (PostgreSQL, at Parse).
    if (args[0].kind == HExprKind::kScalar && args[0].op == ScalarKind::kParam && args[0].type.id == TypeId::kUnknown)
      throw SqlError("42P18", "could not determine data type of parameter $" + std::to_string(args[0].column + 1), pos);
    Type t = args[0].type.id == TypeId::kUnknown ? Type(TypeId::kUnknown) : args[0].type;
    std::string tn = type_name(without_typmod(t));
    Datum d = Datum::from_string(tn);
    return HExpr::literal_of(d, Type(TypeId::kText));
  }
  if (auto r = bind_list_function(name, args, pos)) return std::move(*r);
  if (name == "json_build_array" || name == "jsonb_build_array") {
    // Like json_build_object: each value as the text of its jsonb (functions_to_jsonb.cpp).
    for (auto& e : args) e = jsonb_text_of(std::move(e), pos);
    types.clear();
    for (const auto& a : args) types.push_back(a.type);
  }
  if (name == "json_build_object" || name == "jsonb_build_object") {
    // Values keep their types (common/functions_json_build.cpp): each is passed as the text
    // of its jsonb, keys as text.
    for (size_t i = 0; i < args.size(); ++i) {
      HExpr& e = args[i];
      if (i % 2 == 0 || e.is_null_literal()) {
        e = coerce(std::move(e), Type(TypeId::kText), CastContext::kExplicit, pos);
        continue;
      }
      e = jsonb_text_of(std::move(e), pos);
    }
    types.clear();
    for (const auto& a : args) types.push_back(a.type);
  }
  if (args.size() == 1 && f->n_funcname == 1 && !f->agg_star && !f->agg_distinct && f->n_agg_order == 0 && !f->agg_filter) {
    // A type name called as a function is a cast when no function takes exactly that argument
    // (PostgreSQL's func_get_detail, FUNCDETAIL_COERCION): date('2020-01-01'), text(12).
    auto tid = sql_type_from_name(name);
    if (tid && *tid != TypeId::kUnknown && *tid != TypeId::kRecord) {
      bool exact = false;
      for (const FunctionImpl* fi : lookup_functions(name))
        exact = exact || (fi->arg_types.size() == 1 && fi->arg_types[0].id == args[0].type.id);
      if (!exact && (args[0].type.id == TypeId::kUnknown || cast_exists(args[0].type.id, *tid, CastContext::kExplicit)))
        return coerce(std::move(args[0]), Type(*tid), CastContext::kExplicit, pos);
    }
  }
  ResolvedCall rc = resolve_function(name, types, pos);
  for (size_t i = 0; i < args.size(); ++i) {
    Type target = i < rc.arg_types.size() ? rc.arg_types[i] : rc.arg_types.back();
    size_t di = std::min(i, rc.impl->arg_types.size() - 1);
    bool any_arg = !rc.impl->arg_types.empty() && rc.impl->arg_types[di].id == TypeId::kUnknown;
    if (any_arg && args[i].type.id == TypeId::kBool && target.id == TypeId::kText) {
      // "any" arguments (concat, concat_ws, format) are rendered by the type's output function,
      // which writes a boolean as t/f; the bool -> text cast writes true/false.
      HExpr b = std::move(args[i]);
      HExpr not_b = HExpr::make(ScalarKind::kNot, {b}, Type(TypeId::kBool));
      auto text = [](const char* s) { return HExpr::literal_of(Datum::from_string(s), Type(TypeId::kText)); };
      args[i] = HExpr::make(ScalarKind::kCase, {std::move(b), text("t"), std::move(not_b), text("f")}, Type(TypeId::kText));
      continue;
    }
    args[i] = coerce(std::move(args[i]), target, any_arg ? CastContext::kExplicit : CastContext::kImplicit, pos);
  }
  return HExpr::call(rc.impl, std::move(args), rc.result_type);
}

HExpr Binder::bind_sublink(const PgQuery__SubLink* s, ExprContext& ctx) {
  int pos = loc(s->location);
  if (s->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) unsupported("this subquery", pos);
  BoundQuery q = bind_query_in(s->subselect->select_stmt, ctx.scope, false);
  if (s->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK) {
    // ARRAY(subquery): array_agg of its one column in the subquery's ORDER BY, over the
    // subquery's rows (hidden ORDER BY columns included); '{}' when it has none.
    if (q.column_names.size() != 1) throw SqlError(sqlstate::kSyntaxError, "subquery must return only one column", pos);
    if (q.limit || q.offset) {
      q.column_names.resize(q.rel->arity());  // keep the hidden columns through the top-k
      HRelPtr limited = as_relation(BoundQuery{q.rel, q.column_names, q.order_by, q.limit, q.offset});
      q.rel = limited;
    }
    Type et = q.rel->column_types[0];
    if (et.id == TypeId::kUnknown) et = Type(TypeId::kText);
    if (et.id == TypeId::kList)  // Materialize's words
      throw SqlError(sqlstate::kFeatureNotSupported, type_name(et) + "[] not yet supported", pos);
    AggregateSignature sig;
    std::vector<Type> ts{et};
    if (!resolve_aggregate("array_agg", ts, sig)) unsupported("ARRAY(subquery)", pos);
    HAggregate agg;
    agg.kind = sig.kind;
    agg.result_type = sig.result_type;
    agg.args.push_back(coerce(HExpr::column_ref(0, 0, q.rel->column_types[0]), sig.arg_types[0], CastContext::kImplicit, pos));
    for (size_t i = 0; i < q.order_by.size(); ++i) {
      const auto& k = q.order_by[i];
      agg.args.push_back(HExpr::column_ref(0, k.column, q.rel->column_types[k.column]));
      dataflow::SortKey sk = k;
      sk.column = static_cast<uint32_t>(i);
      agg.order_keys.push_back(sk);
    }
    auto red = std::make_shared<HRel>();
    red->kind = HRelKind::kReduce;
    red->inputs = {q.rel};
    red->aggregates = {agg};
    red->column_types = {sig.result_type};
    HExpr sub;
    sub.kind = HExprKind::kSubquery;
    sub.type = sig.result_type;
    sub.subquery = red;
    Datum empty = Datum::from_string("{}");
    return HExpr::make(ScalarKind::kCoalesce, {std::move(sub), HExpr::literal_of(empty, sig.result_type)}, sig.result_type);
  }
  HRelPtr rel = resolve_unknowns(as_relation(std::move(q)));
  switch (s->sub_link_type) {
    case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK: {
      HExpr e;
      e.kind = HExprKind::kExists;
      e.type = Type(TypeId::kBool);
      e.subquery = rel;
      return e;
    }
    case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK: {
      if (rel->arity() != 1) throw SqlError(sqlstate::kSyntaxError, "subquery must return only one column", pos);
      HExpr e;
      e.kind = HExprKind::kSubquery;
      e.type = rel->column_types[0];
      if (e.type.id == TypeId::kUnknown) e.type = Type(TypeId::kText);
      e.subquery = rel;
      return e;
    }
    case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK: {
      if (rel->arity() != 1)
        throw SqlError(sqlstate::kSyntaxError, rel->arity() == 0 ? "subquery has too few columns" : "subquery has too many columns", pos);
      std::string op = s->n_oper_name ? last_name(s->oper_name, s->n_oper_name) : "=";
      HExpr x = bind_expr(s->testexpr, ctx);
      // Inside the subquery, x refers one level further out.
      HExpr xin = shift_levels(x, 1, 0);
      HExpr y = HExpr::column_ref(0, 0, rel->column_types[0]);
      HExpr cmp = make_operator(op, xin, y, pos);
      auto exists_where = [&](HExpr pred) {
        auto f = std::make_shared<HRel>();
        f->kind = HRelKind::kFilter;
        f->column_types = rel->column_types;
        f->inputs = {rel};
        f->exprs = {std::move(pred)};
        HExpr e;
        e.kind = HExprKind::kExists;
        e.type = Type(TypeId::kBool);
        e.subquery = f;
        return e;
      };
      HExpr null_case = exists_where(make_bool(ScalarKind::kIsNull, {cmp}));
      HExpr null_bool = HExpr::literal_of(Datum::null(), Type(TypeId::kBool));
      if (s->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK) {
        HExpr hit = exists_where(cmp);
        return HExpr::make(ScalarKind::kCase, {hit, HExpr::literal_of(Datum::from_bool(true), Type(TypeId::kBool)), null_case, null_bool,
                                               HExpr::literal_of(Datum::from_bool(false), Type(TypeId::kBool))},
                           Type(TypeId::kBool));
      }
      HExpr miss = exists_where(make_bool(ScalarKind::kNot, {cmp}));
      return HExpr::make(ScalarKind::kCase, {miss, HExpr::literal_of(Datum::from_bool(false), Type(TypeId::kBool)), null_case, null_bool,
                                             HExpr::literal_of(Datum::from_bool(true), Type(TypeId::kBool))},
                         Type(TypeId::kBool));
    }
    default:
      unsupported("this kind of subquery", pos);
  }
}

// (r).x / (r).n of an _pg_expandarray record: the field's text, cast back. Out of bind_expr so
// that its locals do not grow bind_expr's frame (bind_expr recurses once per nesting level).
HExpr Binder::bind_expand_record_field(HExpr base, const std::string& field_name) {
  std::string field = field_name;
  int k = field == "x" ? 1 : field == "n" ? 2 : 0;
  if (k == 0) throw SqlError(sqlstate::kUndefinedColumn, "column \"" + field + "\" not found in data type record");
  Type ft = k == 1 ? Type(static_cast<TypeId>(base.type.typmod - kExpandRecordTypmod)) : Type(TypeId::kInt4);
  HExpr text = base;
  text.type = Type(TypeId::kText);
  std::vector<Type> t2{Type(TypeId::kText), Type(TypeId::kText)};
  ResolvedCall trim = resolve_function("btrim", t2, 0);
  HExpr inner = HExpr::call(trim.impl, {std::move(text), HExpr::literal_of(Datum::from_string("()"), Type(TypeId::kText))}, trim.result_type);
  std::vector<Type> t3{Type(TypeId::kText), Type(TypeId::kText), Type(TypeId::kInt4)};
  ResolvedCall part = resolve_function("split_part", t3, 0);
  HExpr piece = HExpr::call(part.impl,
                            {std::move(inner), HExpr::literal_of(Datum::from_string(","), Type(TypeId::kText)),
                             HExpr::literal_of(Datum::from_int(k), Type(TypeId::kInt4))},
                            part.result_type);
  HExpr empty = HExpr::literal_of(Datum::from_string(""), Type(TypeId::kText));
  HExpr eq = make_operator("=", piece, empty, 0);
  HExpr nulled = HExpr::make(ScalarKind::kNullIf, {eq.args[0], eq.args[1]}, Type(TypeId::kText));
  nulled.fn = eq.fn;
  return coerce(std::move(nulled), ft, CastContext::kExplicit, 0);
}

HExpr Binder::bind_expr(const PgQuery__Node* node, ExprContext& ctx) {
  check_stack_depth();
  switch (node->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
      return bind_const(node->a_const);
    case PG_QUERY__NODE__NODE_COLUMN_REF:
      return bind_column_ref(node->column_ref, ctx);
    case PG_QUERY__NODE__NODE_PARAM_REF: {
      int n = node->param_ref->number;
      int pos = loc(node->param_ref->location);
      if (n < 1 || n > 65535) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $" + std::to_string(n), pos);
      if (param_types_.size() < static_cast<size_t>(n)) param_types_.resize(n, Type(TypeId::kUnknown));
      HExpr e = HExpr::make(ScalarKind::kParam, {}, param_types_[n - 1]);
      e.column = static_cast<uint32_t>(n - 1);
      return e;
    }
    case PG_QUERY__NODE__NODE_A_EXPR:
      return bind_a_expr(node->a_expr, ctx);
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
      const auto* b = node->bool_expr;
      std::vector<HExpr> args;
      const char* name = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? "AND" : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? "OR" : "NOT";
      for (size_t i = 0; i < b->n_args; ++i) args.push_back(to_bool(bind_expr(b->args[i], ctx), name, loc(b->location)));
      ScalarKind k = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? ScalarKind::kAnd
                     : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? ScalarKind::kOr
                                                                      : ScalarKind::kNot;
      return make_bool(k, std::move(args));
    }
    case PG_QUERY__NODE__NODE_NULL_TEST: {
      HExpr a = bind_expr(node->null_test->arg, ctx);
      if (a.type.id == TypeId::kUnknown) a = coerce(std::move(a), Type(TypeId::kText), CastContext::kImplicit);
      return make_bool(node->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? ScalarKind::kIsNull : ScalarKind::kIsNotNull, {std::move(a)});
    }
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
      const auto* b = node->boolean_test;
      static const char* const kTestName[] = {"", "IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE", "IS UNKNOWN", "IS NOT UNKNOWN"};
      const int test = static_cast<int>(b->booltesttype);
      HExpr a = to_bool(bind_expr(b->arg, ctx), test >= 1 && test <= 6 ? kTestName[test] : "IS TRUE", loc(b->location));
      switch (b->booltesttype) {
        case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE: return make_bool(ScalarKind::kIsTrue, {a});
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE: return make_bool(ScalarKind::kNot, {make_bool(ScalarKind::kIsTrue, {a})});
        case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE: return make_bool(ScalarKind::kIsFalse, {a});
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE: return make_bool(ScalarKind::kNot, {make_bool(ScalarKind::kIsFalse, {a})});
        case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN: return make_bool(ScalarKind::kIsNull, {a});
        default: return make_bool(ScalarKind::kIsNotNull, {a});
      }
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST:
      return bind_cast(node->type_cast, ctx);
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      return bind_func_call(node->func_call, ctx);
    case PG_QUERY__NODE__NODE_SUB_LINK:
      return bind_sublink(node->sub_link, ctx);
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
      const auto* c = node->case_expr;
      int pos = loc(c->location);
      std::optional<HExpr> arg;
      if (c->arg) arg = bind_expr(c->arg, ctx);
      std::vector<HExpr> conds, results;
      for (size_t i = 0; i < c->n_args; ++i) {
        const auto* w = c->args[i]->case_when;
        HExpr cond = bind_expr(w->expr, ctx);
        if (arg) cond = make_operator("=", *arg, std::move(cond), loc(w->location));
        conds.push_back(to_bool(std::move(cond), "CASE/WHEN", loc(w->location)));
        results.push_back(bind_expr(w->result, ctx));
      }
      results.push_back(c->defresult ? bind_expr(c->defresult, ctx) : HExpr::literal_of(Datum::null(), Type(TypeId::kUnknown)));
      results = coerce_common(std::move(results), "CASE", pos);
      std::vector<HExpr> args;
      for (size_t i = 0; i < conds.size(); ++i) {
        args.push_back(std::move(conds[i]));
        args.push_back(std::move(results[i]));
      }
      Type t = results.back().type;
      args.push_back(std::move(results.back()));
      return HExpr::make(ScalarKind::kCase, std::move(args), t);
    }
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: {
      bool coalesce = node->node_case == PG_QUERY__NODE__NODE_COALESCE_EXPR;
      size_t n = coalesce ? node->coalesce_expr->n_args : node->min_max_expr->n_args;
      PgQuery__Node** list = coalesce ? node->coalesce_expr->args : node->min_max_expr->args;
      int pos = loc(coalesce ? node->coalesce_expr->location : node->min_max_expr->location);
      std::vector<HExpr> args;
      for (size_t i = 0; i < n; ++i) args.push_back(bind_expr(list[i], ctx));
      const char* what = coalesce ? "COALESCE" : (node->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "GREATEST" : "LEAST");
      args = coerce_common(std::move(args), what, pos);
      Type t = args[0].type;
      // GREATEST/LEAST compare encoded datums as ORDER BY does: an array's, a list's or a
      // jsonb's text is not in their order (GREATEST(ARRAY[10], ARRAY[9]) would be {9}).
      if (!coalesce) check_orderable(t, pos, what);
      ScalarKind k = coalesce ? ScalarKind::kCoalesce
                              : (node->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? ScalarKind::kGreatest : ScalarKind::kLeast);
      return HExpr::make(k, std::move(args), t);
    }
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
      const auto* v = node->sqlvalue_function;
      std::string fn;
      switch (v->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: fn = "current_date"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N: fn = "now"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N: fn = "localtimestamp"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N: fn = "localtime"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA: fn = "current_schema"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG: fn = "current_database"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER: fn = "session_user"; break;
        default: fn = "current_user"; break;
      }
      ResolvedCall rc = resolve_function(fn, {}, loc(v->location));
      return HExpr::call(rc.impl, {}, rc.result_type);
    }
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
      return bind_expr(node->collate_clause->arg, ctx);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR: {
      const auto* a = node->a_array_expr;
      int pos = loc(a->location);
      std::vector<HExpr> elems;
      for (size_t i = 0; i < a->n_elements; ++i) {
        if (a->elements[i]->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) unsupported("multidimensional arrays", pos);
        elems.push_back(bind_expr(a->elements[i], ctx));
      }
      if (elems.empty())
        throw SqlError(sqlstate::kIndeterminateDatatype, "cannot determine type of empty array", pos)
            .with_hint("Explicitly cast to the desired type, for example ARRAY[]::integer[].");
      elems = coerce_common(std::move(elems), "ARRAY", pos);
      auto at = array_type_of(elems[0].type.id);
      if (!at && elems[0].type.id == TypeId::kList)
        throw SqlError(sqlstate::kFeatureNotSupported, type_name(elems[0].type) + "[] not yet supported", pos);
      if (!at) unsupported("arrays of " + type_name(elems[0].type), pos);
      return HExpr::make(ScalarKind::kArray, std::move(elems), Type(*at));
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: {
      const auto* ind = node->a_indirection;
      const PgQuery__Node* arg = ind->arg;
      if (arg->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && arg->column_ref->n_fields == 1 &&
          arg->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING &&
          std::string_view(arg->column_ref->fields[0]->string->sval) == "list" && ind->n_indirection >= 1 &&
          ind->indirection[0]->node_case == PG_QUERY__NODE__NODE_A_INDICES && !ind->indirection[0]->a_indices->is_slice) {
        // LIST[x] with one element parses as the subscript of a column named list; it is
        // Materialize's list constructor when there is no such column.
        std::optional<HExpr> list;
        try {
          (void)bind_expr(arg, ctx);
        } catch (const SqlError& err) {
          if (err.sqlstate() != sqlstate::kUndefinedColumn) throw;
          std::vector<HExpr> one;
          one.push_back(bind_expr(ind->indirection[0]->a_indices->uidx, ctx));
          list = bind_list_function(kListConstructor, one, loc(arg->column_ref->location));
        }
        if (list) {
          HExpr base = std::move(*list);
          if (ind->n_indirection > 1) unsupported("subscripts of a LIST constructor", loc(arg->column_ref->location));
          return base;
        }
      }
      HExpr base = bind_expr(ind->arg, ctx);
      bool indexed_list = false;
      for (size_t i = 0; i < ind->n_indirection; ++i) {
        const PgQuery__Node* n = ind->indirection[i];
        if (n->node_case == PG_QUERY__NODE__NODE_STRING && base.type.id == TypeId::kRecord &&
            base.type.typmod >= kExpandRecordTypmod) {
          base = bind_expand_record_field(std::move(base), n->string->sval);
          continue;
        }
        if (n->node_case != PG_QUERY__NODE__NODE_A_INDICES) unsupported("field selection");
        const auto* ix = n->a_indices;
        if (base.type.id == TypeId::kList) {
          indexed_list = true;
          // Materialize rounds a non-integer subscript (LIST[1,2,3][1.5] is 2).
          auto bound = [&](const PgQuery__Node* n, int64_t absent) {
            if (n == nullptr) return HExpr::literal_of(Datum::from_int(absent), Type(TypeId::kInt8));
            HExpr b = bind_expr(n, ctx);
            if (b.type.id != TypeId::kUnknown && !is_integer_type(b.type.id) && b.type.id != TypeId::kNumeric &&
                b.type.id != TypeId::kFloat4 && b.type.id != TypeId::kFloat8)
              throw SqlError(sqlstate::kDatatypeMismatch,
                             "subscripting does not support casting from " + type_name(b.type) + " to bigint");  // Materialize's words
            return coerce(std::move(b), Type(TypeId::kInt8), CastContext::kExplicit);
          };
          if (ix->is_slice) {
            HExpr lo = bound(ix->lidx, INT64_MIN), hi = bound(ix->uidx, INT64_MAX);
            Type lt = base.type;
            base = HExpr::make(ScalarKind::kListFn, {std::move(base), std::move(lo), std::move(hi)}, lt);
            base.column = static_cast<uint32_t>(dataflow::ListFn::kSlice);
            continue;
          }
          HExpr idx = bound(ix->uidx, 0);
          Type et = list_element_type(base.type);
          base = HExpr::make(ScalarKind::kArrayIndex, {std::move(base), std::move(idx)}, et);
          continue;
        }
        // Past a list's innermost layer (LIST[1,2][1][1]): Materialize's words.
        if (indexed_list && !is_array_type(base.type.id))
          throw SqlError(sqlstate::kDatatypeMismatch, std::string(ix->is_slice ? "cannot subscript" : "cannot index into") +
                                                          " " + type_name(base.type));
        if (ix->is_slice) unsupported("array slices");
        auto elem = array_element_type(base.type.id);
        if (!elem)
          throw SqlError(sqlstate::kDatatypeMismatch,
                         "cannot subscript type " + type_name(base.type) + " because it does not support subscripting");
        HExpr idx = coerce(bind_expr(ix->uidx, ctx), Type(TypeId::kInt4), CastContext::kImplicit);
        base = HExpr::make(ScalarKind::kArrayIndex, {std::move(base), std::move(idx)}, Type(*elem));
      }
      return base;
    }
    case PG_QUERY__NODE__NODE_ROW_EXPR:
      return bind_row(node->row_expr, ctx);
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
      throw SqlError(sqlstate::kSyntaxError, "DEFAULT is not allowed in this context");
    default:
      unsupported("this expression (node " + std::to_string(node->node_case) + ")");
  }
}

std::string Binder::column_name_for(const PgQuery__Node* node) {
  switch (node->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
      const auto* r = node->column_ref;
      const auto* last = r->fields[r->n_fields - 1];
      return last->node_case == PG_QUERY__NODE__NODE_STRING ? last->string->sval : "?column?";
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      return lower_ident(last_name(node->func_call->funcname, node->func_call->n_funcname));
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
      std::string inner = column_name_for(node->type_cast->arg);
      if (inner != "?column?") return inner;
      const auto* tn = node->type_cast->type_name;
      return tn->n_names ? str_of(tn->names[tn->n_names - 1]) : "?column?";
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR: return "case";
    case PG_QUERY__NODE__NODE_ROW_EXPR: return "row";
    case PG_QUERY__NODE__NODE_COALESCE_EXPR: return "coalesce";
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      return node->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest" : "least";
    case PG_QUERY__NODE__NODE_A_EXPR:
      if (node->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF) return "nullif";
      return "?column?";
    case PG_QUERY__NODE__NODE_SUB_LINK:
      if (node->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK) return "exists";
      if (node->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK &&
          node->sub_link->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        const auto* s = node->sub_link->subselect->select_stmt;
        if (s->n_target_list == 1) {
          const auto* rt = s->target_list[0]->res_target;
          if (rt->name && *rt->name) return rt->name;
          return column_name_for(rt->val);
        }
      }
      return "?column?";
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
      switch (node->sqlvalue_function->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: return "current_date";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N: return "current_timestamp";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER: return "current_user";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER: return "session_user";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER: return "current_user";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA: return "current_schema";
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG: return "current_catalog";
        default: return "?column?";
      }
    case PG_QUERY__NODE__NODE_A_CONST:
      if (node->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) return "bool";
      return "?column?";
    default:
      return "?column?";
  }
}

// ---------------------------------------------------------------------------------------------
// FROM

HRelPtr Binder::relation_for(const ObjectInfo& obj, int position) {
  catalog_.check_read(obj, current_view_, position);
  bool inline_def = (obj.kind == ObjectKind::kView && !obj.maintained) ||
                    (inline_views_ && (obj.kind == ObjectKind::kView || obj.kind == ObjectKind::kMaterializedView) &&
                     !obj.definition_sql.empty());
  if (inline_def) {
    views_read_.push_back(obj.id);
    // What the view reads is checked with its owner's rights.
    const ObjectInfo* outer_view = current_view_;
    current_view_ = &obj;
    struct Restore {
      const ObjectInfo*& v;
      const ObjectInfo* saved;
      ~Restore() { v = saved; }
    } restore{current_view_, outer_view};
    if (view_depth_ > 32) throw SqlError(sqlstate::kInvalidObjectDefinition, "view nesting too deep", position);
    // The definition's names resolve as when the view was created, whatever the search_path
    // of the query that reads it.
    HRelPtr rel;
    catalog_.in_search_path(obj.search_path, [&] {
      if (find_mutually_recursive(obj.definition_sql) != std::string::npos) {
        ++view_depth_;
        auto saved = std::move(ctes_);
        ctes_.clear();
        BoundQuery q = bind_mutually_recursive(obj.definition_sql);
        ctes_ = std::move(saved);
        --view_depth_;
        rel = resolve_unknowns(as_relation(std::move(q)));
        return;
      }
      auto tree = ParseTree::parse(obj.definition_sql);
      const PgQuery__Node* n = tree->statement(0);
      if (n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) throw SqlError(sqlstate::kInternalError, "corrupt view definition");
      ++view_depth_;
      auto saved = std::move(ctes_);
      ctes_.clear();
      BoundQuery q = bind_query_in(n->select_stmt, nullptr, false);
      ctes_ = std::move(saved);
      --view_depth_;
      rel = resolve_unknowns(as_relation(std::move(q)));
    });
    // The catalog's column types are authoritative (a view's output types are fixed).
    return rel;
  }
  if (obj.kind == ObjectKind::kIndex || obj.kind == ObjectKind::kSecret || obj.kind == ObjectKind::kConnection || obj.kind == ObjectKind::kSink ||
      obj.kind == ObjectKind::kType)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + obj.name + "\" is not a relation", position);
  auto rel = std::make_shared<HRel>();
  rel->kind = HRelKind::kGet;
  rel->collection_id = obj.id;
  for (const auto& c : obj.columns) rel->column_types.push_back(c.type);
  return rel;
}

static HRelPtr cross_join(HRelPtr a, HRelPtr b) {
  auto j = std::make_shared<HRel>();
  j->kind = HRelKind::kJoin;
  j->join_kind = JoinKind::kInner;
  j->column_types = a->column_types;
  j->column_types.insert(j->column_types.end(), b->column_types.begin(), b->column_types.end());
  j->inputs = {std::move(a), std::move(b)};
  j->exprs = {HExpr::literal_of(Datum::from_bool(true), Type(TypeId::kBool))};
  return j;
}

void Binder::bind_from(const PgQuery__Node* node, const Scope* outer, HRelPtr& rel, Scope& scope) {
  // A chain of JOINs recurses here once per join, without passing through bind_query_in or
  // bind_expr (whose checks cover subqueries and expressions).
  check_stack_depth();
  switch (node->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
      const auto* rv = node->range_var;
      std::string name = rv->relname;
      std::string schema = rv->schemaname ? rv->schemaname : "";
      std::string alias = rv->alias && *rv->alias->aliasname ? rv->alias->aliasname : name;
      int pos = loc(rv->location);
      std::vector<std::string> names;
      std::vector<Type> types;
      HRelPtr r;
      bool found = false;
      uint32_t origin = 0;
      if (schema.empty()) {
        for (auto it = ctes_.rbegin(); it != ctes_.rend() && !found; ++it) {
          auto c = it->find(name);
          if (c != it->end()) {
            if (c->second.forbidden != nullptr)
              throw SqlError(sqlstate::kInvalidRecursion, c->second.forbidden, pos);
            r = c->second.rel;
            names = c->second.names;
            found = true;
            if (r && r->refers_outside(1)) {
              // A correlated CTE used from a subquery: its outer references move out by the
              // number of scopes between the use and the WITH.
              int hops = 0;
              const Scope* p = outer;
              while (p != nullptr && p != c->second.outer) p = p->parent, ++hops;
              if (p == c->second.outer && hops > 0) {
                auto copy = std::make_shared<HRel>(*r);
                shift_rel(*copy, hops, 1);
                r = copy;
              }
            }
          }
        }
      }
      if (!found) {
        if (rv->catalogname && *rv->catalogname && !catalog_.is_current_database(rv->catalogname))
          throw SqlError(sqlstate::kFeatureNotSupported,
                         "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "." + schema + "." + name + "\"", pos);
        const ObjectInfo* obj = catalog_.lookup(schema, name);
        if (!obj)
          throw SqlError(sqlstate::kUndefinedTable,
                         "relation \"" + (schema.empty() ? name : schema + "." + name) + "\" does not exist", pos);
        r = relation_for(*obj, pos);
        for (const auto& c : obj->columns) names.push_back(c.name);
        if (obj->kind == ObjectKind::kTable || obj->kind == ObjectKind::kSystemView) origin = obj->oid;
      }
      if (rv->alias)
        for (size_t i = 0; i < rv->alias->n_colnames && i < names.size(); ++i) names[i] = str_of(rv->alias->colnames[i]);
      uint32_t base = rel ? static_cast<uint32_t>(rel->arity()) : 0;
      for (size_t i = 0; i < names.size(); ++i) {
        ScopeItem item{alias, names[i], r->column_types[i], base + static_cast<uint32_t>(i)};
        if (origin != 0) {
          item.origin_table = origin;
          item.origin_attnum = static_cast<int16_t>(i + 1);
        }
        scope.items.push_back(item);
      }
      rel = rel ? cross_join(rel, r) : r;
      return;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
      const auto* rs = node->range_subselect;
      if (rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) unsupported("this subquery in FROM");
      // Without LATERAL, a subquery in FROM sees only the enclosing queries, not its siblings.
      // LATERAL with FROM items before it: they are its level 1.
      bool lateral = rs->lateral && rel != nullptr;
      // The first item of a join's right side: the items before the join (lateral_scope_).
      const Scope* before_join = rs->lateral && rel == nullptr ? lateral_scope_ : nullptr;
      lateral_scope_ = nullptr;
      BoundQuery q = bind_query_in(rs->subquery->select_stmt, lateral ? &scope : before_join ? before_join : outer, false);
      std::vector<std::string> names = q.column_names;
      HRelPtr r = resolve_unknowns(as_relation(std::move(q)));
      std::string alias = rs->alias ? rs->alias->aliasname : "";
      if (rs->alias)
        for (size_t i = 0; i < rs->alias->n_colnames && i < names.size(); ++i) names[i] = str_of(rs->alias->colnames[i]);
      uint32_t base = rel ? static_cast<uint32_t>(rel->arity()) : 0;
      for (size_t i = 0; i < names.size(); ++i) scope.items.push_back({alias, names[i], r->column_types[i], base + static_cast<uint32_t>(i)});
      if (before_join && r->refers_outside(1)) ++lateral_uses_;  // the enclosing join becomes lateral
      if (lateral && r->refers_outside(1)) {
        // The subquery reads the FROM items before it (its level 1): a lateral join.
        auto l = std::make_shared<HRel>();
        l->kind = HRelKind::kLateral;
        l->column_types = rel->column_types;
        l->column_types.insert(l->column_types.end(), r->column_types.begin(), r->column_types.end());
        l->inputs = {rel, r};
        rel = l;
        return;
      }
      rel = rel ? cross_join(rel, r) : r;
      return;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
      const auto* j = node->join_expr;
      HRelPtr left, right;
      Scope ls, rs;
      ls.parent = outer;
      rs.parent = outer;
      // What a LATERAL subquery on this join's right side may read besides the join's left: the
      // FROM items before the join (comma list) or the left of an enclosing join.
      const Scope* inherited = lateral_scope_;
      const Scope* before_join = rel ? &scope : inherited;
      struct Restore {
        const Scope*& slot;
        const Scope* value;
        ~Restore() { slot = value; }
      } restore{lateral_scope_, inherited};
      lateral_scope_ = nullptr;
      bind_from(j->larg, outer, left, ls);
      bool lateral_right = j->rarg->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION ||
                           (j->rarg->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT && j->rarg->range_subselect->lateral);
      if (lateral_right && j->jointype == PG_QUERY__JOIN_TYPE__JOIN_INNER && j->n_using_clause == 0 && !j->is_natural) {
        // a [CROSS] JOIN LATERAL f(a...) [ON p]: the right side reads the left's columns, as
        // in a FROM list; the ON condition filters the pairs.
        HRelPtr combined = left;
        Scope cs = ls;
        bind_from(j->rarg, outer, combined, cs);
        if (j->quals) {
          ExprContext ctx;
          ctx.scope = &cs;
          ctx.clause = "JOIN conditions";
          auto f = std::make_shared<HRel>();
          f->kind = HRelKind::kFilter;
          f->inputs = {combined};
          f->column_types = combined->column_types;
          f->exprs = {to_bool(bind_expr(j->quals, ctx), "JOIN/ON", 0)};
          combined = f;
        }
        if (j->alias) unsupported("an alias on a JOIN LATERAL");
        uint32_t base = rel ? static_cast<uint32_t>(rel->arity()) : 0;
        for (auto it : cs.items) {
          it.column += base;
          scope.items.push_back(it);
        }
        rel = rel ? cross_join(rel, combined) : combined;
        return;
      }
      JoinKind kind = JoinKind::kInner;
      switch (j->jointype) {
        case PG_QUERY__JOIN_TYPE__JOIN_LEFT: kind = JoinKind::kLeft; break;
        case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: kind = JoinKind::kRight; break;
        case PG_QUERY__JOIN_TYPE__JOIN_FULL: kind = JoinKind::kFull; break;
        default: break;
      }
      // An inner join's right side may read its left laterally (a CROSS JOIN (b FULL JOIN
      // LATERAL (SELECT a.x) s ON true)); otherwise what is before the join.
      const bool lateral_on_left = kind == JoinKind::kInner && before_join == nullptr && j->n_using_clause == 0 &&
                                   !j->is_natural && !j->alias;
      lateral_scope_ = lateral_on_left ? &ls : before_join;
      const uint64_t uses_before = lateral_uses_;
      bind_from(j->rarg, outer, right, rs);
      lateral_scope_ = nullptr;
      const bool right_lateral = lateral_uses_ != uses_before;
      if (right_lateral && !lateral_on_left) {
        // This join reads the items before it at level 1: the left side's own references to the
        // enclosing queries move one level out.
        if (left->refers_outside(1)) {
          auto copy = std::make_shared<HRel>(*left);
          shift_rel(*copy, 1, 1);
          left = copy;
        }
      }
      uint32_t larity = static_cast<uint32_t>(left->arity());
      auto join = std::make_shared<HRel>();
      join->kind = HRelKind::kJoin;
      join->join_kind = kind;
      join->column_types = left->column_types;
      join->column_types.insert(join->column_types.end(), right->column_types.begin(), right->column_types.end());
      join->inputs = {left, right};
      Scope js;
      js.parent = outer;
      js.items = ls.items;
      for (auto it : rs.items) {
        it.column += larity;
        js.items.push_back(it);
      }
      // USING / NATURAL: the listed columns are compared and appear once, first.
      std::vector<std::string> using_cols;
      for (size_t i = 0; i < j->n_using_clause; ++i) using_cols.push_back(str_of(j->using_clause[i]));
      if (j->is_natural)
        for (const auto& li : ls.items)
          for (const auto& ri : rs.items)
            if (li.star && ri.star && li.name == ri.name && !li.qualified_only && !ri.qualified_only) using_cols.push_back(li.name);
      std::vector<HExpr> map_exprs;
      std::vector<ScopeItem> merged;
      HExpr pred = HExpr::literal_of(Datum::from_bool(true), Type(TypeId::kBool));
      if (!using_cols.empty()) {
        std::vector<HExpr> terms;
        uint32_t next = static_cast<uint32_t>(join->arity());
        for (const auto& name : using_cols) {
          const ScopeItem* l = nullptr;
          const ScopeItem* r = nullptr;
          // PostgreSQL's transformFromClauseItem: a USING column must be unambiguous on each side.
          for (const auto& it : ls.items)
            if (it.name == name && !it.qualified_only) {
              if (l && l->column != it.column)
                throw SqlError(sqlstate::kAmbiguousColumn, "common column name \"" + name + "\" appears more than once in left table");
              l = &it;
            }
          for (const auto& it : rs.items)
            if (it.name == name && !it.qualified_only) {
              if (r && r->column != it.column)
                throw SqlError(sqlstate::kAmbiguousColumn, "common column name \"" + name + "\" appears more than once in right table");
              r = &it;
            }
          if (!l || !r)
            throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" specified in USING clause does not exist in " + (l ? "right" : "left") + " table");
          HExpr le = HExpr::column_ref(0, l->column, l->type);
          HExpr re = HExpr::column_ref(0, r->column + larity, r->type);
          // PostgreSQL's buildMergedJoinVar: the two columns need a common type (42804
          // "JOIN/USING types integer and date cannot be matched") before `=` is looked up.
          const Type pair[] = {l->type, r->type};
          (void)common_type(pair, "JOIN/USING", 0);
          HExpr eq = make_operator("=", le, re, 0);
          terms.push_back(eq);
          Type t = eq.args[0].type;
          HExpr out;
          if (kind == JoinKind::kFull)
            out = HExpr::make(ScalarKind::kCoalesce, {eq.args[0], eq.args[1]}, t);
          else if (kind == JoinKind::kRight)
            out = eq.args[1];
          else
            out = eq.args[0];
          if (out.kind == HExprKind::kColumn) {
            merged.push_back({"", name, out.type, out.column});
          } else {
            map_exprs.push_back(out);
            merged.push_back({"", name, t, next++});
          }
        }
        pred = terms.size() == 1 ? terms[0] : make_bool(ScalarKind::kAnd, terms);
        for (auto& it : js.items)
          if (std::find(using_cols.begin(), using_cols.end(), it.name) != using_cols.end()) {
            it.qualified_only = true;
            it.star = false;
          }
      } else if (j->quals) {
        ExprContext ctx;
        ctx.scope = &js;
        ctx.clause = "JOIN conditions";
        pred = to_bool(bind_expr(j->quals, ctx), "JOIN/ON", 0);
      }
      if (right_lateral && !lateral_on_left) pred = shift_levels(pred, 1, 1);
      join->exprs = {pred};
      HRelPtr result = join;
      if (right_lateral && lateral_on_left) {
        // left CROSS JOIN <right reading left>: a lateral join filtered by the ON condition.
        auto l = std::make_shared<HRel>();
        l->kind = HRelKind::kLateral;
        l->column_types = join->column_types;
        l->inputs = {left, right};
        auto f = std::make_shared<HRel>();
        f->kind = HRelKind::kFilter;
        f->inputs = {l};
        f->column_types = l->column_types;
        f->exprs = {pred};
        result = f;
      }
      if (!map_exprs.empty()) {
        auto m = std::make_shared<HRel>();
        m->kind = HRelKind::kMap;
        m->inputs = {join};
        m->column_types = join->column_types;
        for (const auto& e : map_exprs) m->column_types.push_back(e.type);
        m->exprs = map_exprs;
        result = m;
      }
      std::vector<ScopeItem> items = merged;
      items.insert(items.end(), js.items.begin(), js.items.end());
      if (j->join_using_alias && j->join_using_alias->aliasname && *j->join_using_alias->aliasname) {
        // `JOIN ... USING (a, b) AS x` (PostgreSQL 14): x.a and x.b name the merged columns,
        // x.* lists them; unqualified names and the join's * are unchanged.
        for (ScopeItem it : merged) {
          it.table = j->join_using_alias->aliasname;
          it.star = false;
          it.qualified_only = true;
          items.push_back(it);
        }
      }
      if (j->alias) {
        // An alias hides the inner names: the join's visible columns get the alias.
        std::string a = j->alias->aliasname;
        std::vector<ScopeItem> aliased;
        size_t k = 0;
        for (auto it : items) {
          if (!it.star) continue;
          it.table = a;
          if (k < j->alias->n_colnames) it.name = str_of(j->alias->colnames[k]);
          ++k;
          aliased.push_back(it);
        }
        items = aliased;
      }
      uint32_t base = rel ? static_cast<uint32_t>(rel->arity()) : 0;
      for (auto it : items) {
        it.column += base;
        scope.items.push_back(it);
      }
      if (right_lateral && !lateral_on_left && rel) {
        // FROM a, <join reading a>: a lateral join of the items before it and this join.
        auto l = std::make_shared<HRel>();
        l->kind = HRelKind::kLateral;
        l->column_types = rel->column_types;
        l->column_types.insert(l->column_types.end(), result->column_types.begin(), result->column_types.end());
        l->inputs = {rel, result};
        rel = l;
        return;
      }
      // Without `rel`, a lateral use counted above is seen by the enclosing join (lateral_uses_).
      rel = rel ? cross_join(rel, result) : result;
      return;
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
      bind_range_function(node->range_function, outer, rel, scope);
      return;
    default:
      unsupported("this FROM item");
  }
}

void Binder::bind_range_function(const PgQuery__RangeFunction* rf, const Scope* outer, HRelPtr& rel, Scope& scope) {
  if (rf->is_rowsfrom || rf->n_functions != 1) unsupported("ROWS FROM");
  if (rf->n_coldeflist > 0) unsupported("column definition lists");
  const PgQuery__Node* item = rf->functions[0];
  // Each item is a List [FuncCall, coldeflist].
  const PgQuery__Node* fnode = item->node_case == PG_QUERY__NODE__NODE_LIST && item->list->n_items > 0 ? item->list->items[0] : item;
  if (fnode->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) unsupported("this function in FROM");
  const auto* f = fnode->func_call;
  int pos = loc(f->location);
  std::string name = lower_ident(last_name(f->funcname, f->n_funcname));
  // Functions in FROM see the FROM items before them (they are implicitly LATERAL).
  Scope fscope;
  fscope.parent = outer;
  fscope.items = scope.items;
  ExprContext ctx;
  ctx.scope = &fscope;
  ctx.clause = "functions in FROM";
  std::vector<HExpr> args;
  for (size_t i = 0; i < f->n_args; ++i) args.push_back(bind_expr(f->args[i], ctx));
  auto fm = std::make_shared<HRel>();
  fm->kind = HRelKind::kFlatMap;
  Type out;
  std::vector<Type> outs;               // several output columns (else just `out`)
  std::vector<std::string> out_names;   // their names, unless the alias gives column names
  if (name == "unnest") {
    if (args.size() != 1) unsupported("unnest with " + std::to_string(args.size()) + " arguments", pos);
    if (args[0].type.id == TypeId::kUnknown)
      throw SqlError(sqlstate::kUndefinedFunction, "function unnest(unknown) is not unique", pos)
          .with_hint("Could not choose a best candidate function. You might need to add explicit type casts.");
    auto et = array_element_type(args[0].type.id);
    if (!et) throw SqlError(sqlstate::kUndefinedFunction, "function unnest(" + type_name(args[0].type) + ") does not exist", pos);
    fm->table_func = dataflow::TableFunc::kUnnest;
    out = Type(*et);
  } else if (name == "generate_series") {
    if (args.size() != 2 && args.size() != 3)
      throw SqlError(sqlstate::kUndefinedFunction, "function generate_series with " + std::to_string(args.size()) + " arguments does not exist", pos);
    std::vector<HExpr> bounds(args.begin(), args.begin() + 2);
    bounds = coerce_common(std::move(bounds), "generate_series", pos);
    TypeId t = bounds[0].type.id;
    if (t == TypeId::kInt2) t = TypeId::kInt4;
    if (t == TypeId::kDate) t = TypeId::kTimestamp;  // generate_series(date, date, interval) is timestamp's
    if (t == TypeId::kFloat4 || t == TypeId::kFloat8) t = TypeId::kNumeric;
    if (t != TypeId::kInt4 && t != TypeId::kInt8 && t != TypeId::kNumeric && t != TypeId::kTimestamp && t != TypeId::kTimestampTz)
      throw SqlError(sqlstate::kUndefinedFunction, "function generate_series(" + type_name(bounds[0].type) + ", " + type_name(bounds[1].type) + ") does not exist", pos);
    bool timeish = t == TypeId::kTimestamp || t == TypeId::kTimestampTz;
    if (timeish && args.size() != 3)
      throw SqlError(sqlstate::kUndefinedFunction, "function generate_series(" + type_name(Type(t)) + ", " + type_name(Type(t)) + ") does not exist", pos);
    for (auto& b : bounds) b = coerce(std::move(b), Type(t), CastContext::kImplicit, pos);
    if (args.size() == 3) bounds.push_back(coerce(std::move(args[2]), timeish ? Type(TypeId::kInterval) : Type(t), CastContext::kImplicit, pos));
    args = std::move(bounds);
    fm->table_func = dataflow::TableFunc::kGenerateSeries;
    out = Type(t);
  } else if (name == "jsonb_array_elements" || name == "jsonb_array_elements_text" || name == "jsonb_each" ||
             name == "jsonb_each_text" || name == "jsonb_object_keys") {
    if (args.size() != 1 || !can_coerce(args[0].type.id, TypeId::kJsonb, CastContext::kImplicit)) {
      std::string sig;
      for (size_t i = 0; i < args.size(); ++i) sig += (i > 0 ? ", " : "") + type_name(args[i].type);
      throw SqlError(sqlstate::kUndefinedFunction, "function " + name + "(" + sig + ") does not exist", pos)
          .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.");
    }
    args[0] = coerce(std::move(args[0]), Type(TypeId::kJsonb), CastContext::kImplicit, pos);
    bool text = name == "jsonb_array_elements_text" || name == "jsonb_each_text";
    if (name == "jsonb_array_elements" || name == "jsonb_array_elements_text") {
      fm->table_func = text ? dataflow::TableFunc::kJsonbArrayElementsText : dataflow::TableFunc::kJsonbArrayElements;
      out_names = {"value"};  // the OUT parameter's name, whatever the alias
    } else if (name == "jsonb_object_keys") {
      fm->table_func = dataflow::TableFunc::kJsonbObjectKeys;
      out = Type(TypeId::kText);
    } else {
      fm->table_func = text ? dataflow::TableFunc::kJsonbEachText : dataflow::TableFunc::kJsonbEach;
      out_names = {"key", "value"};
      outs = {Type(TypeId::kText)};
    }
    if (name != "jsonb_object_keys") outs.push_back(text ? Type(TypeId::kText) : Type(TypeId::kJsonb));
  } else if (name == "pg_get_keywords" && args.empty()) {
    // A catalog function returning a set of rows: the pg_catalog relation of the same name.
    const ObjectInfo* obj = catalog_.lookup("pg_catalog", name);
    if (!obj) unsupported("function " + name + " in FROM", pos);
    HRelPtr r = relation_for(*obj, pos);
    std::string alias = rf->alias && *rf->alias->aliasname ? rf->alias->aliasname : name;
    uint32_t base = rel ? static_cast<uint32_t>(rel->arity()) : 0;
    for (size_t i = 0; i < obj->columns.size(); ++i) {
      std::string col = rf->alias && i < rf->alias->n_colnames ? str_of(rf->alias->colnames[i]) : obj->columns[i].name;
      scope.items.push_back({alias, col, r->column_types[i], base + static_cast<uint32_t>(i)});
    }
    rel = rel ? cross_join(rel, r) : r;
    return;
  } else {
    // A function that is not set-returning gives one row with its value, as in PostgreSQL
    // (Grafana's `string_to_array(current_setting('search_path'), ',') s`).
    HExpr value = bind_func_call(f, ctx);
    if (value.type.id == TypeId::kUnknown) value = coerce(std::move(value), Type(TypeId::kText), CastContext::kImplicit, pos);
    HRelPtr input = rel;
    if (!input) {
      input = std::make_shared<HRel>();
      input->kind = HRelKind::kConstant;
      input->rows.push_back({});
    }
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {input};
    m->column_types = input->column_types;
    uint32_t col = static_cast<uint32_t>(input->arity());
    m->column_types.push_back(value.type);
    m->exprs.push_back(std::move(value));
    if (rf->ordinality) {
      m->column_types.push_back(Type(TypeId::kInt8));
      m->exprs.push_back(HExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt8)));
    }
    std::string alias = rf->alias && *rf->alias->aliasname ? rf->alias->aliasname : name;
    std::string cname = rf->alias ? (rf->alias->n_colnames > 0 ? str_of(rf->alias->colnames[0]) : std::string(rf->alias->aliasname)) : name;
    scope.items.push_back({alias, cname, m->column_types[col], col});
    if (rf->ordinality) {
      std::string ord = rf->alias && rf->alias->n_colnames > 1 ? str_of(rf->alias->colnames[1]) : "ordinality";
      scope.items.push_back({alias, ord, Type(TypeId::kInt8), col + 1});
    }
    rel = m;
    return;
  }
  HRelPtr input = rel;
  if (!input) {
    input = std::make_shared<HRel>();
    input->kind = HRelKind::kConstant;
    input->rows.push_back({});
  }
  uint32_t base = static_cast<uint32_t>(input->arity());
  fm->inputs = {input};
  fm->exprs = std::move(args);
  fm->with_ordinality = rf->ordinality;
  if (outs.empty()) outs = {out};
  fm->column_types = input->column_types;
  for (const Type& t : outs) fm->column_types.push_back(t);
  if (rf->ordinality) fm->column_types.push_back(Type(TypeId::kInt8));
  // A function's column is named by the alias (table alias, then column aliases), else by
  // the function's name; functions with named OUT parameters (jsonb_each's key and value)
  // keep those names unless column aliases are given.
  std::string alias = rf->alias && *rf->alias->aliasname ? rf->alias->aliasname : name;
  size_t ncols = outs.size() + (rf->ordinality ? 1 : 0);
  if (rf->alias && rf->alias->n_colnames > ncols)
    throw SqlError("42P10", "table \"" + alias + "\" has " + std::to_string(ncols) + " columns available but " +
                                std::to_string(rf->alias->n_colnames) + " columns specified", pos);
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string col = i < out_names.size() ? out_names[i] : rf->alias ? std::string(rf->alias->aliasname) : name;
    if (rf->alias && i < rf->alias->n_colnames) col = str_of(rf->alias->colnames[i]);
    scope.items.push_back({alias, col, outs[i], base + static_cast<uint32_t>(i)});
    // A single-column function's alias also names its value (PostgreSQL's whole-row
    // reference to a scalar function: `FROM jsonb_array_elements_text(x) e ... SELECT e`).
    if (outs.size() == 1 && col != alias) {
      ScopeItem whole{alias, alias, outs[i], base + static_cast<uint32_t>(i)};
      whole.star = false;
      whole.whole_row = true;
      scope.items.push_back(whole);
    }
  }
  if (rf->ordinality) {
    size_t at = outs.size();
    std::string ord = rf->alias && rf->alias->n_colnames > at ? str_of(rf->alias->colnames[at]) : "ordinality";
    scope.items.push_back({alias, ord, Type(TypeId::kInt8), base + static_cast<uint32_t>(at)});
  }
  rel = fm;
}

void Binder::bind_with(const PgQuery__WithClause* with, const Scope* outer) {
  ctes_.emplace_back();
  for (size_t i = 0; i < with->n_ctes; ++i) {
    const auto* cte = with->ctes[i]->common_table_expr;
    // PostgreSQL's transformWithClause: names are unique within one WITH.
    for (size_t j = 0; j < i; ++j)
      if (std::string_view(with->ctes[j]->common_table_expr->ctename) == cte->ctename)
        throw SqlError(sqlstate::kDuplicateAlias, "WITH query name \"" + std::string(cte->ctename) + "\" specified more than once",
                       loc(cte->location));
    if (cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) unsupported("data-modifying statements in WITH", loc(cte->location));
    if (with->recursive) {
      bind_recursive_cte(cte, outer);
      continue;
    }
    BoundQuery q = bind_query_in(cte->ctequery->select_stmt, outer, false);
    Cte c;
    c.outer = outer;
    c.names = q.column_names;
    for (size_t k = 0; k < cte->n_aliascolnames && k < c.names.size(); ++k) c.names[k] = str_of(cte->aliascolnames[k]);
    c.rel = resolve_unknowns(as_relation(std::move(q)));
    ctes_.back()[cte->ctename] = std::move(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Recursion

HRelPtr Binder::get_local(uint64_t id, std::vector<Type> types) {
  auto g = std::make_shared<HRel>();
  g->kind = HRelKind::kGetLocal;
  g->local_id = id;
  g->column_types = std::move(types);
  return g;
}

namespace {

// PostgreSQL's restrictions on where the recursive reference may appear in the recursive
// term (parse_cte.c), checked on the bound term. Throws 42P19 (0A000 for what PostgreSQL
// does not implement either).
void count_local_refs(const HRel& r, uint64_t id, int& n);
void count_local_refs(const HExpr& e, uint64_t id, int& n) {
  if (e.subquery) count_local_refs(*e.subquery, id, n);
  for (const auto& a : e.args) count_local_refs(a, id, n);
}
void count_local_refs(const HRel& r, uint64_t id, int& n) {
  if (r.kind == HRelKind::kGetLocal && r.local_id == id) ++n;
  for (const auto& in : r.inputs) count_local_refs(*in, id, n);
  for (const auto& e : r.exprs) count_local_refs(e, id, n);
  for (const auto& e : r.group_key) count_local_refs(e, id, n);
  for (const auto& a : r.aggregates)
    for (const auto& e : a.args) count_local_refs(e, id, n);
  for (const auto& row : r.rows)
    for (const auto& e : row) count_local_refs(e, id, n);
}
int local_refs(const HRel& r, uint64_t id) {
  int n = 0;
  count_local_refs(r, id, n);
  return n;
}
int local_refs(const HExpr& e, uint64_t id) {
  int n = 0;
  count_local_refs(e, id, n);
  return n;
}

void check_recursive_term(const HRel& r, uint64_t id, const std::string& name, int pos) {
  auto fail = [&](const std::string& where) {
    throw SqlError(sqlstate::kInvalidRecursion, "recursive reference to query \"" + name + "\" must not appear within " + where, pos);
  };
  if (local_refs(r, id) == 0) return;
  auto exprs_refer = [&](const std::vector<HExpr>& es) {
    for (const auto& e : es)
      if (local_refs(e, id) > 0) fail("a subquery");
  };
  exprs_refer(r.exprs);
  exprs_refer(r.group_key);
  for (const auto& a : r.aggregates) exprs_refer(a.args);
  for (const auto& row : r.rows) exprs_refer(row);
  switch (r.kind) {
    case HRelKind::kJoin: {
      bool left_nullable = r.join_kind == JoinKind::kRight || r.join_kind == JoinKind::kFull;
      bool right_nullable = r.join_kind == JoinKind::kLeft || r.join_kind == JoinKind::kFull;
      if ((left_nullable && local_refs(*r.inputs[0], id) > 0) || (right_nullable && local_refs(*r.inputs[1], id) > 0))
        fail("an outer join");
      break;
    }
    case HRelKind::kSetOp:
      if (r.set_op == SetOpKind::kIntersect) fail("INTERSECT");
      if (r.set_op == SetOpKind::kExcept && local_refs(*r.inputs[1], id) > 0) fail("EXCEPT");
      break;
    case HRelKind::kReduce:
      throw SqlError(sqlstate::kInvalidRecursion, "aggregate functions are not allowed in a recursive query's recursive term", pos);
    case HRelKind::kTopK:
      throw SqlError(sqlstate::kFeatureNotSupported, "ORDER BY, LIMIT or OFFSET in a recursive query's recursive term is not supported", pos);
    default:
      break;
  }
  for (const auto& in : r.inputs) check_recursive_term(*in, id, name, pos);
}

HRelPtr make_let_rec(std::vector<uint64_t> ids, std::vector<HRelPtr> bindings, HRelPtr body, dataflow::RecursionLimit limit) {
  auto l = std::make_shared<HRel>();
  l->kind = HRelKind::kLetRec;
  l->local_ids = std::move(ids);
  l->column_types = body->column_types;
  l->inputs = std::move(bindings);
  l->inputs.push_back(std::move(body));
  l->recursion_limit = limit;
  return l;
}

}  // namespace

void Binder::bind_recursive_cte(const PgQuery__CommonTableExpr* cte, const Scope* outer) {
  const std::string name = cte->ctename;
  const int pos = loc(cte->location);
  const PgQuery__SelectStmt* stmt = cte->ctequery->select_stmt;
  // ctes_ may grow while binding (nested WITH): address this WITH's level by index.
  const size_t level = ctes_.size() - 1;
  auto set_names = [&](std::vector<std::string> names) {
    if (cte->n_aliascolnames > names.size())
      throw SqlError(sqlstate::kInvalidColumnReference,
                     "WITH query \"" + name + "\" has " + std::to_string(names.size()) + " columns available but " +
                         std::to_string(cte->n_aliascolnames) + " columns specified",
                     pos);
    for (size_t k = 0; k < cte->n_aliascolnames; ++k) names[k] = str_of(cte->aliascolnames[k]);
    return names;
  };
  bool is_union = stmt->op == PG_QUERY__SET_OPERATION__SETOP_UNION;
  std::string wrong_form = "recursive query \"" + name + "\" does not have the form non-recursive-term UNION [ALL] recursive-term";
  std::string in_non_recursive = "recursive reference to query \"" + name + "\" must not appear within its non-recursive term";
  // A query that is not a UNION may not mention itself; one that does not is a plain CTE.
  if (!is_union) {
    ctes_[level][name] = Cte{nullptr, {}, wrong_form.c_str(), pos};
    BoundQuery q = bind_query_in(stmt, outer, false);
    Cte c;
    c.outer = outer;
    c.names = set_names(q.column_names);
    c.rel = resolve_unknowns(as_relation(std::move(q)));
    ctes_[level][name] = std::move(c);
    return;
  }
  if (stmt->n_sort_clause > 0) throw SqlError(sqlstate::kFeatureNotSupported, "ORDER BY in a recursive query is not implemented", pos);
  if (stmt->limit_offset) throw SqlError(sqlstate::kFeatureNotSupported, "OFFSET in a recursive query is not implemented", pos);
  if (stmt->limit_count) throw SqlError(sqlstate::kFeatureNotSupported, "LIMIT in a recursive query is not implemented", pos);
  if (stmt->n_locking_clause) throw SqlError(sqlstate::kFeatureNotSupported, "FOR UPDATE/SHARE in a recursive query is not implemented", pos);
  bool pushed = false;
  if (stmt->with_clause) {
    bind_with(stmt->with_clause, outer);
    pushed = true;
  }
  struct PopWith {
    Binder* b;
    bool pushed;
    ~PopWith() {
      if (pushed) b->ctes_.pop_back();
    }
  } pop{this, pushed};
  // The non-recursive term fixes the column types.
  ctes_[level][name] = Cte{nullptr, {}, in_non_recursive.c_str(), pos};
  BoundQuery base = bind_query_in(stmt->larg, outer, false);
  std::vector<std::string> names = set_names(base.column_names);
  HRelPtr base_rel = as_relation(std::move(base));
  std::vector<Type> types = base_rel->column_types;
  for (auto& t : types)
    if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
  const uint64_t id = next_local_id_++;
  ctes_[level][name] = Cte{get_local(id, types), names, nullptr, pos};
  BoundQuery rec = bind_query_in(stmt->rarg, outer, false);
  HRelPtr rec_rel = as_relation(std::move(rec));
  ctes_[level].erase(name);
  int refs = local_refs(*rec_rel, id);
  if (refs == 0) {
    // Not recursive after all: an ordinary UNION.
    BoundQuery q = bind_query_in(stmt, outer, false);
    Cte c;
    c.outer = outer;
    c.names = set_names(q.column_names);
    c.rel = resolve_unknowns(as_relation(std::move(q)));
    ctes_[level][name] = std::move(c);
    return;
  }
  if (refs > 1)
    throw SqlError(sqlstate::kInvalidRecursion, "recursive reference to query \"" + name + "\" must not appear more than once", pos);
  check_recursive_term(*rec_rel, id, name, pos);
  if (rec_rel->refers_outside(1) || base_rel->refers_outside(1)) unsupported("WITH RECURSIVE that refers to an enclosing query", pos);
  if (rec_rel->arity() != types.size())
    throw SqlError(sqlstate::kSyntaxError, "each UNION query must have the same number of columns", pos);
  // The recursive term's columns must fit the non-recursive term's types.
  auto fit = [&](HRelPtr side, bool base_side) -> HRelPtr {
    bool need = false;
    for (size_t c = 0; c < side->arity(); ++c)
      need |= side->column_types[c].id != types[c].id || (types[c].id == TypeId::kList && side->column_types[c] != types[c]);
    if (!need) return side;
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {side};
    m->column_types = side->column_types;
    for (size_t c = 0; c < side->arity(); ++c) {
      if (!base_side) {
        Type common = common_type(std::vector<Type>{types[c], side->column_types[c]}, "UNION", pos);
        if (common.id != types[c].id && !(common.id == TypeId::kUnknown && types[c].id == TypeId::kText))
          throw SqlError(sqlstate::kDatatypeMismatch,
                         "recursive query \"" + name + "\" column " + std::to_string(c + 1) + " has type " +
                             type_name(types[c]) + " in non-recursive term but type " + type_name(common) + " overall",
                         pos)
              .with_hint("Cast the output of the non-recursive term to the correct type.");
      }
      m->exprs.push_back(coerce(HExpr::column_ref(0, static_cast<uint32_t>(c), side->column_types[c]), types[c], CastContext::kImplicit, pos));
      m->column_types.push_back(types[c]);
    }
    auto p = std::make_shared<HRel>();
    p->kind = HRelKind::kProject;
    p->inputs = {m};
    for (size_t c = 0; c < side->arity(); ++c) p->columns.push_back(static_cast<uint32_t>(side->arity() + c));
    p->column_types = types;
    return p;
  };
  auto u = std::make_shared<HRel>();
  u->kind = HRelKind::kSetOp;
  u->set_op = SetOpKind::kUnion;
  u->all = stmt->all;
  u->inputs = {fit(base_rel, true), fit(rec_rel, false)};
  u->column_types = types;
  Cte c;
  c.names = names;
  c.rel = make_let_rec({id}, {u}, get_local(id, types), {kDefaultRecursionLimit, false});
  ctes_[level][name] = std::move(c);
}

namespace {
std::shared_ptr<ParseTree> parse_mutually_recursive_part(const std::string& sql, const MutuallyRecursiveQuery& mr);
}  // namespace

BoundQuery Binder::bind_mutually_recursive(std::string_view sql) {
  // A statement that is one WITH MUTUALLY RECURSIVE query, or any query with such queries
  // nested in parentheses (`(WITH MUTUALLY RECURSIVE ...) UNION (...)`, a subquery).
  size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) != 0)) ++i;
  if (i < sql.size() && sql[i] != '(' && is_mutually_recursive(sql)) return bind_mutually_recursive_in(sql);
  return bind_text_with_nested(std::string(sql), nullptr, true);
}

std::string Binder::hoist_mutually_recursive(std::string_view sql, std::map<std::string, Cte>& hoisted) {
  std::vector<Token> t = tokenize(sql);
  auto punct = [&](size_t k, char c) {
    return k < t.size() && t[k].kind == Token::Kind::kPunct && t[k].text.size() == 1 && t[k].text[0] == c;
  };
  auto word = [&](size_t k, std::string_view w) { return k < t.size() && t[k].kind == Token::Kind::kWord && t[k].text == w; };
  std::string out;
  size_t at = 0;
  for (size_t k = 0; k < t.size(); ++k) {
    if (!(punct(k, '(') && word(k + 1, "with") && word(k + 2, "mutually") && word(k + 3, "recursive"))) continue;
    int depth = 0;
    size_t close = k;
    for (; close < t.size(); ++close) {
      if (punct(close, '(')) ++depth;
      if (punct(close, ')') && --depth == 0) break;
    }
    if (close >= t.size()) break;  // unbalanced: the grammar reports it
    std::string_view inner = sql.substr(t[k].end, t[close].begin - t[k].end);
    BoundQuery q;
    ++nested_wmr_;
    try {
      q = bind_mutually_recursive_in(inner);
    } catch (SqlError& e) {
      --nested_wmr_;
      if (e.sqlstate() == std::string(sqlstate::kUndefinedColumn))
        e.with_hint("A WITH MUTUALLY RECURSIVE query nested in another cannot read the enclosing query's columns in Freshet.");
      throw;
    }
    --nested_wmr_;
    std::vector<std::string> names = q.column_names;
    HRelPtr rel = resolve_unknowns(as_relation(std::move(q)));
    std::string name = "__mz_wmr_" + std::to_string(next_hoisted_++);
    names.resize(rel->column_types.size());
    hoisted[name] = Cte{rel, names, nullptr, static_cast<int>(t[k].begin) + 1};
    out.append(sql.substr(at, t[k].begin - at));
    out += "(SELECT * FROM " + name + ")";
    at = t[close].end;
    k = close;
  }
  if (at == 0) return std::string(sql);
  out.append(sql.substr(at));
  return out;
}

BoundQuery Binder::bind_text_with_nested(const std::string& sql, const MutuallyRecursiveQuery* mr, bool top) {
  size_t first = sql.find_first_not_of(" \t\r\n");
  if (mr) {
    // A WITH MUTUALLY RECURSIVE nested in a binding of another that reads the enclosing one's
    // bindings: Materialize iterates the inner one to its fixpoint at every step of the outer
    // one; Freshet's recursion would give other rows (Materialize's with_mutually_recursive.slt,
    // strongly connected components), so it is refused rather than answered wrongly.
    std::vector<Token> t = tokenize(sql);
    size_t k = 0;
    while (k + 1 < t.size() && !(t[k].kind == Token::Kind::kWord && t[k].text == "mutually" &&
                                 t[k + 1].kind == Token::Kind::kWord && t[k + 1].text == "recursive"))
      ++k;
    // The nested query's own bindings shadow the enclosing ones.
    std::set<std::string> own;
    if (k >= 1 && k + 1 < t.size()) {
      size_t from = t[k - 1].begin, to = sql.size();
      if (k >= 2 && t[k - 2].kind == Token::Kind::kPunct && t[k - 2].text == "(") {
        int depth = 0;
        for (size_t j = k - 2; j < t.size(); ++j) {
          if (t[j].kind == Token::Kind::kPunct && t[j].text == "(") ++depth;
          if (t[j].kind == Token::Kind::kPunct && t[j].text == ")" && --depth == 0) {
            to = t[j].begin;
            break;
          }
        }
      }
      try {
        for (const auto& b : split_mutually_recursive(std::string_view(sql).substr(from, to - from)).bindings) own.insert(b.name);
      } catch (const SqlError&) {
      }
    }
    for (size_t j = k + 2; k + 1 < t.size() && j < t.size(); ++j)
      for (const auto& b : mr->bindings)
        if ((t[j].kind == Token::Kind::kWord || t[j].kind == Token::Kind::kQuotedIdent) && t[j].text == b.name && !own.count(b.name))
          throw SqlError(sqlstate::kFeatureNotSupported,
                         "a WITH MUTUALLY RECURSIVE nested in a binding cannot read the enclosing query's binding \"" + b.name + "\"")
              .with_hint("Move its bindings into the enclosing WITH MUTUALLY RECURSIVE.");
  }
  if (mr && first != std::string::npos && sql[first] != '(' && is_mutually_recursive(sql)) {
    // A binding whose query is itself WITH MUTUALLY RECURSIVE.
    ++nested_wmr_;
    struct Dec {
      int& n;
      ~Dec() { --n; }
    } dec{nested_wmr_};
    return bind_mutually_recursive_in(sql);
  }
  std::map<std::string, Cte> hoisted;
  std::string text = hoist_mutually_recursive(sql, hoisted);
  bool pushed = !hoisted.empty();
  if (pushed) ctes_.push_back(std::move(hoisted));
  struct Pop {
    Binder* b;
    bool on;
    ~Pop() {
      if (on) b->ctes_.pop_back();
    }
  } pop{this, pushed};
  std::shared_ptr<ParseTree> tree;
  if (mr) {
    tree = parse_mutually_recursive_part(text, *mr);
  } else {
    tree = ParseTree::parse(text);
  }
  if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kSyntaxError, "expected a SELECT");
  BoundQuery q = top && view_depth_ == 0 && nested_wmr_ == 0 ? bind_query(tree->statement(0)->select_stmt)
                                         : bind_query_in(tree->statement(0)->select_stmt, nullptr, false);
  return q;
}

namespace {
// A binding's query or the final query. A binding named by a word PostgreSQL's grammar
// reserves (Materialize allows `both (n int) AS (...) ... FROM both`) fails to parse where it
// is referenced: then every unquoted use of a binding's name is quoted and the text parsed
// again; the first error stands when that fails too.
std::shared_ptr<ParseTree> parse_mutually_recursive_part(const std::string& sql, const MutuallyRecursiveQuery& mr) {
  std::optional<SqlError> first;
  try {
    return ParseTree::parse(sql);
  } catch (const SqlError& e) {
    first = e;
  }
  std::vector<Token> t = tokenize(sql);
  std::string out;
  size_t at = 0;
  for (const Token& tok : t) {
    if (tok.kind != Token::Kind::kWord) continue;
    for (const auto& b : mr.bindings)
      if (tok.text == b.name) {
        out.append(sql, at, tok.begin - at);
        out += "\"" + b.name + "\"";
        at = tok.end;
        break;
      }
  }
  if (at == 0) throw *first;
  out.append(sql, at, std::string::npos);
  try {
    return ParseTree::parse(out);
  } catch (const SqlError&) {
  }
  throw *first;
}
}  // namespace

BoundQuery Binder::bind_mutually_recursive_in(std::string_view sql) {
  MutuallyRecursiveQuery mr = split_mutually_recursive(sql);
  // Positions in the pieces' own text are moved to the statement's.
  auto shifted = [](const SqlError& e, size_t offset) {
    SqlError r(e.sqlstate(), e.message(), e.position() > 0 ? e.position() + static_cast<int>(offset) : 0);
    if (!e.detail().empty()) r.with_detail(e.detail());
    if (!e.hint().empty()) r.with_hint(e.hint());
    return r;
  };
  std::vector<std::vector<Type>> types;
  std::vector<std::vector<std::string>> names;
  std::vector<uint64_t> ids;
  std::map<std::string, Cte> scope;
  for (const auto& b : mr.bindings) {
    if (scope.count(b.name))
      throw SqlError(sqlstate::kDuplicateAlias, "WITH MUTUALLY RECURSIVE binding name \"" + b.name + "\" specified more than once", b.position);
    // The column definitions, parsed as a table's.
    std::shared_ptr<ParseTree> cols;
    try {
      cols = ParseTree::parse("CREATE TABLE mutually_recursive (" + b.columns_sql + ")");
    } catch (SqlError&) {
      throw SqlError(sqlstate::kSyntaxError, "invalid column definitions for WITH MUTUALLY RECURSIVE binding \"" + b.name + "\": expected (column type, ...)", b.position);
    }
    const PgQuery__Node* st = cols->statement(0);
    std::vector<Type> ts;
    std::vector<std::string> ns;
    if (st->node_case == PG_QUERY__NODE__NODE_CREATE_STMT) {
      for (size_t k = 0; k < st->create_stmt->n_table_elts; ++k) {
        const PgQuery__Node* el = st->create_stmt->table_elts[k];
        if (el->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF || el->column_def->type_name == nullptr)
          throw SqlError(sqlstate::kSyntaxError, "invalid column definitions for WITH MUTUALLY RECURSIVE binding \"" + b.name + "\"", b.position);
        ns.push_back(el->column_def->colname);
        ts.push_back(bind_type(el->column_def->type_name));
      }
    }
    const uint64_t id = next_local_id_++;
    ids.push_back(id);
    scope[b.name] = Cte{get_local(id, ts), ns, nullptr, b.position};
    types.push_back(std::move(ts));
    names.push_back(std::move(ns));
  }
  ctes_.push_back(std::move(scope));
  struct Pop {
    Binder* b;
    ~Pop() { b->ctes_.pop_back(); }
  } pop{this};
  std::vector<HRelPtr> bindings;
  for (size_t i = 0; i < mr.bindings.size(); ++i) {
    const auto& b = mr.bindings[i];
    HRelPtr rel;
    try {
      BoundQuery q = bind_text_with_nested(b.query_sql, &mr, false);
      // Untyped literals are text, as in any subquery: `bar (x int8) AS (SELECT '1')` is a
      // type mismatch (Materialize), not an implicit cast of the literal.
      rel = resolve_unknowns(as_relation(std::move(q)));
    } catch (const SqlError& e) {
      throw shifted(e, b.query_offset);
    }
    const auto& want = types[i];
    auto type_list = [](const std::vector<Type>& ts) {
      std::string s;
      for (size_t k = 0; k < ts.size(); ++k) s += (k > 0 ? ", " : "") + type_name(ts[k]);
      return "(" + s + ")";
    };
    std::vector<Type> got(rel->column_types.begin(), rel->column_types.end());
    auto mismatch = [&]() {
      return SqlError(sqlstate::kDatatypeMismatch,
                      "WITH MUTUALLY RECURSIVE query \"" + b.name + "\" declared types " + type_list(want) +
                          ", but query returns types " + type_list(got),
                      b.position);
    };
    if (got.size() != want.size()) throw mismatch();
    bool need = false;
    // A declared modifier (numeric(38,2), varchar(3)) applies to the rows too.
    for (size_t c = 0; c < got.size(); ++c)
      need |= got[c].id != want[c].id || (want[c].typmod >= 0 && got[c].typmod != want[c].typmod);
    if (need) {
      auto m = std::make_shared<HRel>();
      m->kind = HRelKind::kMap;
      m->inputs = {rel};
      m->column_types = rel->column_types;
      for (size_t c = 0; c < got.size(); ++c) {
        HExpr col = HExpr::column_ref(0, static_cast<uint32_t>(c), got[c]);
        try {
          m->exprs.push_back(coerce(col, want[c], CastContext::kAssignment, b.position));
        } catch (const SqlError&) {
          throw mismatch();
        }
        m->column_types.push_back(want[c]);
      }
      auto p = std::make_shared<HRel>();
      p->kind = HRelKind::kProject;
      p->inputs = {m};
      for (size_t c = 0; c < got.size(); ++c) p->columns.push_back(static_cast<uint32_t>(got.size() + c));
      p->column_types = want;
      rel = p;
    }
    bindings.push_back(rel);
  }
  BoundQuery q;
  try {
    q = bind_text_with_nested(mr.final_sql, &mr, true);
  } catch (const SqlError& e) {
    throw shifted(e, mr.final_offset);
  }
  dataflow::RecursionLimit limit{mr.limit.value_or(kDefaultRecursionLimit), mr.limit.has_value() && mr.return_at_limit};
  q.rel = make_let_rec(ids, std::move(bindings), q.rel, limit);
  return q;
}


// ---------------------------------------------------------------------------------------------
// Queries

BoundQuery Binder::bind_query(const PgQuery__SelectStmt* stmt) {
  BoundQuery q = bind_query_in(stmt, nullptr, true);
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    if (q.rel->column_types[i].id == TypeId::kUnknown) {
      // SELECT 'abc': an unknown output becomes text.
      auto m = std::make_shared<HRel>();
      m->kind = HRelKind::kMap;
      m->inputs = {q.rel};
      m->column_types = q.rel->column_types;
      std::vector<uint32_t> cols;
      for (uint32_t c = 0; c < q.rel->arity(); ++c) cols.push_back(c);
      for (size_t c = 0; c < q.rel->arity(); ++c) {
        if (q.rel->column_types[c].id == TypeId::kUnknown) {
          HExpr col = HExpr::column_ref(0, static_cast<uint32_t>(c), Type(TypeId::kUnknown));
          col.type = Type(TypeId::kText);  // unknown literals are text at run time
          m->exprs.push_back(col);
          m->column_types.push_back(Type(TypeId::kText));
          cols[c] = static_cast<uint32_t>(q.rel->arity() + m->exprs.size() - 1);
        }
      }
      auto p = std::make_shared<HRel>();
      p->kind = HRelKind::kProject;
      p->inputs = {m};
      p->columns = cols;
      for (auto c : cols) p->column_types.push_back(m->column_types[c]);
      q.rel = p;
      break;
    }
  }
  return q;
}

BoundQuery Binder::bind_query_in(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top) {
  check_stack_depth();
  bool pushed = false;
  if (stmt->with_clause) {
    bind_with(stmt->with_clause, outer);
    pushed = true;
  }
  BoundQuery q;
  try {
    if (stmt->op != PG_QUERY__SET_OPERATION__SETOP_NONE && stmt->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED)
      q = bind_set_op(stmt, outer, top);
    else if (stmt->n_values_lists > 0)
      q = bind_values(stmt, outer);
    else
      q = bind_select_core(stmt, outer, top);
  } catch (...) {
    if (pushed) ctes_.pop_back();
    throw;
  }
  if (pushed) ctes_.pop_back();
  return q;
}

HRelPtr Binder::resolve_unknowns(HRelPtr rel) {
  // PostgreSQL 10+: a subquery's untyped literal columns ('foo') become text when it is used
  // as a relation (FROM, WITH, views, sublinks); only INSERT ... SELECT and set operations see
  // them still unknown.
  bool any = false;
  for (const Type& t : rel->column_types) any |= t.id == TypeId::kUnknown;
  if (!any) return rel;
  uint32_t n = static_cast<uint32_t>(rel->arity());
  auto m = std::make_shared<HRel>();
  m->kind = HRelKind::kMap;
  m->inputs = {rel};
  m->column_types = rel->column_types;
  for (uint32_t c = 0; c < n; ++c) {
    Type t = rel->column_types[c].id == TypeId::kUnknown ? Type(TypeId::kText) : rel->column_types[c];
    m->exprs.push_back(coerce(HExpr::column_ref(0, c, rel->column_types[c]), t, CastContext::kImplicit));
    m->column_types.push_back(t);
  }
  auto p = std::make_shared<HRel>();
  p->kind = HRelKind::kProject;
  p->inputs = {m};
  for (uint32_t c = 0; c < n; ++c) {
    p->columns.push_back(n + c);
    p->column_types.push_back(m->column_types[n + c]);
  }
  return p;
}

// ORDER BY n past the select list: PostgreSQL's words, or Materialize's (order_by.slt:155).
[[noreturn]] static void order_by_position_error(int k, size_t n, int pos) {
  if (materialize_dialect())
    throw SqlError(sqlstate::kInvalidColumnReference, "column reference " + std::to_string(k) +
                                                          " in ORDER BY clause is out of range (1 - " + std::to_string(n) + ")",
                   pos);
  throw SqlError(sqlstate::kInvalidColumnReference, "ORDER BY position " + std::to_string(k) + " is not in select list", pos);
}

// Materialize refuses OFFSET NULL (PostgreSQL reads it as OFFSET 0): order_by.slt:1213-1219.
void mz_offset_null() {
  throw SqlError(sqlstate::kInvalidRowCountInResultOffsetClause,
                 "Invalid OFFSET clause: Expected an expression that evaluates to a non-null value, got null");
}

void mz_check_offset_value(const Datum& d) {
  if (d.is_null()) mz_offset_null();
  if (d.as_int() < 0)
    throw SqlError(sqlstate::kInvalidRowCountInResultOffsetClause,
                   "Invalid OFFSET clause: must not be negative, got " + std::to_string(d.as_int()));
}

// Materialize checks a constant OFFSET when the statement is planned (PREPARE, CREATE VIEW),
// PostgreSQL when it runs: order_by.slt:1313, 1320.
static void mz_check_offset(const HExpr& offset) {
  if (offset.contains_subquery())  // order_by.slt:1379
    throw SqlError(sqlstate::kFeatureNotSupported, "OFFSET does not allow subqueries");
  if (offset.refers_outside(0)) return;
  dataflow::ScalarExpr se = lower_constant_expr(offset);
  if (!dataflow::is_constant_expr(se)) return;
  Arena arena;
  EvalContext ectx;
  ectx.arena = &arena;
  mz_check_offset_value(dataflow::eval(se, {}, ectx));
}

HRelPtr Binder::as_relation(BoundQuery q) {
  HRelPtr rel = q.rel;
  if (!q.order_by.empty() || q.limit || q.offset) {
    auto t = std::make_shared<HRel>();
    t->kind = HRelKind::kTopK;
    t->inputs = {rel};
    t->column_types = rel->column_types;
    t->order_by = q.order_by;
    auto constant = [&](const std::optional<HExpr>& e, const char* what) -> std::optional<uint64_t> {
      if (!e) return std::nullopt;
      if (!e->is_literal()) unsupported(std::string("non-constant ") + what + " in a subquery");
      Datum d = e->literal.get(0);
      if (d.is_null()) return std::nullopt;
      if (d.as_int() < 0)
        throw SqlError(std::string(what) == "LIMIT" ? sqlstate::kInvalidRowCountInLimitClause : sqlstate::kInvalidRowCountInResultOffsetClause,
                       std::string(what) + " must not be negative");
      return static_cast<uint64_t>(d.as_int());
    };
    t->limit = constant(q.limit, "LIMIT");
    t->offset = constant(q.offset, "OFFSET").value_or(0);
    rel = t;
  }
  if (q.column_names.size() < rel->arity()) {
    auto p = std::make_shared<HRel>();
    p->kind = HRelKind::kProject;
    p->inputs = {rel};
    for (uint32_t i = 0; i < q.column_names.size(); ++i) {
      p->columns.push_back(i);
      p->column_types.push_back(rel->column_types[i]);
    }
    rel = p;
  }
  return rel;
}

BoundQuery Binder::bind_values(const PgQuery__SelectStmt* stmt, const Scope* outer) {
  Scope empty;
  empty.parent = outer;
  ExprContext ctx;
  ctx.scope = &empty;
  ctx.clause = "VALUES";
  std::vector<std::vector<HExpr>> rows;
  size_t arity = 0;
  for (size_t i = 0; i < stmt->n_values_lists; ++i) {
    const auto* l = stmt->values_lists[i]->list;
    std::vector<HExpr> row;
    for (size_t k = 0; k < l->n_items; ++k) row.push_back(bind_expr(l->items[k], ctx));
    if (i == 0) arity = row.size();
    if (row.size() != arity) throw SqlError(sqlstate::kSyntaxError, "VALUES lists must all be the same length");
    rows.push_back(std::move(row));
  }
  auto rel = std::make_shared<HRel>();
  rel->kind = HRelKind::kConstant;
  for (size_t c = 0; c < arity; ++c) {
    std::vector<HExpr> col;
    for (auto& r : rows) col.push_back(r[c]);
    bool all_unknown = std::all_of(col.begin(), col.end(), [](const HExpr& e) { return e.type.id == TypeId::kUnknown; });
    if (!all_unknown || rows.size() > 1) col = coerce_common(std::move(col), "VALUES", 0);
    for (size_t r = 0; r < rows.size(); ++r) rows[r][c] = col[r];
    rel->column_types.push_back(col[0].type);
  }
  rel->rows = std::move(rows);
  BoundQuery q;
  q.rel = rel;
  for (size_t c = 0; c < arity; ++c) q.column_names.push_back("column" + std::to_string(c + 1));
  apply_order_limit(stmt, q, false, outer);
  return q;
}

BoundQuery Binder::bind_set_op(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top) {
  BoundQuery l = bind_query_in(stmt->larg, outer, false);
  BoundQuery r = bind_query_in(stmt->rarg, outer, false);
  std::vector<std::string> names = l.column_names;
  HRelPtr lr = as_relation(std::move(l));
  HRelPtr rr = as_relation(std::move(r));
  const char* opname = stmt->op == PG_QUERY__SET_OPERATION__SETOP_UNION ? "UNION"
                       : stmt->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? "INTERSECT" : "EXCEPT";
  if (lr->arity() != rr->arity())
    throw SqlError(sqlstate::kSyntaxError, std::string("each ") + opname + " query must have the same number of columns");
  std::vector<Type> types;
  for (size_t c = 0; c < lr->arity(); ++c) {
    Type t = common_type(std::vector<Type>{lr->column_types[c], rr->column_types[c]}, opname, 0);
    if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
    types.push_back(without_typmod(t));
  }
  auto cast_side = [&](HRelPtr side) -> HRelPtr {
    bool need = false;
    for (size_t c = 0; c < side->arity(); ++c)
      need |= side->column_types[c].id != types[c].id || (types[c].id == TypeId::kList && side->column_types[c] != types[c]);
    if (!need) return side;
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {side};
    m->column_types = side->column_types;
    for (size_t c = 0; c < side->arity(); ++c) {
      m->exprs.push_back(coerce(HExpr::column_ref(0, static_cast<uint32_t>(c), side->column_types[c]), types[c], CastContext::kImplicit));
      m->column_types.push_back(types[c]);
    }
    auto p = std::make_shared<HRel>();
    p->kind = HRelKind::kProject;
    p->inputs = {m};
    for (size_t c = 0; c < side->arity(); ++c) p->columns.push_back(static_cast<uint32_t>(side->arity() + c));
    p->column_types = types;
    return p;
  };
  auto rel = std::make_shared<HRel>();
  rel->kind = HRelKind::kSetOp;
  rel->set_op = stmt->op == PG_QUERY__SET_OPERATION__SETOP_UNION ? SetOpKind::kUnion
                : stmt->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? SetOpKind::kIntersect : SetOpKind::kExcept;
  rel->all = stmt->all;
  // Rows compared across the sides (all but UNION ALL): a bpchar column whose sides may differ
  // in trailing blanks (lengths differ or are not given) is compared without them, as
  // bpchar's = does. With one length on both sides the values are padded alike.
  std::vector<bool> strip(types.size(), false);
  if (!(rel->set_op == SetOpKind::kUnion && rel->all))
    for (size_t c = 0; c < types.size(); ++c)
      strip[c] = types[c].id == TypeId::kBpchar &&
                 (lr->column_types[c].id != TypeId::kBpchar || rr->column_types[c].id != TypeId::kBpchar ||
                  lr->column_types[c].typmod < 0 || lr->column_types[c].typmod != rr->column_types[c].typmod);
  rel->inputs = {bpchar_keys(cast_side(lr), strip), bpchar_keys(cast_side(rr), strip)};
  rel->column_types = types;
  BoundQuery q;
  q.rel = rel;
  q.column_names = names;
  apply_order_limit(stmt, q, top, outer);
  return q;
}

// ORDER BY over a query's output columns only (set operations and VALUES).
void Binder::apply_order_limit(const PgQuery__SelectStmt* stmt, BoundQuery& q, bool top, const Scope* outer) {
  (void)top;
  for (size_t i = 0; i < stmt->n_sort_clause; ++i) {
    const auto* sb = stmt->sort_clause[i]->sort_by;
    int pos = loc(sb->location);
    int col = -1;
    const auto* n = sb->node;
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      int k = n->a_const->ival->ival;
      if (k < 1 || k > static_cast<int>(q.column_names.size())) order_by_position_error(k, q.column_names.size(), pos);
      col = k - 1;
    } else if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
      std::string name = str_of(n->column_ref->fields[0]);
      for (size_t c = 0; c < q.column_names.size(); ++c)
        if (q.column_names[c] == name) {
          col = static_cast<int>(c);
          break;
        }
      if (col < 0) {
        // Materialize's extension: an outer query's column (this is a correlated subquery) is
        // one value for all of this query's rows, so ordering by it changes nothing and the
        // key is dropped. PostgreSQL refuses it (0A000, "invalid UNION/INTERSECT/EXCEPT ORDER
        // BY clause"); Materialize's order_by.slt relies on it.
        bool outer_column = false;
        for (const Scope* s = outer; s != nullptr && !outer_column; s = s->parent)
          for (const auto& it : s->items)
            if (it.name == name && !it.qualified_only) outer_column = true;
        if (outer_column) continue;
        throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" does not exist", pos);
      }
    } else {
      throw SqlError(sqlstate::kFeatureNotSupported,
                     "invalid UNION/INTERSECT/EXCEPT ORDER BY clause", pos)
          .with_detail("Only result column names can be used, not expressions or functions.");
    }
    if (q.rel && static_cast<size_t>(col) < q.rel->column_types.size()) check_orderable(q.rel->column_types[col], pos);
    dataflow::SortKey k;
    k.column = static_cast<uint32_t>(col);
    k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                    (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && k.descending);
    q.order_by.push_back(k);
  }
  Scope empty;
  empty.parent = outer;
  ExprContext ctx;
  ctx.scope = &empty;
  ctx.clause = "LIMIT";
  if (stmt->limit_count) {
    HExpr e = bind_expr(stmt->limit_count, ctx);
    if (!e.is_null_literal()) q.limit = coerce(std::move(e), Type(TypeId::kInt8), CastContext::kImplicit);
  }
  if (stmt->limit_offset) {
    ctx.clause = "OFFSET";
    q.offset = coerce(bind_expr(stmt->limit_offset, ctx), Type(TypeId::kInt8), CastContext::kImplicit);
    if (materialize_dialect()) mz_check_offset(*q.offset);
  }
}

namespace {
// Replaces, after aggregation, group-key expressions and aggregate placeholders by the
// Reduce's output columns; any other column of the input is a grouping error.
HExpr rewrite_post_agg(const HExpr& e, const std::vector<HExpr>& keys, uint32_t nkeys, const Scope& scope) {
  for (uint32_t i = 0; i < keys.size(); ++i)
    if (keys[i] == e) return HExpr::column_ref(0, i, e.type);
  if (e.kind == HExprKind::kColumn) {
    if (e.level == kAggLevel) return HExpr::column_ref(0, nkeys + e.column, e.type);
    if (e.level == 0) {
      std::string name = "?";
      for (const auto& it : scope.items)
        if (it.column == e.column) name = it.table.empty() ? it.name : it.table + "." + it.name;
      throw SqlError(sqlstate::kGroupingError,
                     "column \"" + name + "\" must appear in the GROUP BY clause or be used in an aggregate function");
    }
    return e;
  }
  HExpr r = e;
  for (auto& a : r.args) a = rewrite_post_agg(a, keys, nkeys, scope);
  // Subqueries may refer to this level's columns (level 1 inside them); those must be grouped
  // too. Supporting that needs rewriting inside the subquery; refuse clearly instead.
  if (r.subquery && r.subquery->refers_outside(1)) {
    // Allowed only when the subquery's references are all to outer levels beyond this one.
    if (r.subquery->refers_outside(1) && !r.subquery->refers_outside(2))
      throw SqlError(sqlstate::kFeatureNotSupported, "correlated subqueries over grouped queries are not supported");
  }
  return r;
}
}  // namespace

namespace {
HExpr replace_window_refs(const HExpr& e, const std::vector<uint32_t>& cols) {
  if (e.kind == HExprKind::kColumn) {
    if (e.level == kWindowLevel) return HExpr::column_ref(0, cols[e.column], e.type);
    return e;
  }
  HExpr r = e;
  for (auto& a : r.args) a = replace_window_refs(a, cols);
  return r;
}
}  // namespace

HRelPtr Binder::bind_windows(HRelPtr rel, const std::vector<WindowCall>& windows, std::vector<HExpr>& outputs) {
  // Calls with the same PARTITION BY and ORDER BY share one kWindow node.
  std::vector<uint32_t> result_col(windows.size());
  std::vector<bool> done(windows.size(), false);
  // Nested calls (Materialize): a call reads the results of the calls inside its arguments,
  // PARTITION BY and ORDER BY, which come before it in the list. Depth 0 reads none; depth
  // d is computed after every call of smaller depth.
  std::vector<int> depth(windows.size(), 0);
  std::function<int(const HExpr&)> expr_depth = [&](const HExpr& e) -> int {
    if (e.kind == HExprKind::kColumn) return e.level == kWindowLevel ? depth[e.column] + 1 : 0;
    int d = 0;
    for (const auto& a : e.args) d = std::max(d, expr_depth(a));
    return d;
  };
  int max_depth = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    for (const auto* v : {&windows[i].args, &windows[i].partition, &windows[i].order})
      for (const auto& e : *v) depth[i] = std::max(depth[i], expr_depth(e));
    max_depth = std::max(max_depth, depth[i]);
  }
  for (int level = 0; level <= max_depth; ++level)
  for (size_t i = 0; i < windows.size(); ++i) {
    if (done[i] || depth[i] != level) continue;
    const WindowCall& w = windows[i];
    auto same_spec = [&](const WindowCall& o) {
      if (!(o.partition == w.partition) || !(o.order == w.order) || o.keys.size() != w.keys.size()) return false;
      for (size_t k = 0; k < o.keys.size(); ++k)
        if (o.keys[k].descending != w.keys[k].descending || o.keys[k].nulls_first != w.keys[k].nulls_first) return false;
      return true;
    };
    // The partition and order expressions as columns of a map over rel.
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {rel};
    m->column_types = rel->column_types;
    auto column_for = [&](const HExpr& raw) -> uint32_t {
      HExpr e = replace_window_refs(raw, result_col);
      if (e.kind == HExprKind::kColumn && e.level == 0) return e.column;
      m->exprs.push_back(e);
      m->column_types.push_back(e.type);
      return static_cast<uint32_t>(m->column_types.size() - 1);
    };
    auto win = std::make_shared<HRel>();
    win->kind = HRelKind::kWindow;
    for (const auto& p : w.partition) win->group_columns.push_back(column_for(p));
    for (size_t k = 0; k < w.order.size(); ++k) {
      dataflow::SortKey key = w.keys[k];
      key.column = column_for(w.order[k]);
      win->order_by.push_back(key);
    }
    // Every call of this spec, with its arguments as columns of the map.
    std::vector<size_t> calls;
    for (size_t j = i; j < windows.size(); ++j) {
      if (done[j] || depth[j] != level || !same_spec(windows[j])) continue;
      done[j] = true;
      calls.push_back(j);
      const WindowCall& c = windows[j];
      dataflow::WindowFunc f;
      f.kind = c.kind;
      for (const HExpr& a : c.args) f.args.push_back(column_for(a));
      f.agg_kind = c.agg_kind;
      f.agg_filter = c.agg_filter;
      f.ignore_nulls = c.ignore_nulls;
      f.frame = c.frame;
      f.result_type = c.result_type;
      win->window_funcs.push_back(std::move(f));
    }
    HRelPtr in = m->exprs.empty() ? rel : m;
    win->inputs = {in};
    win->column_types = in->column_types;
    for (size_t j : calls) {
      result_col[j] = static_cast<uint32_t>(win->column_types.size());
      win->column_types.push_back(windows[j].result_type);
    }
    rel = win;
  }
  for (auto& o : outputs) o = replace_window_refs(o, result_col);
  return rel;
}

namespace {
// A set-returning function at the top of a select-list item.
struct TargetSrf {
  enum class Kind { kUnnest, kSubscripts, kExpandX, kExpandN, kExpandRecord } kind;
  const PgQuery__Node* array;
  std::string name;  // the column's default name
};

std::optional<TargetSrf> target_srf(const PgQuery__Node* v) {
  std::optional<std::string> field;
  if (v->node_case == PG_QUERY__NODE__NODE_A_INDIRECTION && v->a_indirection->n_indirection == 1 &&
      v->a_indirection->indirection[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
    field = v->a_indirection->indirection[0]->string->sval;
    v = v->a_indirection->arg;
  }
  if (v->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return std::nullopt;
  const auto* f = v->func_call;
  if (f->over || f->agg_star || f->agg_distinct) return std::nullopt;
  std::string name = lower_ident(last_name(f->funcname, f->n_funcname));
  if (name == "_pg_expandarray" && f->n_args == 1 && field && (*field == "x" || *field == "n"))
    return TargetSrf{*field == "x" ? TargetSrf::Kind::kExpandX : TargetSrf::Kind::kExpandN, f->args[0], *field};
  if (field) return std::nullopt;
  if (name == "_pg_expandarray" && f->n_args == 1) return TargetSrf{TargetSrf::Kind::kExpandRecord, f->args[0], name};
  if (name == "unnest" && f->n_args == 1) return TargetSrf{TargetSrf::Kind::kUnnest, f->args[0], name};
  if (name == "generate_subscripts" && f->n_args == 2) return TargetSrf{TargetSrf::Kind::kSubscripts, f->args[0], name};
  return std::nullopt;
}
}  // namespace

namespace {
// Set-returning functions of one column that a select list runs as a FROM item would
// (generate_series, the jsonb ones).
// Casts over it are kept (`generate_series(1, 3)::mz_timestamp`, Materialize's
// window_funcs.slt): srf_under_casts peels them.
const PgQuery__Node* srf_under_casts(const PgQuery__Node* v) {
  while (v && v->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) v = v->type_cast->arg;
  return v;
}
bool from_style_srf(const PgQuery__Node* v) {
  v = srf_under_casts(v);
  if (!v || v->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return false;
  const auto* f = v->func_call;
  if (f->over || f->agg_star || f->agg_distinct || f->agg_filter || f->n_agg_order > 0) return false;
  std::string name = lower_ident(last_name(f->funcname, f->n_funcname));
  return name == "generate_series" || name == "jsonb_array_elements" || name == "jsonb_array_elements_text" ||
         name == "jsonb_object_keys";
}
}  // namespace

std::map<size_t, HExpr> Binder::bind_target_srfs(const PgQuery__SelectStmt* stmt, Scope& scope, HRelPtr& rel) {
  std::map<size_t, HExpr> out;
  // generate_series(...) / jsonb_array_elements(...) / jsonb_object_keys(...) alone in the
  // select list: a LATERAL FlatMap over the FROM rows, its column the item's value (each input
  // row gives one output row per value, none when the function gives none, as PostgreSQL).
  {
    std::vector<size_t> items;
    size_t others = 0;
    for (size_t i = 0; i < stmt->n_target_list; ++i) {
      const PgQuery__Node* v = stmt->target_list[i]->res_target->val;
      if (from_style_srf(v)) items.push_back(i);
      else if (target_srf(v)) ++others;
    }
    if (!items.empty()) {
      int pos = loc(stmt->target_list[items[0]]->res_target->location);
      if (items.size() > 1 || others > 0) unsupported("several set-returning functions in one select list", pos);
      if (stmt->n_group_clause > 0) unsupported("set-returning functions in the select list with GROUP BY", pos);
      PgQuery__RangeFunction rf = PG_QUERY__RANGE_FUNCTION__INIT;
      PgQuery__Node* item = stmt->target_list[items[0]]->res_target->val;
      PgQuery__Node* fn = const_cast<PgQuery__Node*>(srf_under_casts(item));
      rf.n_functions = 1;
      rf.functions = &fn;
      Scope tmp;
      tmp.parent = scope.parent;
      tmp.items = scope.items;
      if (!rel) {
        rel = std::make_shared<HRel>();
        rel->kind = HRelKind::kConstant;
        rel->rows.push_back({});
      }
      bind_range_function(&rf, scope.parent, rel, tmp);
      uint32_t c = static_cast<uint32_t>(rel->arity() - 1);
      HExpr value = HExpr::column_ref(0, c, rel->column_types[c]);
      std::vector<const PgQuery__TypeCast*> casts;  // outermost first
      for (const PgQuery__Node* n = item; n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST; n = n->type_cast->arg)
        casts.push_back(n->type_cast);
      for (size_t k = casts.size(); k-- > 0;)
        value = coerce(std::move(value), bind_type(casts[k]->type_name), CastContext::kExplicit, loc(casts[k]->location));
      out.emplace(items[0], std::move(value));
      return out;
    }
  }
  std::vector<std::pair<size_t, TargetSrf>> srfs;
  for (size_t i = 0; i < stmt->n_target_list; ++i)
    if (auto t = target_srf(stmt->target_list[i]->res_target->val)) srfs.emplace_back(i, *t);
  if (srfs.empty()) return out;
  int pos = loc(stmt->target_list[srfs[0].first]->res_target->location);
  if (stmt->n_group_clause > 0) unsupported("set-returning functions in the select list with GROUP BY", pos);
  ExprContext ctx;
  ctx.scope = &scope;
  ctx.clause = "SELECT";
  // PostgreSQL runs the select list's set-returning functions in lockstep: row k has the
  // k-th value of each, NULL past the end of a shorter one. Over one array that is a single
  // expansion with ordinality; over several, unnest(a) and (_pg_expandarray(a)).x are a[i]
  // for i in 1..greatest(cardinality(a), ...) (pgcli's foreign-key query).
  HExpr array = bind_expr(srfs[0].second.array, ctx);
  std::vector<HExpr> arrays{array};
  std::vector<size_t> array_of;  // per srf: index in arrays
  for (const auto& [i, srf] : srfs) {
    HExpr a = bind_expr(srf.array, ctx);
    if (!array_element_type(a.type.id))
      throw SqlError(sqlstate::kUndefinedFunction, "function " + srf.name + "(" + type_name(a.type) + ") does not exist", pos);
    size_t k = 0;
    while (k < arrays.size() && !(arrays[k] == a)) ++k;
    if (k == arrays.size()) arrays.push_back(std::move(a));
    array_of.push_back(k);
  }
  {
    // Each array once, as a column (a subquery among them is then planned once).
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {rel};
    m->column_types = rel->column_types;
    uint32_t first = static_cast<uint32_t>(rel->arity());
    for (size_t k = 0; k < arrays.size(); ++k) {
      m->column_types.push_back(arrays[k].type);
      m->exprs.push_back(std::move(arrays[k]));
      arrays[k] = HExpr::column_ref(0, first + static_cast<uint32_t>(k), m->column_types.back());
    }
    rel = m;
    array = arrays[0];
  }
  if (arrays.size() > 1) {
    std::vector<HExpr> cards;
    for (const auto& a : arrays) {
      std::vector<Type> ts{a.type};
      ResolvedCall rc = resolve_function("cardinality", ts, pos);
      std::vector<HExpr> one{coerce(a, rc.arg_types[0], CastContext::kImplicit, pos)};
      cards.push_back(HExpr::call(rc.impl, std::move(one), rc.result_type));
    }
    HExpr n = HExpr::make(ScalarKind::kGreatest, std::move(cards), Type(TypeId::kInt4));
    auto gs = std::make_shared<HRel>();
    gs->kind = HRelKind::kFlatMap;
    gs->table_func = dataflow::TableFunc::kGenerateSeries;
    gs->inputs = {rel};
    gs->exprs = {HExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt4)), std::move(n)};
    gs->column_types = rel->column_types;
    uint32_t i_col = static_cast<uint32_t>(rel->arity());
    gs->column_types.push_back(Type(TypeId::kInt4));
    rel = gs;
    for (size_t k = 0; k < srfs.size(); ++k) {
      const auto& [i, srf] = srfs[k];
      if (srf.kind == TargetSrf::Kind::kSubscripts || srf.kind == TargetSrf::Kind::kExpandN ||
          srf.kind == TargetSrf::Kind::kExpandRecord)
        unsupported("generate_subscripts or _pg_expandarray next to set-returning functions over other arrays", pos);
      const HExpr& a = arrays[array_of[k]];
      HExpr idx = HExpr::column_ref(0, i_col, Type(TypeId::kInt4));
      if (a.type.id == TypeId::kInt2Vector || a.type.id == TypeId::kOidVector)  // subscripts from 0
        idx = make_operator("-", idx, HExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt4)), pos);
      out.emplace(i, HExpr::make(ScalarKind::kArrayIndex, {a, std::move(idx)}, Type(*array_element_type(a.type.id))));
    }
    return out;
  }
  auto et = array_element_type(array.type.id);
  if (!et) throw SqlError(sqlstate::kUndefinedFunction, "function " + srfs[0].second.name + "(" + type_name(array.type) + ") does not exist", pos);
  for (const auto& [i, srf] : srfs) {
    if (srf.kind != TargetSrf::Kind::kSubscripts) continue;
    const auto* dim = stmt->target_list[i]->res_target->val->func_call->args[1];
    if (dim->node_case != PG_QUERY__NODE__NODE_A_CONST || dim->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL ||
        dim->a_const->ival->ival != 1)
      unsupported("generate_subscripts of a dimension other than 1", pos);
  }
  auto fm = std::make_shared<HRel>();
  fm->kind = HRelKind::kFlatMap;
  fm->table_func = dataflow::TableFunc::kUnnest;
  fm->inputs = {rel};
  fm->exprs = {array};
  fm->with_ordinality = true;
  fm->column_types = rel->column_types;
  uint32_t elem_col = static_cast<uint32_t>(rel->arity());
  fm->column_types.push_back(Type(*et));
  fm->column_types.push_back(Type(TypeId::kInt8));
  rel = fm;
  HExpr ord = coerce(HExpr::column_ref(0, elem_col + 1, Type(TypeId::kInt8)), Type(TypeId::kInt4), CastContext::kAssignment, pos);
  bool zero_based = array.type.id == TypeId::kInt2Vector || array.type.id == TypeId::kOidVector;
  for (const auto& [i, srf] : srfs) {
    switch (srf.kind) {
      case TargetSrf::Kind::kUnnest:
      case TargetSrf::Kind::kExpandX:
        out.emplace(i, HExpr::column_ref(0, elem_col, Type(*et)));
        break;
      case TargetSrf::Kind::kExpandN:  // 1-based position
        out.emplace(i, ord);
        break;
      case TargetSrf::Kind::kSubscripts:  // subscripts from the array's lower bound
        out.emplace(i, zero_based ? make_operator("-", ord, HExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt4)), pos) : ord);
        break;
      case TargetSrf::Kind::kExpandRecord: {
        if (!is_integer_type(*et) && *et != TypeId::kOid) unsupported("_pg_expandarray of " + type_name(array.type) + " as a record", pos);
        std::vector<HExpr> parts;
        parts.push_back(HExpr::literal_of(Datum::from_string("("), Type(TypeId::kText)));
        parts.push_back(coerce(HExpr::column_ref(0, elem_col, Type(*et)), Type(TypeId::kText), CastContext::kExplicit, pos));
        parts.push_back(HExpr::literal_of(Datum::from_string(","), Type(TypeId::kText)));
        parts.push_back(coerce(ord, Type(TypeId::kText), CastContext::kExplicit, pos));
        parts.push_back(HExpr::literal_of(Datum::from_string(")"), Type(TypeId::kText)));
        std::vector<Type> ts(parts.size(), Type(TypeId::kText));
        ResolvedCall rc = resolve_function("concat", ts, pos);  // concat: a NULL x gives "(,1)", as record_out
        HExpr rec = HExpr::call(rc.impl, std::move(parts), rc.result_type);
        rec.type = Type(TypeId::kRecord, kExpandRecordTypmod + static_cast<int32_t>(*et));
        out.emplace(i, std::move(rec));
        break;
      }
    }
  }
  return out;
}

BoundQuery Binder::bind_select_core(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top) {
  if (stmt->into_clause) unsupported("SELECT INTO");
  if (stmt->n_locking_clause) unsupported("FOR UPDATE/SHARE");
  for (size_t i = 0; i < stmt->n_window_clause; ++i)
    for (size_t j = 0; j < i; ++j) {
      const auto* a = stmt->window_clause[i]->window_def;
      const auto* b = stmt->window_clause[j]->window_def;
      if (a != nullptr && b != nullptr && a->name != nullptr && b->name != nullptr && std::string_view(a->name) == b->name)
        throw SqlError("42P20", std::string("window \"") + a->name + "\" is already defined", loc(a->location));
    }
  // FROM
  HRelPtr rel;
  Scope scope;
  scope.parent = outer;
  {
    // PostgreSQL's checkNameSpaceConflicts: one name per FROM level (42712).
    std::vector<std::pair<std::string, int>> names;
    for (size_t i = 0; i < stmt->n_from_clause; ++i) from_refnames(stmt->from_clause[i], names);
    for (size_t i = 0; i < names.size(); ++i)
      for (size_t k = 0; k < i; ++k)
        if (names[k].first == names[i].first)
          throw SqlError(sqlstate::kDuplicateAlias, "table name \"" + names[i].first + "\" specified more than once", names[i].second);
  }
  for (size_t i = 0; i < stmt->n_from_clause; ++i) bind_from(stmt->from_clause[i], outer, rel, scope);
  if (!rel) {
    rel = std::make_shared<HRel>();
    rel->kind = HRelKind::kConstant;
    rel->rows.push_back({});
  }
  // WHERE
  if (stmt->where_clause) {
    ExprContext ctx;
    ctx.scope = &scope;
    ctx.clause = "WHERE";
    HExpr pred = to_bool(bind_expr(stmt->where_clause, ctx), "WHERE", 0);
    check_temporal_conjuncts(pred, true, "WHERE");
    pred = plain_nested_temporal(std::move(pred), true);
    auto f = std::make_shared<HRel>();
    f->kind = HRelKind::kFilter;
    f->inputs = {rel};
    f->column_types = rel->column_types;
    f->exprs = {std::move(pred)};
    rel = f;
  }
  // Select list (with * expanded)
  std::vector<HAggregate> aggs;
  std::vector<WindowCall> windows;
  ExprContext sctx;
  sctx.scope = &scope;
  sctx.aggs = &aggs;
  sctx.windows = &windows;
  sctx.select = stmt;
  sctx.clause = "SELECT";
  std::vector<HExpr> outputs;
  std::vector<std::string> names;
  std::map<size_t, HExpr> srf_outputs = bind_target_srfs(stmt, scope, rel);
  for (size_t i = 0; i < stmt->n_target_list; ++i) {
    const auto* rt = stmt->target_list[i]->res_target;
    const auto* v = rt->val;
    if (auto srf = srf_outputs.find(i); srf != srf_outputs.end()) {
      outputs.push_back(srf->second);
      names.push_back(rt->name && *rt->name ? rt->name : target_srf(v) ? target_srf(v)->name : column_name_for(v));
      continue;
    }
    if (v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        v->column_ref->fields[v->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      std::string table = v->column_ref->n_fields >= 2 ? str_of(v->column_ref->fields[v->column_ref->n_fields - 2]) : "";
      bool any = false;
      for (const auto& it : scope.items) {
        if (table.empty() ? !it.star : (it.table != table || it.whole_row)) continue;
        outputs.push_back(HExpr::column_ref(0, it.column, it.type));
        names.push_back(it.name);
        any = true;
      }
      if (!table.empty() && !any)
        throw SqlError(sqlstate::kUndefinedTable, "missing FROM-clause entry for table \"" + table + "\"", loc(v->column_ref->location));
      if (table.empty() && stmt->n_from_clause == 0)
        throw SqlError(sqlstate::kSyntaxError, "SELECT * with no tables specified is not valid", loc(v->column_ref->location));
      continue;
    }
    outputs.push_back(bind_expr(v, sctx));
    names.push_back(rt->name && *rt->name ? rt->name : column_name_for(v));
  }
  // QUALIFY cond (Materialize), carried by the pre-parser as a WINDOW __mz_qualify AS
  // (PARTITION BY (cond)) (mz_syntax.hpp): a filter after the windows, before DISTINCT,
  // ORDER BY and LIMIT.
  std::optional<HExpr> qualify;
  for (size_t i = 0; i < stmt->n_window_clause; ++i) {
    const auto* w = stmt->window_clause[i]->window_def;
    if (w == nullptr || w->name == nullptr || std::string_view(w->name) != kQualifyWindowName || w->n_partition_clause != 1) continue;
    sctx.clause = "QUALIFY";
    qualify = to_bool(bind_expr(w->partition_clause[0], sctx), "QUALIFY", 0);
    sctx.clause = "SELECT";
  }
  size_t nvisible = outputs.size();
  std::vector<std::pair<uint32_t, int16_t>> origins(nvisible, {0, 0});
  for (size_t c = 0; c < nvisible; ++c) {
    const HExpr& e = outputs[c];
    if (e.kind != HExprKind::kColumn || e.level != 0) continue;
    for (const auto& it : scope.items)
      if (it.column == e.column && it.origin_table != 0) {
        origins[c] = {it.origin_table, it.origin_attnum};
        break;
      }
  }
  // ORDER BY: output ordinals, output names, or expressions over the input.
  std::vector<dataflow::SortKey> order;
  bool distinct = stmt->n_distinct_clause > 0;
  // DISTINCT ON (exprs): a list of expressions; plain DISTINCT: one empty node.
  bool distinct_on = distinct && stmt->distinct_clause[0] != nullptr &&
                     stmt->distinct_clause[0]->node_case != PG_QUERY__NODE__NODE__NOT_SET;
  if (distinct_on) distinct = false;
  for (size_t i = 0; i < stmt->n_sort_clause; ++i) {
    const auto* sb = stmt->sort_clause[i]->sort_by;
    int pos = loc(sb->location);
    const auto* n = sb->node;
    int col = -1;
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      int k = n->a_const->ival->ival;
      if (k < 1 || k > static_cast<int>(nvisible)) order_by_position_error(k, nvisible, pos);
      col = k - 1;
    } else {
      if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1 &&
          n->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
        std::string name = str_of(n->column_ref->fields[0]);
        int matches = 0;
        for (size_t c = 0; c < nvisible; ++c)
          if (names[c] == name) {
            if (col < 0) col = static_cast<int>(c);
            ++matches;
          }
        if (matches > 1) {
          // Ambiguous only when the matches differ.
          for (size_t c = 0; c < nvisible; ++c)
            if (names[c] == name && !(outputs[c] == outputs[col]))
              throw SqlError(sqlstate::kAmbiguousColumn,
                             (materialize_dialect() ? "column reference \"" : "ORDER BY \"") + name + "\" is ambiguous", pos);
        }
      }
      if (col < 0) {
        sctx.clause = "ORDER BY";
        HExpr e = bind_expr(n, sctx);
        if (e.type.id == TypeId::kUnknown) e = coerce(std::move(e), Type(TypeId::kText), CastContext::kImplicit);
        for (size_t c = 0; c < outputs.size(); ++c)
          if (outputs[c] == e) {
            col = static_cast<int>(c);
            break;
          }
        if (col < 0) {
          if (distinct)
            throw SqlError(sqlstate::kInvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list", pos);
          outputs.push_back(std::move(e));
          col = static_cast<int>(outputs.size() - 1);
        }
      }
    }
    check_orderable(outputs[col].type, pos);
    dataflow::SortKey k;
    k.column = static_cast<uint32_t>(col);
    k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                    (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && k.descending);
    order.push_back(k);
  }
  // DISTINCT ON: output ordinals, output names, or expressions over the input (hidden
  // columns when not in the select list), as ORDER BY resolves them.
  std::vector<uint32_t> distinct_cols;
  if (distinct_on) {
    for (size_t i = 0; i < stmt->n_distinct_clause; ++i) {
      const PgQuery__Node* n = stmt->distinct_clause[i];
      int col = -1;
      if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int k = n->a_const->ival->ival;
        if (k < 1 || k > static_cast<int>(nvisible))
          throw SqlError(sqlstate::kInvalidColumnReference, "DISTINCT ON position " + std::to_string(k) + " is not in select list",
                         loc(n->a_const->location));
        col = k - 1;
      } else {
        if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1 &&
            n->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
          std::string name = str_of(n->column_ref->fields[0]);
          for (size_t c = 0; c < nvisible; ++c)
            if (names[c] == name) {
              if (col >= 0 && !(outputs[c] == outputs[col]))
                throw SqlError(sqlstate::kAmbiguousColumn, "SELECT DISTINCT ON \"" + name + "\" is ambiguous", loc(n->column_ref->location));
              if (col < 0) col = static_cast<int>(c);
            }
        }
        if (col < 0) {
          sctx.clause = "DISTINCT ON";
          HExpr e = bind_expr(n, sctx);
          if (e.type.id == TypeId::kUnknown) e = coerce(std::move(e), Type(TypeId::kText), CastContext::kImplicit);
          for (size_t c = 0; c < outputs.size(); ++c)
            if (outputs[c] == e) {
              col = static_cast<int>(c);
              break;
            }
          if (col < 0) {
            outputs.push_back(std::move(e));
            col = static_cast<int>(outputs.size() - 1);
          }
        }
      }
      distinct_cols.push_back(static_cast<uint32_t>(col));
    }
    // PostgreSQL's rule (transformDistinctOnClause): the ORDER BY items that are DISTINCT ON
    // expressions come first, and if any ORDER BY item is not one, every DISTINCT ON
    // expression must be among those first items.
    auto is_on = [&](uint32_t c) {
      for (uint32_t d : distinct_cols)
        if (outputs[d] == outputs[c]) return true;
      return false;
    };
    auto on_position = [&](uint32_t c) {
      for (size_t i = 0; i < distinct_cols.size(); ++i) {
        if (!(outputs[distinct_cols[i]] == outputs[c])) continue;
        const PgQuery__Node* n = stmt->distinct_clause[i];
        if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) return loc(n->column_ref->location);
        if (n->node_case == PG_QUERY__NODE__NODE_A_CONST) return loc(n->a_const->location);
      }
      return 0;
    };
    bool skipped = false;
    std::vector<uint32_t> covered;
    for (const auto& k : order) {
      if (is_on(k.column)) {
        if (skipped)
          throw SqlError(sqlstate::kInvalidColumnReference, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                         on_position(k.column));
        covered.push_back(k.column);
      } else {
        skipped = true;
      }
    }
    if (skipped)
      for (uint32_t d : distinct_cols) {
        bool in = false;
        for (uint32_t c : covered) in = in || outputs[c] == outputs[d];
        if (!in)
          throw SqlError(sqlstate::kInvalidColumnReference, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                         on_position(d));
      }
  }
  // GROUP BY / HAVING
  sctx.windows = nullptr;
  std::optional<HExpr> having;
  if (stmt->having_clause) {
    sctx.clause = "HAVING";
    having = to_bool(bind_expr(stmt->having_clause, sctx), "HAVING", 0);
    check_temporal_conjuncts(*having, true, "HAVING");
    having = plain_nested_temporal(std::move(*having), true);
  }
  bool grouped = stmt->n_group_clause > 0 || !aggs.empty() || having.has_value();
  // PostgreSQL runs select-list set-returning functions after grouping and windows; here they
  // expand the FROM rows, which is the same only without either.
  if (!srf_outputs.empty() && (grouped || !windows.empty()))
    unsupported("set-returning functions in the select list together with aggregates or window functions");
  std::vector<HExpr> group_keys;
  if (grouped) {
    std::vector<HExpr> keys;
    ExprContext gctx;
    gctx.scope = &scope;
    gctx.clause = "GROUP BY";
    for (size_t i = 0; i < stmt->n_group_clause; ++i) {
      const auto* n = stmt->group_clause[i];
      if (n->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) unsupported("GROUPING SETS/ROLLUP/CUBE");
      HExpr k;
      bool done = false;
      if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int idx = n->a_const->ival->ival;
        if (idx < 1 || idx > static_cast<int>(nvisible))
          throw SqlError(sqlstate::kInvalidColumnReference, "GROUP BY position " + std::to_string(idx) + " is not in select list", loc(n->a_const->location));
        k = outputs[idx - 1];
        done = true;
      } else if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
        // An input column wins over an output name (PostgreSQL's rule for GROUP BY).
        std::string name = str_of(n->column_ref->fields[0]);
        bool in_input = false;
        for (const auto& it : scope.items)
          if (it.name == name && !it.qualified_only) in_input = true;
        if (!in_input)
          for (size_t c = 0; c < nvisible; ++c)
            if (names[c] == name) {
              if (done && !(outputs[c] == k))
                // Two different output columns of that name (findTargetlistEntrySQL92).
                throw SqlError(sqlstate::kAmbiguousColumn, "GROUP BY \"" + name + "\" is ambiguous",
                               loc(n->column_ref->location));
              k = outputs[c];
              done = true;
            }
      }
      if (!done) k = bind_expr(n, gctx);
      // GROUP BY 1 naming a window call of the select list (PostgreSQL's 42P20).
      std::function<bool(const HExpr&)> has_window = [&](const HExpr& e) {
        if (e.kind == HExprKind::kColumn) return e.level == kWindowLevel;
        for (const auto& a : e.args)
          if (has_window(a)) return true;
        return false;
      };
      if (has_window(k)) throw SqlError("42P20", "window functions are not allowed in GROUP BY");
      if (k.kind == HExprKind::kColumn && k.level == kAggLevel)
        throw SqlError(sqlstate::kGroupingError, "aggregate functions are not allowed in GROUP BY");
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    }
    auto red = std::make_shared<HRel>();
    red->kind = HRelKind::kReduce;
    red->inputs = {rel};
    red->group_key = keys;
    for (auto& k : red->group_key) k = bpchar_key(std::move(k));
    red->aggregates = aggs;
    for (const auto& k : keys) red->column_types.push_back(k.type);
    for (const auto& a : aggs) red->column_types.push_back(a.result_type);
    rel = red;
    uint32_t nkeys = static_cast<uint32_t>(keys.size());
    group_keys = keys;
    for (auto& o : outputs) o = rewrite_post_agg(o, keys, nkeys, scope);
    if (qualify) qualify = rewrite_post_agg(*qualify, keys, nkeys, scope);
    if (having) {
      auto f = std::make_shared<HRel>();
      f->kind = HRelKind::kFilter;
      f->inputs = {rel};
      f->column_types = rel->column_types;
      f->exprs = {rewrite_post_agg(*having, keys, nkeys, scope)};
      rel = f;
    }
  }
  if (!windows.empty()) {
    // Over a grouped query the windows read the Reduce's output (keys and aggregates).
    if (grouped)
      for (auto& w : windows) {
        for (auto& e : w.partition) e = rewrite_post_agg(e, group_keys, static_cast<uint32_t>(group_keys.size()), scope);
        for (auto& e : w.order) e = rewrite_post_agg(e, group_keys, static_cast<uint32_t>(group_keys.size()), scope);
        for (auto& e : w.args) e = rewrite_post_agg(e, group_keys, static_cast<uint32_t>(group_keys.size()), scope);
      }
    if (qualify) outputs.push_back(*qualify);
    rel = bind_windows(rel, windows, outputs);
    if (qualify) {
      qualify = outputs.back();
      outputs.pop_back();
    }
  }
  if (qualify) {
    auto f = std::make_shared<HRel>();
    f->kind = HRelKind::kFilter;
    f->inputs = {rel};
    f->column_types = rel->column_types;
    f->exprs = {std::move(*qualify)};
    rel = f;
  }
  // Map the outputs, then project them.
  auto m = std::make_shared<HRel>();
  m->kind = HRelKind::kMap;
  m->inputs = {rel};
  m->column_types = rel->column_types;
  std::vector<uint32_t> cols;
  for (auto& o : outputs) {
    if (o.kind == HExprKind::kColumn && o.level == 0) {
      cols.push_back(o.column);
      continue;
    }
    m->exprs.push_back(o);
    m->column_types.push_back(o.type);
    cols.push_back(static_cast<uint32_t>(m->column_types.size() - 1));
  }
  auto p = std::make_shared<HRel>();
  p->kind = HRelKind::kProject;
  p->inputs = {m->exprs.empty() ? rel : m};
  p->columns = cols;
  for (auto c : cols) p->column_types.push_back(p->inputs[0]->column_types[c]);
  rel = p;
  if (distinct_on) {
    // The first row by ORDER BY of each DISTINCT ON key: a top-1 per key (NULL keys are one
    // group). Maintained in views as any TopK: a change recomputes only its key's group.
    auto t = std::make_shared<HRel>();
    t->kind = HRelKind::kTopK;
    t->inputs = {rel};
    t->column_types = rel->column_types;
    t->group_columns = distinct_cols;
    t->order_by = order;
    t->limit = 1;
    rel = t;
  }
  if (distinct) {
    rel = bpchar_keys(rel);
    auto d = std::make_shared<HRel>();
    d->kind = HRelKind::kDistinct;
    d->inputs = {rel};
    d->column_types = rel->column_types;
    rel = d;
  }
  BoundQuery q;
  q.rel = rel;
  q.column_names = names;
  q.order_by = order;
  q.origins = std::move(origins);
  Scope empty;
  empty.parent = outer;
  ExprContext lctx;
  lctx.scope = &empty;
  lctx.clause = "LIMIT";
  if (stmt->limit_count) {
    HExpr e = bind_expr(stmt->limit_count, lctx);
    if (!e.is_null_literal()) q.limit = coerce(std::move(e), Type(TypeId::kInt8), CastContext::kImplicit);
  }
  if (stmt->limit_offset) {
    lctx.clause = "OFFSET";
    q.offset = coerce(bind_expr(stmt->limit_offset, lctx), Type(TypeId::kInt8), CastContext::kImplicit);
    if (materialize_dialect()) mz_check_offset(*q.offset);
  }
  (void)top;
  return q;
}

}  // namespace freshet::sql
