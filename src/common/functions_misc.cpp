// uuid, jsonb and the catalog-free pg_catalog functions that psql and drivers call.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <string>

#include "common/format.hpp"
#include "common/statement_interrupt.hpp"
#include "common/functions_internal.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::fn {
namespace {

constexpr Type kText = TypeId::kText;
constexpr Type kName = TypeId::kName;
constexpr Type kOidT = TypeId::kOid;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kBoolT = TypeId::kBool;
constexpr Type kJsonb = TypeId::kJsonb;
constexpr Type kTextArr = TypeId::kTextArray;

// --- uuid ------------------------------------------------------------------------------------

Datum u_gen_random_uuid(Args, EvalContext&) {
  Uuid u;
  if (RAND_bytes(u.bytes, 16) != 1) throw SqlError(sqlstate::kInternalError, "could not generate random values");
  u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0F) | 0x40);  // version 4
  u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Datum::from_uuid(u);
}

// uuid_generate_v5(namespace, name): RFC 4122's name-based UUID over SHA-1, as PostgreSQL's
// uuid-ossp extension (and Materialize, where it is built in) computes it.
Datum u_uuid_generate_v5(Args a, EvalContext&) {
  Uuid ns = a[0].as_uuid();
  std::string_view name = a[1].as_string();
  std::string input(reinterpret_cast<const char*>(ns.bytes), 16);
  input.append(name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1 || len < 16) {
    throw SqlError(sqlstate::kInternalError, "could not compute a SHA-1 digest");
  }
  Uuid u;
  std::memcpy(u.bytes, digest, 16);
  u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0F) | 0x50);  // version 5
  u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Datum::from_uuid(u);
}

// --- jsonb -----------------------------------------------------------------------------------

Datum json_datum(const JsonValue& v, EvalContext& ctx) {
  std::string out;
  json_write(v, out);
  return text_result(ctx, out);
}
// ->> of a value: strings unquoted, JSON null is SQL NULL.
Datum json_text_datum(const JsonValue& v, EvalContext& ctx) {
  if (v.kind == JsonValue::Kind::kNull) return Datum::null();
  if (v.kind == JsonValue::Kind::kString) return text_result(ctx, v.str);
  return json_datum(v, ctx);
}
const JsonValue* field(const JsonValue& v, std::string_view key) {
  if (v.kind != JsonValue::Kind::kObject) return nullptr;
  for (const auto& [k, val] : v.object)
    if (k == key) return &val;
  return nullptr;
}
const JsonValue* element(const JsonValue& v, int64_t i) {
  if (v.kind != JsonValue::Kind::kArray) return nullptr;
  int64_t n = static_cast<int64_t>(v.array.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) return nullptr;
  return &v.array[static_cast<size_t>(i)];
}
Datum j_field(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = field(v, a[1].as_string());
  return f ? json_datum(*f, ctx) : Datum::null();
}
Datum j_field_text(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = field(v, a[1].as_string());
  return f ? json_text_datum(*f, ctx) : Datum::null();
}
Datum j_elem(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = element(v, a[1].as_int());
  return f ? json_datum(*f, ctx) : Datum::null();
}
Datum j_elem_text(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = element(v, a[1].as_int());
  return f ? json_text_datum(*f, ctx) : Datum::null();
}
const JsonValue* path(const JsonValue& root, Args keys) {
  const JsonValue* cur = &root;
  for (const Datum& k : keys) {
    if (k.is_null()) return nullptr;
    std::string_view key = k.as_string();
    if (cur->kind == JsonValue::Kind::kObject) {
      cur = field(*cur, key);
    } else if (cur->kind == JsonValue::Kind::kArray) {
      char* end = nullptr;
      std::string ks(key);
      long idx = std::strtol(ks.c_str(), &end, 10);
      if (ks.empty() || *end != '\0') return nullptr;
      cur = element(*cur, idx);
    } else {
      return nullptr;
    }
    if (!cur) return nullptr;
  }
  return cur;
}
Datum j_extract_path(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return Datum::null();
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = path(v, a.subspan(1));
  return f ? json_datum(*f, ctx) : Datum::null();
}
Datum j_extract_path_text(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return Datum::null();
  JsonValue v = json_parse(a[0].as_string());
  const JsonValue* f = path(v, a.subspan(1));
  return f ? json_text_datum(*f, ctx) : Datum::null();
}
Datum j_path_op(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  std::vector<Datum> keys;
  Arena& arena = *ctx.arena;
  for (auto& e : parse_array_literal(a[1].as_string())) {
    if (!e) return Datum::null();
    keys.push_back(Datum::from_string(arena.copy(*e)));
  }
  const JsonValue* f = path(v, keys);
  return f ? json_datum(*f, ctx) : Datum::null();
}
Datum j_path_text_op(Args a, EvalContext& ctx) {
  JsonValue v = json_parse(a[0].as_string());
  std::vector<Datum> keys;
  Arena& arena = *ctx.arena;
  for (auto& e : parse_array_literal(a[1].as_string())) {
    if (!e) return Datum::null();
    keys.push_back(Datum::from_string(arena.copy(*e)));
  }
  const JsonValue* f = path(v, keys);
  return f ? json_text_datum(*f, ctx) : Datum::null();
}
const char* json_type_name(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "boolean";
    case JsonValue::Kind::kNumber: return "number";
    case JsonValue::Kind::kString: return "string";
    case JsonValue::Kind::kArray: return "array";
    case JsonValue::Kind::kObject: return "object";
  }
  return "";
}
Datum j_typeof(Args a, EvalContext& ctx) { return text_result(ctx, json_type_name(json_parse(a[0].as_string()))); }
Datum j_array_length(Args a, EvalContext&) {
  JsonValue v = json_parse(a[0].as_string());
  if (v.kind != JsonValue::Kind::kArray) {
    // Materialize: NULL for anything but an array (expr/src/scalar/func/impls/jsonb.rs).
    if (materialize_dialect()) return Datum::null();
    throw SqlError(sqlstate::kInvalidParameterValue,
                   v.kind == JsonValue::Kind::kObject ? "cannot get array length of a non-array"
                                                       : "cannot get array length of a scalar");
  }
  return Datum::from_int(static_cast<int64_t>(v.array.size()));
}

