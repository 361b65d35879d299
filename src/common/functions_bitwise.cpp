// Bitwise operators on integers (&, |, #, ~, <<, >>), as PostgreSQL's int2and ... int8shr:
// pgJDBC's getIndexInfo reads index options with `indoption[k] & 1`. In its own file so as not
// to collide with other work on the function library.

#include <cstdint>
#include <type_traits>

#include "common/functions_internal.hpp"

namespace freshet::fn {
namespace {

// The result wraps to the type's width, as C does in PostgreSQL (int2 results are computed in
// int and truncated; a shift count is taken modulo the width, as x86 does).
template <typename T>
Datum wrap(int64_t v) {
  return Datum::from_int(static_cast<T>(v));
}

template <typename T>
Datum b_and(Args a, EvalContext&) { return wrap<T>(a[0].as_int() & a[1].as_int()); }
template <typename T>
Datum b_or(Args a, EvalContext&) { return wrap<T>(a[0].as_int() | a[1].as_int()); }
template <typename T>
Datum b_xor(Args a, EvalContext&) { return wrap<T>(a[0].as_int() ^ a[1].as_int()); }
template <typename T>
Datum b_not(Args a, EvalContext&) { return wrap<T>(~a[0].as_int()); }

template <typename T>
Datum b_shl(Args a, EvalContext&) {
  using W = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;  // int2 shifts as int
  int bits = sizeof(W) * 8;
  auto count = static_cast<unsigned>(a[1].as_int() & (bits - 1));
  return wrap<T>(static_cast<std::make_signed_t<W>>(static_cast<W>(a[0].as_int()) << count));
}
template <typename T>
Datum b_shr(Args a, EvalContext&) {
  using S = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  int bits = sizeof(S) * 8;
  auto count = static_cast<unsigned>(a[1].as_int() & (bits - 1));
  return wrap<T>(static_cast<S>(a[0].as_int()) >> count);
}

template <typename T>
void add_type(Registry& r, TypeId id, uint32_t first_oid) {
  Type t(id);
  Type i4(TypeId::kInt4);
  r.add("&", {t, t}, t, &b_and<T>, first_oid);
  r.add("|", {t, t}, t, &b_or<T>, first_oid + 1);
  r.add("#", {t, t}, t, &b_xor<T>, first_oid + 2);
  r.add("~", {t}, t, &b_not<T>, first_oid + 3);
  r.add("<<", {t, i4}, t, &b_shl<T>, first_oid + 4);
  r.add(">>", {t, i4}, t, &b_shr<T>, first_oid + 5);
}

}  // namespace

void register_bitwise_functions(Registry& r) {
  add_type<int16_t>(r, TypeId::kInt2, 1892);
  add_type<int32_t>(r, TypeId::kInt4, 1898);
  add_type<int64_t>(r, TypeId::kInt8, 1904);
}

}  // namespace freshet::fn
