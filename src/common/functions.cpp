#include "common/functions.hpp"
// Temporary: the registry follows in the next commit.
namespace freshet {
std::span<const FunctionImpl* const> lookup_functions(std::string_view) { return {}; }
std::span<const FunctionImpl* const> lookup_operators(std::string_view, bool) { return {}; }
bool cast_exists(TypeId, TypeId, CastContext) { return false; }
Datum cast_datum(const Datum& v, Type, Type, EvalContext&, bool) { return v; }
bool resolve_aggregate(std::string_view, std::span<const Type>, AggregateSignature&) { return false; }
bool is_aggregate_name(std::string_view) { return false; }
}  // namespace freshet