bool json_equal(const JsonValue& a, const JsonValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case JsonValue::Kind::kNull: return true;
    case JsonValue::Kind::kBool: return a.b == b.b;
    case JsonValue::Kind::kNumber:
    case JsonValue::Kind::kString: {
      if (a.kind == JsonValue::Kind::kNumber) {
        std::string x, y;
        json_write(a, x);
        json_write(b, y);
        // Compare numerically: 1.0 = 1.
        try {
          Arena arena;
          return compare_datums(parse_datum(x, TypeId::kNumeric, arena), parse_datum(y, TypeId::kNumeric, arena)) == 0;
        } catch (const SqlError&) {
          return x == y;
        }
      }
      return a.str == b.str;
    }
    case JsonValue::Kind::kArray:
      if (a.array.size() != b.array.size()) return false;
      for (size_t i = 0; i < a.array.size(); ++i)
        if (!json_equal(a.array[i], b.array[i])) return false;
      return true;
    case JsonValue::Kind::kObject:
      if (a.object.size() != b.object.size()) return false;
      for (size_t i = 0; i < a.object.size(); ++i)
        if (a.object[i].first != b.object[i].first || !json_equal(a.object[i].second, b.object[i].second)) return false;
      return true;
  }
  return false;
}
// PostgreSQL's jsonb containment (JsonbDeepContains).
bool json_contains(const JsonValue& a, const JsonValue& b, bool top) {
  if (a.kind == JsonValue::Kind::kObject) {
    if (b.kind != JsonValue::Kind::kObject) return false;
    for (const auto& [k, v] : b.object) {
      const JsonValue* f = field(a, k);
      if (!f) return false;
      if (f->kind == JsonValue::Kind::kObject || f->kind == JsonValue::Kind::kArray) {
        if (!json_contains(*f, v, false)) return false;
      } else if (!json_equal(*f, v)) {
        return false;
      }
    }
    return true;
  }
  if (a.kind == JsonValue::Kind::kArray) {
    if (b.kind != JsonValue::Kind::kArray) {
      // A top-level array contains a scalar that is one of its elements.
      if (!top || b.kind == JsonValue::Kind::kObject) return false;
      for (const auto& e : a.array)
        if (json_equal(e, b)) return true;
      return false;
    }
    for (const auto& want : b.array) {
      bool found = false;
      for (const auto& have : a.array) {
        if (want.kind == JsonValue::Kind::kObject || want.kind == JsonValue::Kind::kArray) {
          if (have.kind == want.kind && json_contains(have, want, false)) found = true;
        } else if (json_equal(have, want)) {
          found = true;
        }
        if (found) break;
      }
      if (!found) return false;
    }
    return true;
  }
  return json_equal(a, b);
}
Datum j_contains(Args a, EvalContext&) {
  return Datum::from_bool(json_contains(json_parse(a[0].as_string()), json_parse(a[1].as_string()), true));
}
Datum j_contained(Args a, EvalContext&) {
  return Datum::from_bool(json_contains(json_parse(a[1].as_string()), json_parse(a[0].as_string()), true));
}
Datum j_exists(Args a, EvalContext&) {
  JsonValue v = json_parse(a[0].as_string());
  std::string_view key = a[1].as_string();
  if (v.kind == JsonValue::Kind::kObject) return Datum::from_bool(field(v, key) != nullptr);
  if (v.kind == JsonValue::Kind::kArray) {
    for (const auto& e : v.array)
      if (e.kind == JsonValue::Kind::kString && e.str == key) return Datum::from_bool(true);
    return Datum::from_bool(false);
  }
  return Datum::from_bool(v.kind == JsonValue::Kind::kString && v.str == key);
}
Datum j_concat(Args a, EvalContext& ctx) {
  JsonValue x = json_parse(a[0].as_string()), y = json_parse(a[1].as_string());
  if (x.kind == JsonValue::Kind::kObject && y.kind == JsonValue::Kind::kObject) {
    // Right side wins; re-parse to restore jsonb key order.
    std::string s = "{";
    bool first = true;
    for (auto* o : {&x, &y}) {
      for (const auto& [k, v] : o->object) {
        if (!first) s += ",";
        first = false;
        json_quote(k, s);
        s += ":";
        json_write(v, s);
      }
    }
    s += "}";
    return json_datum(json_parse(s), ctx);
  }
  // Materialize (expr/src/scalar/func.rs jsonb_concat): two non-arrays that are not both
  // objects concatenate to NULL; PostgreSQL wraps them in an array.
  if (materialize_dialect() && x.kind != JsonValue::Kind::kArray && y.kind != JsonValue::Kind::kArray)
    return Datum::null();
  JsonValue r;
  r.kind = JsonValue::Kind::kArray;
  for (auto* o : {&x, &y}) {
    if (o->kind == JsonValue::Kind::kArray) {
      for (auto& e : o->array) r.array.push_back(e);
    } else {
      r.array.push_back(*o);
    }
  }
  return json_datum(r, ctx);
}
Datum j_to_jsonb_text(Args a, EvalContext& ctx) {
  std::string s;
  json_quote(a[0].as_string(), s);
  return text_result(ctx, s);
}

