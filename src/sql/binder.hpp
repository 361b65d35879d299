#pragma once
// Binder: parse tree (parser.hpp) to HIR (hir.hpp). Resolves names against the catalog and
// the query's scopes, types every expression by PostgreSQL's rules (resolve.hpp), inserts
// implicit casts, and extracts aggregates. Errors are SqlError with PostgreSQL's SQLSTATE and
// the position of the offending token.
//
// One Binder binds one statement; not thread-safe; cheap to construct.

#include <map>
#include <string>
#include <vector>

#include "sql/catalog.hpp"
#include "sql/catalog_access.hpp"
#include "sql/hir.hpp"
#include "sql/parser.hpp"

namespace freshet::sql {

// A bound query with its "finishing": the ORDER BY / LIMIT / OFFSET of the outermost query,
// applied to the result rather than maintained, and the columns a client sees.
struct BoundQuery {
  HRelPtr rel;
  std::vector<std::string> column_names;  // the visible columns: rel's first column_names.size()
  std::vector<dataflow::SortKey> order_by;
  std::optional<HExpr> limit;   // constant or parameter, evaluated at execution
  std::optional<HExpr> offset;
  // Per visible column, the table column it shows directly (table oid, attnum), {0, 0} when it
  // is computed; empty when unknown. RowDescription carries it (pgJDBC's getTableName).
  std::vector<std::pair<uint32_t, int16_t>> origins;
  std::vector<Type> types() const {
    return std::vector<Type>(rel->column_types.begin(), rel->column_types.begin() + column_names.size());
  }
};

// Column names given to CREATE VIEW v (a, b) AS ... (view = true) or CREATE MATERIALIZED VIEW /
// CREATE TABLE t (a, b) AS ...: no more than the query's columns, else 42601 as PostgreSQL.
void check_column_aliases(const BoundQuery& q, size_t n_aliases, bool view);
// Materialize's dialect: OFFSET NULL is refused (22023-class 2201X), where PostgreSQL reads OFFSET 0.
[[noreturn]] void mz_offset_null();
// ... and a negative OFFSET names its value ("must not be negative, got -2").
void mz_check_offset_value(const Datum& d);

struct ScopeItem {
  std::string table;   // qualifier ("" for none)
  std::string name;
  Type type;
  uint32_t column = 0;
  bool star = true;            // expanded by * and t.*
  bool qualified_only = false; // visible only as table.name (USING-merged originals)
  uint32_t origin_table = 0;   // a table's column: the table's oid and the column's attnum
  int16_t origin_attnum = 0;
  bool whole_row = false;      // a scalar function's alias naming its value: not part of alias.*
};

struct Scope {
  std::vector<ScopeItem> items;
  const Scope* parent = nullptr;
};

struct MutuallyRecursiveQuery;

class Binder {
 public:
  Binder(const CatalogView& catalog, std::vector<Type>& param_types);

  // SELECT / VALUES / set operations.
  BoundQuery bind_query(const PgQuery__SelectStmt* stmt);
  // The query as one relation, its ORDER BY ... LIMIT applied as a top-k (what a view or a
  // maintained dataflow computes), hidden ORDER BY columns dropped.
  HRelPtr relation_of(BoundQuery q) { return as_relation(std::move(q)); }
  // Bind maintained views and materialized views by their definitions too (not by their
  // collections): SELECT ... AS OF a past time over views of constants (server/as_of.hpp).
  void set_inline_views(bool on) { inline_views_ = on; }
  // Materialize's WITH MUTUALLY RECURSIVE query (text that is_mutually_recursive() accepts;
  // libpg_query cannot parse it): the bindings and the final query, parsed apart by
  // mutually_recursive.hpp, bound into a kLetRec around the final query. Errors: SqlError
  // (42601 syntax, 42804 a binding's query does not return its declared types, ...).
  BoundQuery bind_mutually_recursive(std::string_view sql);

