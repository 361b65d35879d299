#pragma once
// Overload resolution by PostgreSQL's rules (the "Type Conversion" chapter of its manual:
// func_select_candidate, select_common_type): picks the function or operator for a call from
// the argument types, with unknown-typed literals resolved from context, implicit casts,
// preferred types and categories. The binder inserts the casts the result asks for.

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/functions.hpp"
#include "common/types.hpp"

namespace freshet::sql {

struct ResolvedCall {
  const FunctionImpl* impl = nullptr;
  std::vector<Type> arg_types;  // the type each argument must be cast to (equal: no cast)
  Type result_type;
};

// Throws SqlError 42883 (no function matches, with PostgreSQL's hint text) or 42725
// (ambiguous). `position` is attached to the error.
ResolvedCall resolve_function(std::string_view name, std::span<const Type> arg_types, int position = 0);
// left is nullopt for a prefix operator (-x, NOT is not an operator here).
ResolvedCall resolve_operator(std::string_view op, std::optional<Type> left, Type right, int position = 0);

// The common type of a set of expressions (UNION, CASE, COALESCE, IN, VALUES columns):
// PostgreSQL's select_common_type. All unknown -> text. Throws 42804 with a message naming
// `context` ("UNION types integer and text cannot be matched").
Type common_type(std::span<const Type> types, std::string_view context, int position = 0);

// Whether a value of `from` may be used where `to` is expected without an explicit cast.
bool can_coerce(TypeId from, TypeId to, CastContext ctx);

}  // namespace freshet::sql
