#pragma once
// Private to the function library (functions*.cpp): the registry under construction and small
// helpers shared by the files that fill it. Not for use outside src/common/functions*.cpp.

#include <deque>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/functions.hpp"

namespace freshet::fn {

using Args = std::span<const Datum>;

struct Registry {
  // deque: FunctionImpl addresses stay stable while the registry grows.
  std::deque<FunctionImpl> impls;
  uint32_t next_oid = 16384;

  FunctionImpl& add(std::string_view name, std::initializer_list<Type> args, Type result, ScalarFn fn,
                    uint32_t oid = 0) {
    FunctionImpl f;
    f.name = name;
    f.arg_types.assign(args.begin(), args.end());
    f.result_type = result;
    f.fn = fn;
    f.oid = oid != 0 ? oid : next_oid++;
    impls.push_back(std::move(f));
    return impls.back();
  }
};

void register_numeric_functions(Registry& r);   // functions.cpp
void register_string_functions(Registry& r);    // functions_string.cpp
void register_datetime_functions(Registry& r);  // functions_datetime.cpp
void register_misc_functions(Registry& r);      // functions_misc.cpp: uuid, jsonb, catalog
void register_catalog_functions(Registry& r);   // functions_catalog.cpp: pg_get_*def, sizes
void register_json_build_functions(Registry& r);  // functions_json_build.cpp: json_build_object
void register_bitwise_functions(Registry& r);     // functions_bitwise.cpp: & | # ~ << >> on integers
void register_to_char_functions(Registry& r);     // to_char.cpp: to_char for date/time, interval and numbers
void register_timezone_functions(Registry& r);    // functions_timezone.cpp: timezone(zone, ts), date_trunc(.., zone)
void register_to_jsonb_functions(Registry& r);     // functions_to_jsonb.cpp: to_jsonb(every type), jsonb_build_array
void register_bytea_functions(Registry& r);
void register_range_functions(Registry& r);
void register_unsigned_functions(Registry& r);    // functions_unsigned.cpp: uint2/uint4/uint8 operators       // functions_range.cpp: tsrange       // functions_bytea.cpp: get_byte, get_bit, convert_from, ...

// The largest text/bytea value a function builds: PostgreSQL's 1 GB field limit (54000).
inline constexpr size_t kMaxValueBytes = (size_t{1} << 30) - 1;
[[noreturn]] inline void value_too_large(size_t bytes) {
  throw SqlError(sqlstate::kProgramLimitExceeded, "requested length too large")
      .with_detail("A value of " + std::to_string(bytes) + " bytes exceeds the limit of " + std::to_string(kMaxValueBytes) +
                   " bytes.");
}
// Checked before building a result whose size is known in advance, so nothing that large is
// ever allocated.
inline void check_value_bytes(size_t bytes) {
  if (bytes > kMaxValueBytes) value_too_large(bytes);
}

inline Datum text_result(EvalContext& ctx, std::string_view s) {
  check_value_bytes(s.size());
  return Datum::from_string(ctx.arena->copy(s));
}

[[noreturn]] inline void throw_error(const char* code, std::string message) { throw SqlError(code, std::move(message)); }

// The PostgreSQL "out of range" error for an integer type.
[[noreturn]] void integer_out_of_range(TypeId t);
int64_t check_int_range(__int128 v, TypeId t);

// Materialize's unsigned integers (functions_unsigned.cpp): pg_cast's context of a cast from
// or to uint2/uint4/uint8 (nullopt when there is none), and the conversion itself (nullopt
// when neither side is unsigned or the pair is not handled there).
std::optional<CastContext> unsigned_cast_context(TypeId from, TypeId to);
std::optional<Datum> unsigned_cast(const Datum& v, Type from, Type to);
// mz_timestamp's casts (Materialize's typeconv.rs): from int4, int8, uint4, uint8, numeric,
// timestamp, timestamptz, date implicitly; to timestamp, timestamptz and text and from text in
// assignment. nullopt for the text casts (I/O conversion, format/parse_datum) and pairs it has
// no cast for.
std::optional<CastContext> mz_timestamp_cast_context(TypeId from, TypeId to);
std::optional<Datum> mz_timestamp_cast(const Datum& v, Type from, Type to);
// A float as Rust's Display prints it: shortest digits, no exponent.
std::string rust_float_display(double v, bool f32);

// Date/time conversions shared by casts and functions.
int64_t date_to_timestamp(int32_t days);
int32_t timestamp_to_date(int64_t micros);

}  // namespace freshet::fn