  // The views whose definitions were bound into the queries so far (a view that no index
  // maintains is read by binding its text): what a new view or materialized view depends on
  // besides the collections its plan reads.
  const std::vector<uint64_t>& views_read() const { return views_read_; }
  // An expression over a given scope (UPDATE SET, DEFAULT, RETURNING); no aggregates.
  // `clause` names the place in errors as PostgreSQL does ("aggregate functions are not
  // allowed in RETURNING": "VALUES", "UPDATE", "WHERE", "RETURNING", "DEFAULT expressions",
  // "EXECUTE parameters"); `write_statement` marks INSERT/UPDATE/DELETE, where mz_now() is
  // refused with Materialize's message.
  HExpr bind_expr_in_scope(const PgQuery__Node* node, const Scope& scope, const char* clause = "",
                           bool write_statement = false);
  // Casts e to type t in the given context, or throws 42804 naming `what`.
  HExpr coerce(HExpr e, Type t, CastContext ctx, int position = 0, std::string_view what = "");
  // A grouping or comparison key of type bpchar without a length, as the value all its
  // equals share: trailing blanks removed (bpchar's = ignores them; Freshet groups by the
  // value's bytes). Other keys unchanged.
  HExpr bpchar_key(HExpr e);
  // rel with bpchar_key applied to the columns marked in `which` (all bpchar columns without a
  // length when empty), through a Map and a Project; rel itself when none is.
  HRelPtr bpchar_keys(HRelPtr rel, const std::vector<bool>& which = {});
  // Binds a type name (TypeName node). Throws 42704.
  Type bind_type(const PgQuery__TypeName* tn);
  // Finalises parameter types: unknown ones become text.
  void finish_params();

  // The relation for a table-like object in FROM (tables, views, system views).
  HRelPtr relation_for(const ObjectInfo& obj, int position);

  // Default output name of an expression node as PostgreSQL names it ("?column?", "count").
  static std::string column_name_for(const PgQuery__Node* node);

 private:
  struct Cte {
    HRelPtr rel;
    std::vector<std::string> names;
    // While a WITH RECURSIVE item's own query is bound: a reference to it is an error (its
    // non-recursive term, or a query that is not `non-recursive UNION [ALL] recursive`).
    const char* forbidden = nullptr;
    int position = 0;
    // The scope enclosing the WITH: the CTE's level-1 references are to it. A reference from a
    // query nested deeper shifts them by the number of scopes in between.
    const Scope* outer = nullptr;
  };
  // A window function call in a select list: placeholder column (kWindowLevel, index).
  struct WindowCall {
    dataflow::WindowFuncKind kind = dataflow::WindowFuncKind::kRowNumber;
    std::vector<HExpr> partition;
    std::vector<HExpr> order;
    std::vector<dataflow::SortKey> keys;  // column: index into order
    // The arguments (dataflow::WindowFunc::args: they become input columns), the aggregate of
    // kAggregate, the frame and the result type.
    std::vector<HExpr> args;
    AggKind agg_kind = AggKind::kCountStar;
    bool agg_filter = false;
    bool ignore_nulls = false;  // lag/lead ... IGNORE NULLS (Materialize's syntax)
    dataflow::WindowFrame frame;
    Type result_type = Type(TypeId::kInt8);
  };
  static bool same_window_call(const WindowCall& a, const WindowCall& b);
  struct ExprContext {
    const Scope* scope = nullptr;
    std::vector<HAggregate>* aggs = nullptr;  // non-null where aggregates are allowed
    std::vector<WindowCall>* windows = nullptr;  // non-null where window functions are allowed
    const char* clause = "";                  // for "aggregate functions are not allowed in WHERE"
    bool write_statement = false;             // INSERT/UPDATE/DELETE: mz_now() is refused
    const PgQuery__SelectStmt* select = nullptr;  // its WINDOW clause names OVER w's windows
    // A window aggregate's arguments may use the query's aggregates (sum(sum(x)) OVER ()).
    std::vector<HAggregate>* window_arg_aggs = nullptr;
    // Binding the arguments of a window aggregate (sum(x) OVER ...): they may hold window
    // calls of their own (Materialize's nesting); a plain aggregate's arguments may not.
    bool window_agg_args = false;
  };
  // The text of e's jsonb (numbers and booleans as JSON values, jsonb as is, others as JSON
  // strings of their text; NULL stays NULL): how jsonb_build_object and jsonb_agg take values.
  HExpr jsonb_text_of(HExpr e, int pos);
  // f(...) OVER (...) in a select list: a WindowCall and its placeholder column.
  HExpr bind_window_call(const PgQuery__FuncCall* f, const std::string& name, ExprContext& ctx, int pos);

