#pragma once
// The scalar function library: every built-in function, operator and cast that expressions
// call, with its PostgreSQL signature. Overload resolution by PostgreSQL's rules lives in
// sql/resolve.hpp; evaluation of expression trees in dataflow/eval.hpp. Implementations here
// are plain functions over Datums: evaluation errors throw SqlError (22012 division by zero,
// 22003 overflow, ...).
//
// Thread-safety: the registry is built once, on first use, and is read-only afterwards.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet {

// The catalog as scalar functions and casts see it at evaluation time: names of relations,
// namespaces and roles by oid and back (the reg* types' input and output), and the texts of
// psql's catalog functions (pg_get_indexdef, pg_get_viewdef, ...). The server implements it
// over its catalog (sql::catalog_access); evaluation without one (background maintenance of
// a view, unit tests) gets NULL / the bare oid instead.
//
// Thread-safety: called from the evaluating thread while the caller holds whatever keeps the
// catalog stable (the server's catalog lock for a statement).
class CatalogAccess {
 public:
  virtual ~CatalogAccess() = default;
  // regclass: the name as PostgreSQL prints it (qualified when not on the search path).
  virtual std::optional<std::string> relation_name(uint32_t oid) const = 0;
  // regclass input: a possibly qualified, possibly quoted name ("t", "public.t", "\"T\"").
  virtual std::optional<uint32_t> relation_oid(std::string_view name) const = 0;
  virtual std::optional<std::string> namespace_name(uint32_t oid) const = 0;
  virtual std::optional<uint32_t> namespace_oid(std::string_view name) const = 0;
  virtual std::optional<std::string> role_name(uint32_t oid) const = 0;
  virtual std::optional<uint32_t> role_oid(std::string_view name) const = 0;
  // pg_get_indexdef(oid, column): column 0 the CREATE INDEX statement, n the n-th key column.
  virtual std::optional<std::string> index_definition(uint32_t index_oid, int column) const = 0;
  virtual std::optional<std::string> constraint_definition(uint32_t constraint_oid) const = 0;
  // A view's SELECT text as written.
  virtual std::optional<std::string> view_definition(uint32_t view_oid) const = 0;
  virtual std::optional<std::string> rule_definition(uint32_t rule_oid) const = 0;
  // has_table_privilege & co. and pg_has_role: whether role `user` (a name) holds
  // `privilege` (e.g. "SELECT", "USAGE, CREATE"; for a role: "MEMBER", "USAGE", "SET") on the
  // object named `object_name` (or, when it is empty, with oid object_oid). kind: 't' table,
  // 's' schema, 'd' database, 'r' role. Throws SqlError for unknown names and privileges.
  // The default answers true (no roles).
  virtual bool has_privilege(char kind, std::string_view user, std::string_view object_name, uint32_t object_oid,
                             std::string_view privilege) const {
    (void)kind, (void)user, (void)object_name, (void)object_oid, (void)privilege;
    return true;
  }
  // current_schema() / current_schemas(): the schemas of the session's search_path that
  // exist, in order (`$user` as `user`). The default is the default path's.
  virtual std::vector<std::string> search_path_schemas(std::string_view user) const {
    (void)user;
    return {"public"};
  }
};

// What an evaluation may need besides its arguments.
struct EvalContext {
  Arena* arena = nullptr;         // where computed strings live; never null during evaluation
  int64_t statement_time_us = 0;  // now()/current_timestamp: microseconds since 2000-01-01 UTC
  uint64_t logical_time_ms = 0;   // mz_now(): the timestamp the evaluation happens at
  std::span<const Datum> params;  // $1..$n of the statement being run
  std::string_view timezone = "UTC";
  std::string_view current_user = "freshet";
  // session_user: the session's user (SET SESSION AUTHORIZATION), which SET ROLE leaves; empty
  // means current_user.
  std::string_view session_user;
  std::string_view current_database = "freshet";
  // The session's search path as current_schema() / current_schemas() see it: the schemas of
  // its search_path setting that exist, in order (`$user` as the user's schema when there is
  // one). Null outside a session's statement: then the default path, `public`.
  const std::vector<std::string>* search_path = nullptr;
  // The catalog, for the reg* types and catalog functions; may be null (see CatalogAccess).
  std::shared_ptr<const CatalogAccess> catalog;
  // The client session's backend pid (BackendKeyData; pg_backend_pid()) and how to signal
  // another session (pg_cancel_backend: terminate false; pg_terminate_backend: true; returns
  // whether there was such a session). 0 / null outside a client session.
  int32_t backend_pid = 0;
  const std::function<bool(int32_t pid, bool terminate)>* signal_backend = nullptr;
};

using ScalarFn = Datum (*)(std::span<const Datum> args, EvalContext& ctx);

enum class Volatility : uint8_t { kImmutable, kStable, kVolatile };

// One overload of a function or operator.
struct FunctionImpl {
  std::string_view name;            // "abs", "substr", or an operator: "+", "=", "~~", "||"
  std::vector<Type> arg_types;      // declared argument types (callers cast to these)
  Type result_type;
  ScalarFn fn = nullptr;
  // strict: returns NULL when any argument is NULL, without calling fn.
  bool strict = true;
  Volatility volatility = Volatility::kImmutable;
  bool variadic = false;            // last arg type repeats (concat, format, ...)
  uint32_t oid = 0;                 // pg_proc oid where PostgreSQL has one, else a stable id
};

// All overloads of a name; empty when none. Operators are looked up by their symbol.
std::span<const FunctionImpl* const> lookup_functions(std::string_view name);
std::span<const FunctionImpl* const> lookup_operators(std::string_view symbol, bool unary);

// Casts, as in pg_cast: whether a cast exists from one type to another in a context.
enum class CastContext : uint8_t { kImplicit, kAssignment, kExplicit };
bool cast_exists(TypeId from, TypeId to, CastContext ctx);
// Converts v (not NULL) from one type to another, applying to's typmod (varchar(n)
// truncation on explicit casts, numeric(p, s) rounding). Throws SqlError on bad values
// (22P02, 22003, ...).
Datum cast_datum(const Datum& v, Type from, Type to, EvalContext& ctx, bool explicit_cast = true);

// Aggregates: count, sum, avg, min, max, bool_and, bool_or, every, string_agg, array_agg
// (of any type with an array type); stddev/variance may follow.
// kJsonbAgg / kJsonbObjectAgg take their values (and keys) as text, values as the text of
// their jsonb (sql/binder.cpp converts them as for jsonb_build_object).
enum class AggKind : uint8_t {
  kCountStar, kCount, kSum, kAvg, kMin, kMax, kBoolAnd, kBoolOr, kStringAgg, kArrayAgg, kJsonbAgg, kJsonbObjectAgg,
  // var_samp (variance), var_pop, stddev_samp (stddev), stddev_pop: numeric for integer and
  // numeric input, double precision for float input, as PostgreSQL.
  kVarSamp, kVarPop, kStddevSamp, kStddevPop,
};
struct AggregateSignature {
  AggKind kind;
  std::vector<Type> arg_types;  // the types the arguments are cast to
  Type result_type;             // PostgreSQL's: sum(int4) -> int8, sum(int8) -> numeric, avg(int) -> numeric, ...
};
// Resolves an aggregate by name and argument types (after unknown literals are typed as text).
// Returns false when name is not an aggregate; throws SqlError 42883 when no overload fits.
bool resolve_aggregate(std::string_view name, std::span<const Type> arg_types, AggregateSignature& out);
bool is_aggregate_name(std::string_view name);

}  // namespace freshet