// --- catalog and session functions -----------------------------------------------------------

Datum c_version(Args, EvalContext& ctx) {
  return text_result(ctx, "PostgreSQL 15.0 (Freshet 0.1) on x86_64-pc-linux-gnu, compiled by gcc, 64-bit");
}
// Materialize's mz_version() / mz_version_num(): the server's version (Freshet's own; the
// number as Materialize computes it, major * 10000 + minor * 100 + patch).
Datum c_mz_version(Args, EvalContext& ctx) { return text_result(ctx, "v0.1.0 (Freshet)"); }
Datum c_mz_version_num(Args, EvalContext&) { return Datum::from_int(100); }
// pg_postmaster_start_time(): when this server process started (its static initialisation).
const int64_t g_process_start_us =
    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
    kUnixToPgEpochMicros;
Datum c_postmaster_start_time(Args, EvalContext&) { return Datum::from_timestamp(g_process_start_us); }
Datum c_current_database(Args, EvalContext& ctx) { return text_result(ctx, ctx.current_database); }
Datum c_current_user(Args, EvalContext& ctx) { return text_result(ctx, ctx.current_user); }
Datum c_session_user(Args, EvalContext& ctx) {
  return text_result(ctx, ctx.session_user.empty() ? ctx.current_user : ctx.session_user);
}
// As PostgreSQL: current_schema() is the first schema of the path that exists (NULL when none
// does); current_schemas(true) puts the implicitly searched pg_catalog first when the path
// does not name it. (Materialize lists mz_catalog too; Freshet's mz_catalog relations live in
// pg_catalog.)
const std::vector<std::string>& effective_search_path(const EvalContext& ctx) {
  static const std::vector<std::string> kDefault = {"public"};
  return ctx.search_path != nullptr ? *ctx.search_path : kDefault;
}
Datum c_current_schema(Args, EvalContext& ctx) {
  const auto& path = effective_search_path(ctx);
  return path.empty() ? Datum::null() : text_result(ctx, path.front());
}
Datum c_current_schemas(Args a, EvalContext& ctx) {
  const auto& path = effective_search_path(ctx);
  std::vector<std::optional<std::string>> names;
  if (a[0].as_bool() && std::find(path.begin(), path.end(), "pg_catalog") == path.end()) names.emplace_back("pg_catalog");
  for (const auto& s : path) names.emplace_back(s);
  std::string out;
  format_array_literal(names, out);
  return text_result(ctx, out);
}
Datum c_backend_pid(Args, EvalContext& ctx) {
  return Datum::from_int(ctx.backend_pid != 0 ? ctx.backend_pid : static_cast<int64_t>(getpid()));
}
// pg_cancel_backend(pid) / pg_terminate_backend(pid [, timeout]): false when no session has pid.
Datum c_cancel_backend(Args a, EvalContext& ctx) {
  return Datum::from_bool(ctx.signal_backend && (*ctx.signal_backend)(static_cast<int32_t>(a[0].as_int()), false));
}
Datum c_terminate_backend(Args a, EvalContext& ctx) {
  return Datum::from_bool(ctx.signal_backend && (*ctx.signal_backend)(static_cast<int32_t>(a[0].as_int()), true));
}
// pg_sleep(seconds): waits, polling the statement's cancel flag and statement_timeout every
// 10 ms (common/statement_interrupt.hpp; a cancel takes effect within that), then returns
// PostgreSQL's void as '' (text).
Datum c_pg_sleep(Args a, EvalContext& ctx) {
  const double seconds = a[0].as_float();
  if (std::isnan(seconds) || seconds <= 0) return Datum::from_string("");
  const auto start = std::chrono::steady_clock::now();
  // Beyond about 292 years a duration of nanoseconds overflows: wait "forever" (until cancelled).
  const double capped = std::min(seconds, 1e9);
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(capped));
  while (true) {
    check_statement_interrupt(ctx.backend_pid);
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return Datum::from_string("");
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(10)));
  }
}
// Materialize's mz_unsafe.mz_sleep(seconds): pg_sleep's wait, returning a NULL timestamptz.
Datum c_mz_sleep(Args a, EvalContext& ctx) {
  c_pg_sleep(a, ctx);
  return Datum::null();
}
Datum c_null(Args, EvalContext&) { return Datum::null(); }
Datum c_true(Args, EvalContext&) { return Datum::from_bool(true); }
// pg_encoding_to_char: PostgreSQL's encoding numbers (pg_wchar.h's pg_enc); "" outside them.
Datum c_encoding(Args a, EvalContext& ctx) {
  static constexpr const char* kEncodings[] = {
      "SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004", "UTF8", "MULE_INTERNAL", "LATIN1",
      "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9", "LATIN10", "WIN1256",
      "WIN1258", "WIN866", "WIN874", "KOI8R", "WIN1251", "WIN1252", "ISO_8859_5", "ISO_8859_6", "ISO_8859_7",
      "ISO_8859_8", "WIN1250", "WIN1253", "WIN1254", "WIN1255", "WIN1257", "KOI8U", "SJIS", "BIG5", "GBK", "UHC",
      "GB18030", "JOHAB", "SHIFT_JIS_2004"};
  int64_t e = a[0].as_int();
  if (e < 0 || e >= static_cast<int64_t>(std::size(kEncodings))) return text_result(ctx, "");
  return text_result(ctx, kEncodings[e]);
}
Datum c_userbyid(Args a, EvalContext& ctx) {
  if (ctx.catalog) {
    if (auto n = ctx.catalog->role_name(static_cast<uint32_t>(a[0].as_int()))) return text_result(ctx, *n);
    return text_result(ctx, "unknown (OID=" + std::to_string(a[0].as_int()) + ")");
  }
  return text_result(ctx, "freshet");
}