  BoundQuery bind_select_core(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top);
  // Adds kWindow nodes computing the select list's window calls over rel and points the
  // outputs' placeholders at their columns.
  HRelPtr bind_windows(HRelPtr rel, const std::vector<WindowCall>& windows, std::vector<HExpr>& outputs);
  BoundQuery bind_set_op(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top);
  BoundQuery bind_values(const PgQuery__SelectStmt* stmt, const Scope* outer);
  [[gnu::noinline]] BoundQuery bind_query_in(const PgQuery__SelectStmt* stmt, const Scope* outer, bool top);
  void apply_order_limit(const PgQuery__SelectStmt* stmt, BoundQuery& q, bool top, const Scope* outer);
  HRelPtr as_relation(BoundQuery q);  // applies ORDER BY/LIMIT as TopK and drops hidden columns
  // Untyped literal columns to text, as PostgreSQL resolves a subquery's output.
  HRelPtr resolve_unknowns(HRelPtr rel);

  void bind_from(const PgQuery__Node* node, const Scope* outer, HRelPtr& rel, Scope& scope);
  void bind_with(const PgQuery__WithClause* with, const Scope* outer);
  // A WITH RECURSIVE item that references itself: a kLetRec of one binding.
  void bind_recursive_cte(const PgQuery__CommonTableExpr* cte, const Scope* outer);
  BoundQuery bind_mutually_recursive_in(std::string_view sql);
  // WITH MUTUALLY RECURSIVE nested in a query's text: each parenthesized `(WITH MUTUALLY
  // RECURSIVE ...)` is bound on its own (seeing the CTEs in scope) and replaced by
  // `(SELECT * FROM __mz_wmr_N)`, N a CTE added to `hoisted`. Uncorrelated only: a reference
  // to an enclosing query's column inside it is an unknown column.
  std::string hoist_mutually_recursive(std::string_view sql, std::map<std::string, Cte>& hoisted);
  // Binds text (a binding's query, the final query or a whole statement) after hoisting its
  // nested WITH MUTUALLY RECURSIVE queries; `top`: as a statement's query.
  BoundQuery bind_text_with_nested(const std::string& sql, const MutuallyRecursiveQuery* mr, bool top);
  uint64_t next_hoisted_ = 0;
  int nested_wmr_ = 0;  // WITH MUTUALLY RECURSIVE queries being bound inside another query
  HRelPtr get_local(uint64_t id, std::vector<Type> types);

