#pragma once
// PostgreSQL's type input/output functions (pg_type.typinput, typoutput, typreceive, typsend)
// by name and oid, for the types Freshet has: what pg_type shows and what the regproc type
// reads and prints ('pg_catalog.array_in'::regproc, which pgJDBC compares typinput with to
// find array types). Freshet does not call these functions by name; they are catalog facts.
//
// Thread-safety: constant tables.

#include <cstdint>
#include <optional>
#include <string_view>

namespace freshet {

struct TypeIoFunctions {
  uint32_t input = 0, output = 0, receive = 0, send = 0;  // pg_proc oids; 0 when none
};

// By pg_type oid (arrays: array_in & co.). All zero for an oid Freshet does not know.
TypeIoFunctions type_io_functions(uint32_t type_oid);

// One of these functions by name (as regprocin: "array_in", "pg_catalog.int4in") or oid.
std::optional<uint32_t> io_function_oid(std::string_view name);
std::optional<std::string_view> io_function_name(uint32_t oid);

// Types PostgreSQL has and Freshet does not store (pseudo-types such as trigger, void,
// anyelement; json, int2vector, oidvector), for regtype input and output: psql's \\df and
// pgcli compare prorettype with 'pg_catalog.trigger'::regtype.
std::optional<uint32_t> other_type_oid(std::string_view name);
std::optional<std::string_view> other_type_name(uint32_t oid);

}  // namespace freshet