// has_table_privilege & co. and pg_has_role: (object, priv), (user, object, priv) with the
// object by name (text/name) or by oid; the catalog answers (CatalogAccess::has_privilege).
template <char Kind, bool WithUser, bool ByOid>
Datum c_has_privilege(Args a, EvalContext& ctx) {
  size_t i = 0;
  std::string user = WithUser ? std::string(a[i++].as_string()) : std::string(ctx.current_user);
  const Datum& obj = a[i++];
  std::string_view priv = a[i].as_string();
  if (!ctx.catalog) return Datum::from_bool(true);
  if (ByOid) return Datum::from_bool(ctx.catalog->has_privilege(Kind, user, "", static_cast<uint32_t>(obj.as_int()), priv));
  return Datum::from_bool(ctx.catalog->has_privilege(Kind, user, obj.as_string(), 0, priv));
}

// format_type(type_oid, typmod): typmod as stored in pg_attribute.atttypmod (PostgreSQL's
// convention: varchar/bpchar/numeric include the 4-byte header). Follows PostgreSQL 15's
// format_type_extended over its built-in types (pg_type_names.inc): an array prints as its
// element type with the typmod, then "[]"; a few types have SQL-standard names and their own
// typmod output; any other type with a typmod prints "name(typmod)"; oid 0 is "-" and an
// unknown oid "???". Freshet's own types (oids above 10000) are named by type_name.
struct PgTypeName {
  uint32_t oid;
  uint32_t elem;
  const char* name;
};
constexpr PgTypeName kPgTypeNames[] = {
#include "common/pg_type_names.inc"
};