  [[gnu::noinline]] HExpr bind_expr(const PgQuery__Node* node, ExprContext& ctx);
  [[gnu::noinline]] HExpr bind_expand_record_field(HExpr base, const std::string& field);
  HExpr bind_column_ref(const PgQuery__ColumnRef* ref, ExprContext& ctx);
  HExpr bind_a_expr(const PgQuery__AExpr* e, ExprContext& ctx);
  HExpr bind_func_call(const PgQuery__FuncCall* f, ExprContext& ctx);
  HExpr bind_sublink(const PgQuery__SubLink* s, ExprContext& ctx);
  HExpr bind_const(const PgQuery__AConst* c);
  HExpr bind_cast(const PgQuery__TypeCast* c, ExprContext& ctx);
  // ROW(a, b, ...) and (a, b, ...): a record of fields f1, f2, ... (t.* expands to t's columns).
  HExpr bind_row(const PgQuery__RowExpr* r, ExprContext& ctx);
  // A record to another record type (a composite type): a row constructor's fields one by one.
  HExpr coerce_record(HExpr e, Type t, CastContext ctx, int position);
  // A list to another list type (a named list type, another element type): allowed in `ctx`
  // when the element cast is, layer by layer (Materialize's list-to-list cast).
  bool list_cast_allowed(Type from, Type to, CastContext ctx) const;
  // `-666::uint2` as Materialize reads it, ('-666')::uint2 (its parser folds the sign into the
  // number); nullopt unless `node` is a chain of casts over a number with a cast to an
  // unsigned type in it (PostgreSQL's -(666::T) is kept everywhere else).
  std::optional<HExpr> bind_negated_unsigned_cast(const PgQuery__Node* node, ExprContext& ctx);
  HExpr make_operator(std::string_view op, std::optional<HExpr> left, HExpr right, int position);
  // A WHERE/HAVING predicate: temporal predicates (mz_now() op expr) that are not top-level
  // conjuncts (under OR, NOT, CASE) become plain comparisons with the query's logical time,
  // which one-shot queries evaluate; a maintained dataflow refuses them
  // (server/as_of.hpp check_maintainable), as Materialize does.
  HExpr plain_nested_temporal(HExpr e, bool top);
  HExpr make_bool(dataflow::ScalarKind op, std::vector<HExpr> args);
  // x op ANY/ALL (arr) over an array-typed expression (kArrayCompare).
  HExpr make_array_compare(std::string_view op, HExpr x, HExpr arr, bool any, int position);
  // A function in FROM (unnest, generate_series) applied to each row of rel (a unit row when
  // rel is null), its columns added to scope.
  void bind_range_function(const PgQuery__RangeFunction* rf, const Scope* outer, HRelPtr& rel, Scope& scope);
  // Set-returning functions in a select list (unnest, generate_subscripts,
  // (_pg_expandarray(a)).x / .n): rel becomes a FlatMap over them; returns the output
  // expression of each such target by its index in the list.
  std::map<size_t, HExpr> bind_target_srfs(const PgQuery__SelectStmt* stmt, Scope& scope, HRelPtr& rel);
  HExpr to_bool(HExpr e, const char* clause, int position);
  // Materialize's lists (mz_syntax.cpp, TypeId::kList): see binder.cpp.
  std::optional<HExpr> make_list_operator(std::string_view op, HExpr& left, HExpr& right, int position);
  std::optional<HExpr> bind_list_function(std::string_view name, std::vector<HExpr>& args, int pos);
  std::vector<HExpr> coerce_common(std::vector<HExpr> es, std::string_view context, int position);

  const CatalogView& catalog_;
  std::shared_ptr<const CatalogAccess> access_;  // reg* literals resolved at bind time
  std::vector<Type>& param_types_;
  std::vector<std::map<std::string, Cte>> ctes_;  // a stack of WITH scopes
  // A LATERAL subquery that is not the first item of its join (`a, b FULL JOIN LATERAL (SELECT
  // a.x) s ON true`, `a CROSS JOIN (b FULL JOIN LATERAL (...) s ON true)`) sees the FROM items
  // before the join: this scope while its join's right side is bound (nullptr otherwise), and
  // lateral_uses_ counts the subqueries that read it, so that the join is made lateral.
  const Scope* lateral_scope_ = nullptr;
  uint64_t lateral_uses_ = 0;
  std::vector<uint64_t> views_read_;  // views_read()
  int view_depth_ = 0;
  bool inline_views_ = false;
  // The innermost view whose definition is being bound (privilege checks: CatalogView::check_read).
  const ObjectInfo* current_view_ = nullptr;
  uint64_t next_local_id_ = 1;  // kLetRec binding names, unique within the statement
};

// The iteration limit of WITH RECURSIVE (and of WITH MUTUALLY RECURSIVE without an option):
// more iterations raise 54000 rather than run forever.
inline constexpr uint64_t kDefaultRecursionLimit = 100'000;

// Helpers shared with lowering.
HExpr shift_levels(const HExpr& e, int delta, uint32_t min_level);
std::string lower_ident(std::string_view s);

}  // namespace freshet::sql
