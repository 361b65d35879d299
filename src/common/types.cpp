#include "common/types.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <utility>

#include "common/error.hpp"

namespace freshet {
namespace {

struct TypeInfo {
  TypeId id;
  uint32_t oid;
  int16_t len;
  PhysicalKind kind;
  TypeCategory category;
  bool preferred;
  std::string_view internal_name;
  std::string_view sql_name;
};

constexpr std::array kTypes = {
    TypeInfo{TypeId::kUnknown, 705, -2, PhysicalKind::kString, TypeCategory::kUnknown, false, "unknown", "unknown"},
    TypeInfo{TypeId::kBool, 16, 1, PhysicalKind::kBool, TypeCategory::kBoolean, true, "bool", "boolean"},
    TypeInfo{TypeId::kInt2, 21, 2, PhysicalKind::kInt, TypeCategory::kNumeric, false, "int2", "smallint"},
    TypeInfo{TypeId::kInt4, 23, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "int4", "integer"},
    TypeInfo{TypeId::kInt8, 20, 8, PhysicalKind::kInt, TypeCategory::kNumeric, false, "int8", "bigint"},
    TypeInfo{TypeId::kNumeric, 1700, -1, PhysicalKind::kNumeric, TypeCategory::kNumeric, false, "numeric", "numeric"},
    TypeInfo{TypeId::kFloat4, 700, 4, PhysicalKind::kFloat, TypeCategory::kNumeric, false, "float4", "real"},
    TypeInfo{TypeId::kFloat8, 701, 8, PhysicalKind::kFloat, TypeCategory::kNumeric, true, "float8", "double precision"},
    TypeInfo{TypeId::kText, 25, -1, PhysicalKind::kString, TypeCategory::kString, true, "text", "text"},
    TypeInfo{TypeId::kVarchar, 1043, -1, PhysicalKind::kString, TypeCategory::kString, false, "varchar", "character varying"},
    TypeInfo{TypeId::kBpchar, 1042, -1, PhysicalKind::kString, TypeCategory::kString, false, "bpchar", "character"},
    TypeInfo{TypeId::kChar, 18, 1, PhysicalKind::kString, TypeCategory::kString, false, "char", "\"char\""},
    TypeInfo{TypeId::kName, 19, 64, PhysicalKind::kString, TypeCategory::kString, false, "name", "name"},
    TypeInfo{TypeId::kBytea, 17, -1, PhysicalKind::kString, TypeCategory::kUserDefined, false, "bytea", "bytea"},
    TypeInfo{TypeId::kDate, 1082, 4, PhysicalKind::kDate, TypeCategory::kDateTime, false, "date", "date"},
    TypeInfo{TypeId::kTime, 1083, 8, PhysicalKind::kTime, TypeCategory::kDateTime, false, "time", "time without time zone"},
    TypeInfo{TypeId::kTimestamp, 1114, 8, PhysicalKind::kTimestamp, TypeCategory::kDateTime, false, "timestamp", "timestamp without time zone"},
    TypeInfo{TypeId::kTimestampTz, 1184, 8, PhysicalKind::kTimestamp, TypeCategory::kDateTime, true, "timestamptz", "timestamp with time zone"},
    TypeInfo{TypeId::kInterval, 1186, 16, PhysicalKind::kInterval, TypeCategory::kTimespan, true, "interval", "interval"},
    TypeInfo{TypeId::kUuid, 2950, 16, PhysicalKind::kUuid, TypeCategory::kUserDefined, false, "uuid", "uuid"},
    TypeInfo{TypeId::kJsonb, 3802, -1, PhysicalKind::kString, TypeCategory::kUserDefined, false, "jsonb", "jsonb"},
    TypeInfo{TypeId::kOid, 26, 4, PhysicalKind::kInt, TypeCategory::kNumeric, true, "oid", "oid"},
    TypeInfo{TypeId::kRegclass, 2205, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "regclass", "regclass"},
    TypeInfo{TypeId::kRegproc, 24, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "regproc", "regproc"},
    TypeInfo{TypeId::kRegtype, 2206, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "regtype", "regtype"},
    TypeInfo{TypeId::kRegnamespace, 4089, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "regnamespace", "regnamespace"},
    TypeInfo{TypeId::kRegrole, 4096, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "regrole", "regrole"},
    TypeInfo{TypeId::kTextArray, 1009, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_text", "text[]"},
    TypeInfo{TypeId::kInt2Array, 1005, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_int2", "smallint[]"},
    TypeInfo{TypeId::kOidArray, 1028, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_oid", "oid[]"},
    TypeInfo{TypeId::kInt4Array, 1007, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_int4", "integer[]"},
    TypeInfo{TypeId::kInt8Array, 1016, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_int8", "bigint[]"},
    TypeInfo{TypeId::kNameArray, 1003, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_name", "name[]"},
    TypeInfo{TypeId::kBoolArray, 1000, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_bool", "boolean[]"},
    TypeInfo{TypeId::kFloat8Array, 1022, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_float8", "double precision[]"},
    TypeInfo{TypeId::kNumericArray, 1231, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_numeric", "numeric[]"},
    TypeInfo{TypeId::kInt2Vector, 22, -1, PhysicalKind::kString, TypeCategory::kArray, false, "int2vector", "int2vector"},
    TypeInfo{TypeId::kOidVector, 30, -1, PhysicalKind::kString, TypeCategory::kArray, false, "oidvector", "oidvector"},
    TypeInfo{TypeId::kRecord, 2249, -1, PhysicalKind::kString, TypeCategory::kPseudo, false, "record", "record"},
    TypeInfo{TypeId::kTsRange, 3908, -1, PhysicalKind::kString, TypeCategory::kRange, false, "tsrange", "tsrange"},
    // A list goes over the wire as text (oid 25): its text form is the value, and clients that
    // know no list type decode it as a string.
    TypeInfo{TypeId::kList, 25, -1, PhysicalKind::kString, TypeCategory::kUserDefined, false, "list", "list"},
    // Materialize's OIDs (pgrepr-consts/src/oid.rs) and names; pg_typeof prints uint2, ...
    TypeInfo{TypeId::kUInt2, 16460, 2, PhysicalKind::kInt, TypeCategory::kNumeric, false, "uint2", "uint2"},
    TypeInfo{TypeId::kUInt4, 16462, 4, PhysicalKind::kInt, TypeCategory::kNumeric, false, "uint4", "uint4"},
    TypeInfo{TypeId::kUInt8, 16464, 8, PhysicalKind::kNumeric, TypeCategory::kNumeric, false, "uint8", "uint8"},
    // mz_timestamp (OID 16552, pgrepr-consts/src/oid.rs): a uint8's storage; category U as in
    // Materialize's pg_type, so only its own casts apply.
    TypeInfo{TypeId::kMzTimestamp, 16552, 8, PhysicalKind::kNumeric, TypeCategory::kUserDefined, false, "mz_timestamp", "mz_timestamp"},
    TypeInfo{TypeId::kUInt2Array, 16461, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_uint2", "uint2[]"},
    TypeInfo{TypeId::kUInt4Array, 16463, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_uint4", "uint4[]"},
    TypeInfo{TypeId::kUInt8Array, 16465, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_uint8", "uint8[]"},
    TypeInfo{TypeId::kMzTimestampArray, 16553, -1, PhysicalKind::kString, TypeCategory::kArray, false, "_mz_timestamp", "mz_timestamp[]"},
};

const TypeInfo& info(TypeId id) {
  for (const auto& t : kTypes)
    if (t.id == id) return t;
  return kTypes[0];
}

}  // namespace

PhysicalKind physical_kind(TypeId id) { return info(id).kind; }
uint32_t type_oid(TypeId id) { return info(id).oid; }
int16_t type_len(TypeId id) { return info(id).len; }
TypeCategory type_category(TypeId id) { return info(id).category; }
bool type_is_preferred(TypeId id) { return info(id).preferred; }
std::string_view type_internal_name(TypeId id) { return info(id).internal_name; }

namespace {
constexpr std::pair<TypeId, TypeId> kArrays[] = {
    {TypeId::kTextArray, TypeId::kText},     {TypeId::kInt2Array, TypeId::kInt2},
    {TypeId::kOidArray, TypeId::kOid},       {TypeId::kInt4Array, TypeId::kInt4},
    {TypeId::kInt8Array, TypeId::kInt8},     {TypeId::kNameArray, TypeId::kName},
    {TypeId::kBoolArray, TypeId::kBool},     {TypeId::kFloat8Array, TypeId::kFloat8},
    {TypeId::kNumericArray, TypeId::kNumeric},
    {TypeId::kUInt2Array, TypeId::kUInt2},   {TypeId::kUInt4Array, TypeId::kUInt4},
    {TypeId::kUInt8Array, TypeId::kUInt8},   {TypeId::kMzTimestampArray, TypeId::kMzTimestamp},
    // After the arrays: array_type_of(int2) is int2[], not int2vector.
    {TypeId::kInt2Vector, TypeId::kInt2},    {TypeId::kOidVector, TypeId::kOid},
};
}  // namespace

std::optional<TypeId> array_element_type(TypeId id) {
  for (const auto& [a, e] : kArrays)
    if (a == id) return e;
  return std::nullopt;
}

std::optional<TypeId> array_type_of(TypeId element) {
  switch (element) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kUnknown:
      return TypeId::kTextArray;
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype:
    case TypeId::kRegnamespace:
    case TypeId::kRegrole:
      return TypeId::kOidArray;
    default:
      break;
  }
  for (const auto& [a, e] : kArrays)
    if (e == element) return a;
  return std::nullopt;
}

namespace {
// The interned list types: entries are written once, before size is published, and never
// change, so readers below size need no lock.
struct ListTypes {
  std::mutex mu;
  std::array<Type, kMaxListTypes> elements;
  std::array<uint32_t, kMaxListTypes> oids{};           // named list types: the catalog oid
  std::array<std::string, kMaxListTypes> names;         // named list types: the name shown
  std::atomic<int32_t> size{0};
};
ListTypes& list_types() {
  static ListTypes* t = new ListTypes();  // never destroyed: used by static-duration types
  return *t;
}

struct RecordTypes {
  std::mutex mu;
  struct Entry {
    std::vector<RecordField> fields;
    uint32_t oid = 0;
    std::string name;
  };
  std::array<std::unique_ptr<Entry>, kMaxRecordTypes> entries;
  std::atomic<int32_t> size{0};
};
RecordTypes& record_types() {
  static RecordTypes* t = new RecordTypes();  // never destroyed, as list_types
  return *t;
}

Type intern_list(Type element, uint32_t oid, std::string_view name) {
  ListTypes& lt = list_types();
  auto same = [&](int32_t i) {
    auto k = static_cast<size_t>(i);
    return lt.elements[k] == element && lt.oids[k] == oid && lt.names[k] == name;
  };
  int32_t n = lt.size.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; ++i)
    if (same(i)) return Type(TypeId::kList, i);
  std::lock_guard<std::mutex> lock(lt.mu);
  n = lt.size.load(std::memory_order_relaxed);
  for (int32_t i = 0; i < n; ++i)
    if (same(i)) return Type(TypeId::kList, i);
  if (n >= kMaxListTypes)
    throw SqlError(sqlstate::kProgramLimitExceeded, "too many distinct list types (limit " + std::to_string(kMaxListTypes) + ")");
  lt.elements[static_cast<size_t>(n)] = element;
  lt.oids[static_cast<size_t>(n)] = oid;
  lt.names[static_cast<size_t>(n)] = std::string(name);
  lt.size.store(n + 1, std::memory_order_release);
  return Type(TypeId::kList, n);
}
}  // namespace

Type list_type_of(Type element) { return intern_list(element, 0, {}); }

Type named_list_type_of(Type element, uint32_t type_oid, std::string_view shown_name) {
  return intern_list(element, type_oid, shown_name);
}

Type list_element_type(Type list) {
  ListTypes& lt = list_types();
  FRESHET_ASSERT(list.id == TypeId::kList && list.typmod >= 0 && list.typmod < lt.size.load(std::memory_order_acquire));
  return lt.elements[static_cast<size_t>(list.typmod)];
}

bool is_record_value_type(Type t) {
  return t.id == TypeId::kRecord && t.typmod >= 0 && t.typmod < record_types().size.load(std::memory_order_acquire);
}

Type record_type_of(const std::vector<RecordField>& fields, uint32_t type_oid, std::string_view shown_name) {
  RecordTypes& rt = record_types();
  auto same = [&](int32_t i) {
    const auto& e = *rt.entries[static_cast<size_t>(i)];
    return e.fields == fields && e.oid == type_oid && e.name == shown_name;
  };
  int32_t n = rt.size.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; ++i)
    if (same(i)) return Type(TypeId::kRecord, i);
  std::lock_guard<std::mutex> lock(rt.mu);
  n = rt.size.load(std::memory_order_relaxed);
  for (int32_t i = 0; i < n; ++i)
    if (same(i)) return Type(TypeId::kRecord, i);
  if (n >= kMaxRecordTypes)
    throw SqlError(sqlstate::kProgramLimitExceeded, "too many distinct record types (limit " + std::to_string(kMaxRecordTypes) + ")");
  rt.entries[static_cast<size_t>(n)] = std::make_unique<RecordTypes::Entry>(RecordTypes::Entry{fields, type_oid, std::string(shown_name)});
  rt.size.store(n + 1, std::memory_order_release);
  return Type(TypeId::kRecord, n);
}

const std::vector<RecordField>& record_fields(Type t) {
  FRESHET_ASSERT(is_record_value_type(t));
  return record_types().entries[static_cast<size_t>(t.typmod)]->fields;
}

uint32_t named_type_oid(Type t) {
  if (t.id == TypeId::kList && t.typmod >= 0) {
    ListTypes& lt = list_types();
    if (t.typmod < lt.size.load(std::memory_order_acquire)) return lt.oids[static_cast<size_t>(t.typmod)];
  }
  if (is_record_value_type(t)) return record_types().entries[static_cast<size_t>(t.typmod)]->oid;
  return 0;
}

std::optional<TypeId> type_from_oid(uint32_t oid) {
  for (const auto& t : kTypes)
    if (t.oid == oid) return t.id;
  if (oid == 114) return TypeId::kJsonb;     // json is read as jsonb
  return std::nullopt;
}

std::string type_name(Type t) {
  if (t.id == TypeId::kList && t.typmod >= 0) {
    const std::string& named = list_types().names[static_cast<size_t>(t.typmod)];
    if (!named.empty()) return named;                         // CREATE TYPE int4_list AS LIST
    return type_name(list_element_type(t)) + " list";  // "integer list"
  }
  if (is_record_value_type(t)) {
    const std::string& named = record_types().entries[static_cast<size_t>(t.typmod)]->name;
    return named.empty() ? "record" : named;
  }
  const auto& i = info(t.id);
  std::string name(i.sql_name);
  if (t.typmod < 0) return name;
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
      return name + "(" + std::to_string(t.typmod) + ")";
    case TypeId::kNumeric:
      return name + "(" + std::to_string(t.typmod >> 16) + "," + std::to_string(t.typmod & 0xffff) + ")";
    case TypeId::kTimestamp:
      return "timestamp(" + std::to_string(t.typmod) + ") without time zone";
    case TypeId::kTimestampTz:
      return "timestamp(" + std::to_string(t.typmod) + ") with time zone";
    case TypeId::kTime:
      return "time(" + std::to_string(t.typmod) + ") without time zone";
    case TypeId::kInterval: {
      // PostgreSQL's intervaltypmodout: the qualifier's fields, then the precision.
      int32_t range = (t.typmod >> 16) & 0x7FFF, precision = t.typmod & 0xFFFF;
      constexpr int32_t Y = 1 << 2, M = 1 << 1, D = 1 << 3, H = 1 << 10, MI = 1 << 11, S = 1 << 12;
      static const std::pair<int32_t, const char*> kRanges[] = {
          {Y, " year"}, {M, " month"}, {D, " day"}, {H, " hour"}, {MI, " minute"}, {S, " second"},
          {Y | M, " year to month"}, {D | H, " day to hour"}, {D | H | MI, " day to minute"},
          {D | H | MI | S, " day to second"}, {H | MI, " hour to minute"}, {H | MI | S, " hour to second"},
          {MI | S, " minute to second"}};
      for (const auto& [r, text] : kRanges)
        if (r == range) name += text;
      if (precision != 0xFFFF) name += "(" + std::to_string(precision) + ")";
      return name;
    }
    default:
      return name;
  }
}

std::optional<TypeId> type_from_name(std::string_view name) {
  if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
  struct Alias {
    std::string_view name;
    TypeId id;
  };
  static constexpr Alias kAliases[] = {
      {"bool", TypeId::kBool},         {"boolean", TypeId::kBool},
      {"int2", TypeId::kInt2},         {"smallint", TypeId::kInt2},
      {"int4", TypeId::kInt4},         {"int", TypeId::kInt4},
      {"integer", TypeId::kInt4},      {"int8", TypeId::kInt8},
      {"bigint", TypeId::kInt8},       {"numeric", TypeId::kNumeric},
      {"decimal", TypeId::kNumeric},   {"float4", TypeId::kFloat4},
      {"real", TypeId::kFloat4},       {"float8", TypeId::kFloat8},
      {"float", TypeId::kFloat8},      {"double precision", TypeId::kFloat8},
      {"text", TypeId::kText},         {"varchar", TypeId::kVarchar},
      {"character varying", TypeId::kVarchar}, {"bpchar", TypeId::kBpchar},
      {"character", TypeId::kBpchar},  {"char", TypeId::kChar},
      {"name", TypeId::kName},         {"bytea", TypeId::kBytea},
      {"date", TypeId::kDate},         {"time", TypeId::kTime},
      {"timestamp", TypeId::kTimestamp}, {"timestamptz", TypeId::kTimestampTz},
      {"interval", TypeId::kInterval}, {"uuid", TypeId::kUuid},
      {"jsonb", TypeId::kJsonb},       {"json", TypeId::kJsonb},
      {"oid", TypeId::kOid},           {"regclass", TypeId::kRegclass},
      {"regproc", TypeId::kRegproc},   {"regtype", TypeId::kRegtype},
      {"_text", TypeId::kTextArray},   {"_int2", TypeId::kInt2Array},
      {"int2vector", TypeId::kInt2Vector}, {"_oid", TypeId::kOidArray},
      {"oidvector", TypeId::kOidVector}, {"record", TypeId::kRecord},
      {"regnamespace", TypeId::kRegnamespace}, {"regrole", TypeId::kRegrole},
      {"_int4", TypeId::kInt4Array},   {"_int8", TypeId::kInt8Array},
      {"_name", TypeId::kNameArray},   {"_bool", TypeId::kBoolArray},
      {"_float8", TypeId::kFloat8Array}, {"_numeric", TypeId::kNumericArray},
      {"_varchar", TypeId::kTextArray}, {"tsrange", TypeId::kTsRange},
      {"unknown", TypeId::kUnknown},
  };
  for (const auto& a : kAliases)
    if (a.name == name) return a.id;
  return std::nullopt;
}

std::optional<TypeId> sql_type_from_name(std::string_view name) {
  if (auto id = type_from_name(name)) return id;
  // Materialize's own spellings (its SQL reference, "Types"): `string` is text, `double` is
  // double precision, `bytes` is bytea. PostgreSQL has none of them; accepting them changes no
  // answer PostgreSQL gives.
  if (name == "string") return TypeId::kText;
  if (name == "double") return TypeId::kFloat8;
  if (name == "bytes") return TypeId::kBytea;
  // Materialize's unsigned integers (its type reference names these aliases too).
  if (name == "uint2") return TypeId::kUInt2;
  if (name == "uint4") return TypeId::kUInt4;
  if (name == "uint8") return TypeId::kUInt8;
  if (name == "mz_timestamp") return TypeId::kMzTimestamp;
  return std::nullopt;
}

}  // namespace freshet