const PgTypeName* pg_type_name(uint32_t oid) {
  auto it = std::lower_bound(std::begin(kPgTypeNames), std::end(kPgTypeNames), oid,
                             [](const PgTypeName& t, uint32_t o) { return t.oid < o; });
  if (it == std::end(kPgTypeNames) || it->oid != oid) return nullptr;
  return &*it;
}

// The name of a non-array type with typmod (-1: none given), as format_type_extended prints it.
std::string format_pg_type(uint32_t oid, const char* name, int32_t typmod, bool typmod_given) {
  constexpr int32_t kVarHdrSz = 4;
  const bool with = typmod >= 0;
  auto paren = [](int32_t v) { return "(" + std::to_string(v) + ")"; };
  switch (oid) {
    case 1042:  // bpchar
      if (with) return std::string("character") + (typmod > kVarHdrSz ? paren(typmod - kVarHdrSz) : "");
      return typmod_given ? "bpchar" : "character";
    case 1043:  // varchar
      return std::string("character varying") + (with && typmod > kVarHdrSz ? paren(typmod - kVarHdrSz) : "");
    case 1700:  // numeric: precision in the high 16 bits, scale an 11-bit signed field (PG 15)
      if (with && typmod >= kVarHdrSz) {
        int32_t t = typmod - kVarHdrSz;
        int32_t precision = (t >> 16) & 0xffff;
        int32_t scale = ((t & 0x7ff) ^ 1024) - 1024;
        return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
      }
      return "numeric";
    case 1560:  // bit; with typmod -1 given quoted, as "bit" alone would read as bit(1)
      if (!with && typmod_given) return "\"bit\"";
      [[fallthrough]];
    case 1562:  // varbit
    case 1114:
    case 1184:
    case 1083:
    case 1266: {
      std::string n = name;  // "timestamp without time zone": the typmod goes after the first word
      if (!with) return n;
      size_t sp = (oid == 1560 || oid == 1562) ? n.size() : n.find(' ');
      return n.substr(0, sp) + paren(typmod) + n.substr(sp);
    }
    case 16: case 20: case 21: case 23: case 700: case 701:
      return name;  // boolean, bigint, smallint, integer, real, double precision: typmod ignored
    default:
      return with ? std::string(name) + paren(typmod) : std::string(name);
  }
}

