#include "common/type_io_functions.hpp"

#include <array>

namespace freshet {
namespace {

struct IoRow {
  uint32_t type_oid;
  std::string_view in, out, recv, send;
  uint32_t in_oid, out_oid, recv_oid, send_oid;
};

// From PostgreSQL 15's pg_type / pg_proc.
constexpr std::array kRows = {
    IoRow{16, "boolin", "boolout", "boolrecv", "boolsend", 1242, 1243, 2436, 2437},
    IoRow{17, "byteain", "byteaout", "bytearecv", "byteasend", 1244, 31, 2412, 2413},
    IoRow{18, "charin", "charout", "charrecv", "charsend", 1245, 33, 2434, 2435},
    IoRow{19, "namein", "nameout", "namerecv", "namesend", 34, 35, 2422, 2423},
    IoRow{20, "int8in", "int8out", "int8recv", "int8send", 460, 461, 2408, 2409},
    IoRow{21, "int2in", "int2out", "int2recv", "int2send", 38, 39, 2404, 2405},
    IoRow{22, "int2vectorin", "int2vectorout", "int2vectorrecv", "int2vectorsend", 40, 41, 2410, 2411},
    IoRow{23, "int4in", "int4out", "int4recv", "int4send", 42, 43, 2406, 2407},
    IoRow{24, "regprocin", "regprocout", "regprocrecv", "regprocsend", 44, 45, 2444, 2445},
    IoRow{25, "textin", "textout", "textrecv", "textsend", 46, 47, 2414, 2415},
    IoRow{26, "oidin", "oidout", "oidrecv", "oidsend", 1798, 1799, 2418, 2419},
    IoRow{30, "oidvectorin", "oidvectorout", "oidvectorrecv", "oidvectorsend", 54, 55, 2420, 2421},
    IoRow{114, "json_in", "json_out", "json_recv", "json_send", 321, 322, 323, 324},
    IoRow{700, "float4in", "float4out", "float4recv", "float4send", 200, 201, 2424, 2425},
    IoRow{701, "float8in", "float8out", "float8recv", "float8send", 214, 215, 2426, 2427},
    IoRow{705, "unknownin", "unknownout", "unknownrecv", "unknownsend", 109, 110, 2416, 2417},
    IoRow{1042, "bpcharin", "bpcharout", "bpcharrecv", "bpcharsend", 1044, 1045, 2430, 2431},
    IoRow{1043, "varcharin", "varcharout", "varcharrecv", "varcharsend", 1046, 1047, 2432, 2433},
    IoRow{1082, "date_in", "date_out", "date_recv", "date_send", 1084, 1085, 2468, 2469},
    IoRow{1083, "time_in", "time_out", "time_recv", "time_send", 1143, 1144, 2470, 2471},
    IoRow{1114, "timestamp_in", "timestamp_out", "timestamp_recv", "timestamp_send", 1312, 1313, 2474, 2475},
    IoRow{1184, "timestamptz_in", "timestamptz_out", "timestamptz_recv", "timestamptz_send", 1150, 1151, 2476, 2477},
    IoRow{1186, "interval_in", "interval_out", "interval_recv", "interval_send", 1160, 1161, 2478, 2479},
    IoRow{1700, "numeric_in", "numeric_out", "numeric_recv", "numeric_send", 1701, 1702, 2460, 2461},
    IoRow{2205, "regclassin", "regclassout", "regclassrecv", "regclasssend", 2218, 2219, 2452, 2453},
    IoRow{2206, "regtypein", "regtypeout", "regtyperecv", "regtypesend", 2220, 2221, 2454, 2455},
    IoRow{2249, "record_in", "record_out", "record_recv", "record_send", 2290, 2291, 2402, 2403},
    IoRow{2950, "uuid_in", "uuid_out", "uuid_recv", "uuid_send", 2952, 2953, 2961, 2962},
    IoRow{3802, "jsonb_in", "jsonb_out", "jsonb_recv", "jsonb_send", 3806, 3804, 3805, 3803},
    IoRow{4089, "regnamespacein", "regnamespaceout", "regnamespacerecv", "regnamespacesend", 4084, 4085, 4087, 4088},
    IoRow{4096, "regrolein", "regroleout", "regrolerecv", "regrolesend", 4098, 4092, 4094, 4095},
};
constexpr IoRow kArray{0, "array_in", "array_out", "array_recv", "array_send", 750, 751, 2400, 2401};

// pg_type oids of the array types Freshet has (typinput = array_in).
constexpr std::array<uint32_t, 9> kArrayTypes = {1000, 1003, 1005, 1007, 1009, 1016, 1022, 1028, 1231};

}  // namespace

TypeIoFunctions type_io_functions(uint32_t type_oid) {
  for (uint32_t a : kArrayTypes)
    if (a == type_oid) return {kArray.in_oid, kArray.out_oid, kArray.recv_oid, kArray.send_oid};
  for (const auto& r : kRows)
    if (r.type_oid == type_oid) return {r.in_oid, r.out_oid, r.recv_oid, r.send_oid};
  return {};
}

std::optional<uint32_t> io_function_oid(std::string_view name) {
  if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
  auto match = [&](const IoRow& r) -> std::optional<uint32_t> {
    if (name == r.in) return r.in_oid;
    if (name == r.out) return r.out_oid;
    if (name == r.recv) return r.recv_oid;
    if (name == r.send) return r.send_oid;
    return std::nullopt;
  };
  if (auto o = match(kArray)) return o;
  for (const auto& r : kRows)
    if (auto o = match(r)) return o;
  return std::nullopt;
}

std::optional<std::string_view> io_function_name(uint32_t oid) {
  auto match = [&](const IoRow& r) -> std::optional<std::string_view> {
    if (oid == r.in_oid) return r.in;
    if (oid == r.out_oid) return r.out;
    if (oid == r.recv_oid) return r.recv;
    if (oid == r.send_oid) return r.send;
    return std::nullopt;
  };
  if (auto n = match(kArray)) return n;
  for (const auto& r : kRows)
    if (auto n = match(r)) return n;
  return std::nullopt;
}

namespace {
struct NamedType {
  std::string_view name;
  uint32_t oid;
};
constexpr std::array kOtherTypes = {
    NamedType{"json", 114},          NamedType{"int2vector", 22},     NamedType{"oidvector", 30},
    NamedType{"trigger", 2279},      NamedType{"event_trigger", 3838}, NamedType{"void", 2278},
    NamedType{"internal", 2281},     NamedType{"cstring", 2275},      NamedType{"\"any\"", 2276},
    NamedType{"anyelement", 2283},   NamedType{"anyarray", 2277},     NamedType{"anynonarray", 2776},
    NamedType{"anyenum", 3500},      NamedType{"anyrange", 3831},     NamedType{"language_handler", 2280},
    NamedType{"fdw_handler", 3115},  NamedType{"table_am_handler", 269}, NamedType{"index_am_handler", 325},
    NamedType{"tsm_handler", 3310},  NamedType{"pg_ddl_command", 32},
};
}  // namespace

std::optional<uint32_t> other_type_oid(std::string_view name) {
  if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
  if (name == "any") name = "\"any\"";
  for (const auto& t : kOtherTypes)
    if (t.name == name) return t.oid;
  return std::nullopt;
}

std::optional<std::string_view> other_type_name(uint32_t oid) {
  for (const auto& t : kOtherTypes)
    if (t.oid == oid) return t.name;
  return std::nullopt;
}

}  // namespace freshet
