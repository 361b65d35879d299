#pragma once
// PostgreSQL's binary wire format (format code 1) for the types Freshet has: the typsend /
// typreceive functions of PostgreSQL (bool, int2/4/8, float4/8, numeric in base 10000,
// text family, bytea, date, time, timestamp(tz), interval, uuid, jsonb with version byte 1,
// oid and reg*, and one-dimensional text[]/int2[]/oid[] arrays).
// All integers are big-endian. Pure functions; any thread.

#include <string>
#include <string_view>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet::pgwire {

// True when t has a binary codec here.
bool has_binary_format(TypeId t);

// Appends the binary form of d (of type t) to out. d must not be NULL. Throws SqlError 0A000
// for a type without a binary form (has_binary_format false), 22003 for a numeric infinity.
void encode_binary(const Datum& d, Type t, std::string& out);

// Parses a binary parameter value of type t. String bytes of the result live in arena (or in
// bytes, which must then outlive the datum: callers keep both alive together). Type modifiers
// are applied as the text input would (varchar(n) 22001, numeric(p,s) rounding).
// Throws SqlError 22P03 (invalid_binary_representation) for malformed input, 22003 when a
// numeric does not fit Freshet's 38 digits.
Datum decode_binary(std::string_view bytes, Type t, Arena& arena);

}  // namespace freshet::pgwire