Datum c_format_type(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return Datum::null();
  uint32_t oid = static_cast<uint32_t>(a[0].as_int());
  const bool typmod_given = !a[1].is_null();
  int32_t typmod = typmod_given ? static_cast<int32_t>(a[1].as_int()) : -1;
  if (oid == 0) return text_result(ctx, "-");
  if (oid == 1186) {  // interval's typmod carries its fields: Freshet's own printer knows them
    Type t(TypeId::kInterval, typmod >= 0 ? typmod : -1);
    return text_result(ctx, type_name(t));
  }
  if (const PgTypeName* t = pg_type_name(oid)) {
    if (t->elem != 0) {
      const PgTypeName* e = pg_type_name(t->elem);
      if (e && e->elem == 0) {
        if (e->oid == 1186) return text_result(ctx, type_name(Type(TypeId::kInterval, typmod >= 0 ? typmod : -1)) + "[]");
        return text_result(ctx, format_pg_type(e->oid, e->name, typmod, typmod_given) + "[]");
      }
      return text_result(ctx, t->name);
    }
    return text_result(ctx, format_pg_type(oid, t->name, typmod, typmod_given));
  }
  auto id = type_from_oid(oid);
  if (!id) return text_result(ctx, "???");
  return text_result(ctx, type_name(Type(*id, -1)));
}

Datum c_array_to_string(Args a, EvalContext& ctx) {
  if (a[0].is_null() || a[1].is_null()) return Datum::null();
  auto elems = parse_array_literal(a[0].as_string());
  std::string_view delim = a[1].as_string();
  std::optional<std::string_view> null_str;
  if (a.size() > 2 && !a[2].is_null()) null_str = a[2].as_string();
  std::string out;
  bool first = true;
  for (const auto& e : elems) {
    if (!e && !null_str) continue;
    if (!first) out += delim;
    first = false;
    out += e ? std::string_view(*e) : *null_str;
  }
  return text_result(ctx, out);
}
Datum c_string_to_array(Args a, EvalContext& ctx) {
  if (a[0].is_null()) return Datum::null();
  std::string_view s = a[0].as_string();
  std::vector<std::optional<std::string>> elems;
  if (!s.empty()) {
    if (a[1].is_null()) {
      for (char c : s) elems.emplace_back(std::string(1, c));
    } else {
      std::string_view d = a[1].as_string();
      if (d.empty()) {
        elems.emplace_back(std::string(s));
      } else {
        size_t i = 0;
        while (true) {
          size_t p = s.find(d, i);
          elems.emplace_back(std::string(s.substr(i, p == std::string_view::npos ? std::string_view::npos : p - i)));
          if (p == std::string_view::npos) break;
          i = p + d.size();
        }
      }
    }
  }
  // Materialize ignores null_string when the delimiter is empty (expr/src/scalar/func/variadic.rs
  // string_to_array: the whole string is the one element); PostgreSQL applies it.
  bool whole = !a[1].is_null() && a[1].as_string().empty();
  if (a.size() > 2 && !a[2].is_null() && !(whole && materialize_dialect()))
    for (auto& e : elems)
      if (e && *e == a[2].as_string()) e.reset();
  std::string out;
  format_array_literal(elems, out);
  return text_result(ctx, out);
}
Datum c_current_setting(Args a, EvalContext& ctx) {
  std::string_view n = a[0].as_string();
  if (n == "server_version") return text_result(ctx, "15.0");
  if (n == "server_version_num") return text_result(ctx, "150000");
  if (n == "server_encoding" || n == "client_encoding") return text_result(ctx, "UTF8");
  if (n == "TimeZone" || n == "timezone") return text_result(ctx, ctx.timezone);
  if (n == "DateStyle" || n == "datestyle") return text_result(ctx, "ISO, MDY");
  if (n == "IntervalStyle" || n == "intervalstyle") return text_result(ctx, "postgres");
  if (n == "standard_conforming_strings") return text_result(ctx, "on");
  if (n == "search_path") return text_result(ctx, "\"$user\", public");
  if (n == "max_index_keys") return text_result(ctx, "32");
  if (n == "max_identifier_length") return text_result(ctx, "63");
  if (n == "integer_datetimes") return text_result(ctx, "on");
  if (n == "transaction_isolation") return text_result(ctx, "serializable");
  throw SqlError(sqlstate::kUndefinedObject, "unrecognized configuration parameter \"" + std::string(n) + "\"");
}

}  // namespace

void register_misc_functions(Registry& r) {
  r.add("gen_random_uuid", {}, TypeId::kUuid, &u_gen_random_uuid, 3432).volatility = Volatility::kVolatile;
  r.add("uuid_generate_v5", {TypeId::kUuid, TypeId::kText}, TypeId::kUuid, &u_uuid_generate_v5);

  r.add("->", {kJsonb, kText}, kJsonb, &j_field, 3211);
  r.add("->>", {kJsonb, kText}, kText, &j_field_text, 3477);
  r.add("->", {kJsonb, kInt4T}, kJsonb, &j_elem, 3212);
  r.add("->>", {kJsonb, kInt4T}, kText, &j_elem_text, 3481);
  r.add("#>", {kJsonb, kTextArr}, kJsonb, &j_path_op, 3217);
  r.add("#>>", {kJsonb, kTextArr}, kText, &j_path_text_op, 3940);
  r.add("@>", {kJsonb, kJsonb}, kBoolT, &j_contains, 4046);
  r.add("<@", {kJsonb, kJsonb}, kBoolT, &j_contained, 4047);
  r.add("?", {kJsonb, kText}, kBoolT, &j_exists, 4047);
  r.add("||", {kJsonb, kJsonb}, kJsonb, &j_concat, 3301);
  r.add("jsonb_typeof", {kJsonb}, kText, &j_typeof, 3210);
  r.add("jsonb_array_length", {kJsonb}, kInt4T, &j_array_length, 3207);
  {
    auto& f = r.add("jsonb_extract_path", {kJsonb, kText}, kJsonb, &j_extract_path, 3217);
    f.variadic = true;
  }
  {
    auto& f = r.add("jsonb_extract_path_text", {kJsonb, kText}, kText, &j_extract_path_text, 3940);
    f.variadic = true;
  }
  r.add("to_jsonb", {kText}, kJsonb, &j_to_jsonb_text, 3787).volatility = Volatility::kStable;

  r.add("version", {}, kText, &c_version, 89).volatility = Volatility::kStable;
  r.add("mz_version", {}, kText, &c_mz_version).volatility = Volatility::kStable;
  r.add("mz_version_num", {}, kInt4T, &c_mz_version_num).volatility = Volatility::kStable;
  r.add("pg_postmaster_start_time", {}, Type(TypeId::kTimestampTz), &c_postmaster_start_time, 2560).volatility = Volatility::kStable;
  r.add("current_database", {}, kName, &c_current_database, 861).volatility = Volatility::kStable;
  for (std::string_view n : {"current_user", "session_user", "user", "current_role"})
    r.add(n, {}, kName, n == "session_user" ? &c_session_user : &c_current_user, n == "current_user" ? 745 : (n == "session_user" ? 746 : 0)).volatility =
        Volatility::kStable;
  r.add("current_schema", {}, kName, &c_current_schema, 1402).volatility = Volatility::kStable;
  r.add("current_schemas", {kBoolT}, TypeId::kTextArray, &c_current_schemas, 1403).volatility = Volatility::kStable;
  r.add("pg_backend_pid", {}, kInt4T, &c_backend_pid, 2026).volatility = Volatility::kStable;
  r.add("pg_cancel_backend", {kInt4T}, kBoolT, &c_cancel_backend, 2171).volatility = Volatility::kVolatile;
  r.add("pg_sleep", {Type(TypeId::kFloat8)}, kText, &c_pg_sleep, 2626).volatility = Volatility::kVolatile;
  r.add("mz_sleep", {Type(TypeId::kFloat8)}, Type(TypeId::kTimestampTz), &c_mz_sleep).volatility = Volatility::kVolatile;
  r.add("pg_terminate_backend", {kInt4T}, kBoolT, &c_terminate_backend, 2096).volatility = Volatility::kVolatile;
  r.add("pg_terminate_backend", {kInt4T, Type(TypeId::kInt8)}, kBoolT, &c_terminate_backend, 2096).volatility = Volatility::kVolatile;
  {
    auto& f = r.add("format_type", {kOidT, kInt4T}, kText, &c_format_type, 1081);
    f.strict = false;
    f.volatility = Volatility::kStable;
  }
  r.add("pg_encoding_to_char", {kInt4T}, kName, &c_encoding, 1597).volatility = Volatility::kStable;
  r.add("obj_description", {kOidT, kName}, kText, &c_null, 1215).volatility = Volatility::kStable;
  r.add("obj_description", {kOidT}, kText, &c_null, 1216).volatility = Volatility::kStable;
  r.add("col_description", {kOidT, kInt4T}, kText, &c_null, 1216).volatility = Volatility::kStable;
  r.add("shobj_description", {kOidT, kName}, kText, &c_null, 1993).volatility = Volatility::kStable;
  r.add("pg_get_userbyid", {kOidT}, kName, &c_userbyid, 1642).volatility = Volatility::kStable;
  r.add("pg_table_is_visible", {kOidT}, kBoolT, &c_true, 2079).volatility = Volatility::kStable;
  r.add("pg_type_is_visible", {kOidT}, kBoolT, &c_true, 2080).volatility = Volatility::kStable;
  r.add("pg_function_is_visible", {kOidT}, kBoolT, &c_true, 2081).volatility = Volatility::kStable;
  auto has = [&](std::string_view n, ScalarFn by_name, ScalarFn by_oid, ScalarFn user_name, ScalarFn user_oid) {
    r.add(n, {kText, kText}, kBoolT, by_name).volatility = Volatility::kStable;
    r.add(n, {kOidT, kText}, kBoolT, by_oid).volatility = Volatility::kStable;
    r.add(n, {kName, kText, kText}, kBoolT, user_name).volatility = Volatility::kStable;
    r.add(n, {kName, kOidT, kText}, kBoolT, user_oid).volatility = Volatility::kStable;
  };
  has("has_table_privilege", &c_has_privilege<'t', false, false>, &c_has_privilege<'t', false, true>,
      &c_has_privilege<'t', true, false>, &c_has_privilege<'t', true, true>);
  has("has_schema_privilege", &c_has_privilege<'s', false, false>, &c_has_privilege<'s', false, true>,
      &c_has_privilege<'s', true, false>, &c_has_privilege<'s', true, true>);
  has("has_database_privilege", &c_has_privilege<'d', false, false>, &c_has_privilege<'d', false, true>,
      &c_has_privilege<'d', true, false>, &c_has_privilege<'d', true, true>);
  // Column, function and sequence privileges are not modelled: true.
  for (std::string_view n : {"has_column_privilege", "has_any_column_privilege", "has_function_privilege",
                             "has_sequence_privilege"}) {
    r.add(n, {kText, kText}, kBoolT, &c_true).volatility = Volatility::kStable;
    r.add(n, {kOidT, kText}, kBoolT, &c_true).volatility = Volatility::kStable;
    r.add(n, {kName, kText, kText}, kBoolT, &c_true).volatility = Volatility::kStable;
    r.add(n, {kName, kOidT, kText}, kBoolT, &c_true).volatility = Volatility::kStable;
  }
  for (TypeId arr : {TypeId::kTextArray, TypeId::kInt2Array, TypeId::kOidArray, TypeId::kInt4Array, TypeId::kInt8Array,
                     TypeId::kNameArray, TypeId::kBoolArray, TypeId::kFloat8Array, TypeId::kNumericArray}) {
    auto& f = r.add("array_to_string", {Type(arr), kText}, kText, &c_array_to_string, 395);
    f.volatility = Volatility::kStable;
    auto& g = r.add("array_to_string", {Type(arr), kText, kText}, kText, &c_array_to_string, 384);
    g.volatility = Volatility::kStable;
    g.strict = false;
  }
  r.add("string_to_array", {kText, kText}, kTextArr, &c_string_to_array, 376).strict = false;
  r.add("string_to_array", {kText, kText, kText}, kTextArr, &c_string_to_array, 394).strict = false;
  r.add("current_setting", {kText}, kText, &c_current_setting, 2077).volatility = Volatility::kStable;
}

}  // namespace freshet::fn
