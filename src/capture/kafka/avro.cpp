#include "capture/kafka/avro.hpp"

#include <cmath>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"

namespace freshet::capture::kafka {

using nlohmann::json;

// ---- schemas ----

class SchemaParser {
 public:
  explicit SchemaParser(AvroSchema& s) : s_(s) {}

  const AvroNode* parse(const json& j, const std::string& ns, int depth) {
    if (depth > kAvroMaxDepth) throw AvroError("Avro schema nested too deeply");
    if (j.is_string()) return named_or_primitive(j.get<std::string>(), ns);
    if (j.is_array()) {
      AvroNode* u = add(AvroType::kUnion);
      for (const auto& b : j) {
        const AvroNode* n = parse(b, ns, depth + 1);
        if (n->type == AvroType::kUnion) throw AvroError("Avro unions may not contain unions");
        u->branches.push_back(n);
      }
      if (u->branches.empty()) throw AvroError("empty Avro union");
      return u;
    }
    if (!j.is_object()) throw AvroError("an Avro schema must be a string, an array or an object");
    auto t = j.find("type");
    if (t == j.end()) throw AvroError("Avro schema object without \"type\"");
    if (!t->is_string()) return parse(*t, ns, depth + 1);  // {"type": {...}} or {"type": [...]}
    std::string type = t->get<std::string>();
    if (type == "record" || type == "error" || type == "enum" || type == "fixed") {
      std::string name = str(j, "name");
      if (name.empty()) throw AvroError("Avro " + type + " without a name");
      std::string nns = ns;
      if (auto n = j.find("namespace"); n != j.end() && n->is_string()) nns = n->get<std::string>();
      std::string full = name.find('.') != std::string::npos || nns.empty() ? name : nns + "." + name;
      if (auto dot = full.rfind('.'); dot != std::string::npos) nns = full.substr(0, dot);
      if (named_.count(full)) throw AvroError("Avro type " + full + " defined twice");
      AvroNode* n = add(type == "enum" ? AvroType::kEnum : type == "fixed" ? AvroType::kFixed : AvroType::kRecord);
      n->full_name = full;
      named_[full] = n;
      annotate(j, *n);
      if (n->type == AvroType::kEnum) {
        auto sy = j.find("symbols");
        if (sy == j.end() || !sy->is_array()) throw AvroError("Avro enum " + full + " without symbols");
        for (const auto& x : *sy) {
          if (!x.is_string()) throw AvroError("Avro enum symbols must be strings");
          n->symbols.push_back(x.get<std::string>());
        }
      } else if (n->type == AvroType::kFixed) {
        auto sz = j.find("size");
        if (sz == j.end() || !sz->is_number_unsigned() || sz->get<uint64_t>() > (1u << 20)) throw AvroError("Avro fixed " + full + " needs a size");
        n->fixed_size = sz->get<size_t>();
      } else {
        auto fs = j.find("fields");
        if (fs == j.end() || !fs->is_array()) throw AvroError("Avro record " + full + " without fields");
        for (const auto& f : *fs) {
          if (!f.is_object()) throw AvroError("Avro record fields must be objects");
          AvroField field;
          field.name = str(f, "name");
          if (field.name.empty()) throw AvroError("Avro field without a name in " + full);
          auto ft = f.find("type");
          if (ft == f.end()) throw AvroError("Avro field " + field.name + " without a type");
          field.type = parse(*ft, nns, depth + 1);
          if (auto d = f.find("default"); d != f.end()) field.default_json = d->dump();
          if (auto a = f.find("aliases"); a != f.end() && a->is_array())
            for (const auto& x : *a)
              if (x.is_string()) field.aliases.push_back(x.get<std::string>());
          n->fields.push_back(std::move(field));
        }
      }
      return n;
    }
    if (type == "array" || type == "map") {
      AvroNode* n = add(type == "array" ? AvroType::kArray : AvroType::kMap);
      auto it = j.find(type == "array" ? "items" : "values");
      if (it == j.end()) throw AvroError("Avro " + type + " without its item type");
      n->items = parse(*it, ns, depth + 1);
      return n;
    }
    auto prim = primitive(type);
    if (!prim) {
      // {"type": "SomeNamedType"}
      return named_or_primitive(type, ns);
    }
    AvroNode* n = add(*prim);
    annotate(j, *n);
    return n;
  }

 private:
  static std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  static std::optional<AvroType> primitive(const std::string& t) {
    if (t == "null") return AvroType::kNull;
    if (t == "boolean") return AvroType::kBoolean;
    if (t == "int") return AvroType::kInt;
    if (t == "long") return AvroType::kLong;
    if (t == "float") return AvroType::kFloat;
    if (t == "double") return AvroType::kDouble;
    if (t == "bytes") return AvroType::kBytes;
    if (t == "string") return AvroType::kString;
    return std::nullopt;
  }
  void annotate(const json& j, AvroNode& n) {
    n.logical_type = str(j, "logicalType");
    n.connect_name = str(j, "connect.name");
    if (auto p = j.find("precision"); p != j.end() && p->is_number_integer()) n.precision = p->get<int>();
    if (auto s = j.find("scale"); s != j.end() && s->is_number_integer()) n.scale = s->get<int>();
    if (n.logical_type == "decimal") {
      if (n.precision < 1 || n.scale < 0 || n.scale > n.precision) throw AvroError("Avro decimal with an invalid precision or scale");
      if (n.type != AvroType::kBytes && n.type != AvroType::kFixed) n.logical_type.clear();  // ignored, as the spec says
    }
  }
  const AvroNode* named_or_primitive(const std::string& t, const std::string& ns) {
    if (auto p = primitive(t)) return add(*p);
    if (auto it = named_.find(t); it != named_.end()) return it->second;
    if (!ns.empty())
      if (auto it = named_.find(ns + "." + t); it != named_.end()) return it->second;
    throw AvroError("unknown Avro type \"" + t + "\"");
  }
  AvroNode* add(AvroType t) {
    s_.nodes_.push_back(std::make_unique<AvroNode>());
    s_.nodes_.back()->type = t;
    return s_.nodes_.back().get();
  }

  AvroSchema& s_;
  std::map<std::string, AvroNode*> named_;
};

std::shared_ptr<const AvroSchema> AvroSchema::parse(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw AvroError(std::string("the Avro schema is not JSON: ") + e.what());
  }
  auto s = std::make_shared<AvroSchema>();
  SchemaParser p(*s);
  s->root_ = p.parse(j, "", 0);
  s->text_ = std::string(text);
  return s;
}

// ---- the binary decoder ----

namespace {

class Input {
 public:
  explicit Input(std::string_view d) : d_(d) {}
  int64_t varlong() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) throw AvroError("Avro data ends inside a number");
      uint8_t b = static_cast<uint8_t>(d_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    }
    throw AvroError("Avro varint longer than 10 bytes");
  }
  std::string_view raw(size_t n) {
    if (n > d_.size() - pos_) throw AvroError("Avro data ends inside a value");
    std::string_view r = d_.substr(pos_, n);
    pos_ += n;
    return r;
  }
  std::string_view bytes() {
    int64_t n = varlong();
    if (n < 0) throw AvroError("negative Avro length");
    return raw(static_cast<size_t>(n) > d_.size() ? d_.size() + 1 : static_cast<size_t>(n));
  }
  bool done() const { return pos_ == d_.size(); }
  uint64_t items = 0;

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

void read_value(Input& in, const AvroNode& w, AvroValue& out, int depth) {
  if (depth > kAvroMaxDepth) throw AvroError("Avro value nested too deeply");
  const AvroNode* n = &w;
  if (n->type == AvroType::kUnion) {
    int64_t b = in.varlong();
    if (b < 0 || static_cast<uint64_t>(b) >= n->branches.size()) throw AvroError("Avro union branch " + std::to_string(b) + " out of range");
    n = n->branches[static_cast<size_t>(b)];
  }
  out.schema = n;
  switch (n->type) {
    case AvroType::kNull: return;
    case AvroType::kBoolean: {
      std::string_view b = in.raw(1);
      if (b[0] != 0 && b[0] != 1) throw AvroError("Avro boolean is neither 0 nor 1");
      out.i = b[0];
      return;
    }
    case AvroType::kInt: {
      int64_t v = in.varlong();
      if (v < INT32_MIN || v > INT32_MAX) throw AvroError("Avro int out of range");
      out.i = v;
      return;
    }
    case AvroType::kLong: out.i = in.varlong(); return;
    case AvroType::kFloat: {
      float f;
      std::memcpy(&f, in.raw(4).data(), 4);  // little-endian, as every target we build for
      out.f = f;
      return;
    }
    case AvroType::kDouble: std::memcpy(&out.f, in.raw(8).data(), 8); return;
    case AvroType::kBytes:
    case AvroType::kString: out.s = in.bytes(); return;
    case AvroType::kFixed: out.s = in.raw(n->fixed_size); return;
    case AvroType::kEnum: {
      int64_t v = in.varlong();
      if (v < 0 || static_cast<uint64_t>(v) >= n->symbols.size()) throw AvroError("Avro enum index out of range");
      out.i = v;
      return;
    }
    case AvroType::kRecord:
      out.items.resize(n->fields.size());
      for (size_t i = 0; i < n->fields.size(); ++i) read_value(in, *n->fields[i].type, out.items[i], depth + 1);
      return;
    case AvroType::kArray:
    case AvroType::kMap:
      while (true) {
        int64_t count = in.varlong();
        if (count == 0) return;
        if (count < 0) {
          if (count == INT64_MIN) throw AvroError("Avro block count out of range");
          count = -count;
          (void)in.varlong();  // the block's size in bytes
        }
        in.items += static_cast<uint64_t>(count);
        if (in.items > kAvroMaxItems) throw AvroError("too many Avro array or map items in one message");
        for (int64_t k = 0; k < count; ++k) {
          if (n->type == AvroType::kMap) out.keys.push_back(in.bytes());
          out.items.emplace_back();
          read_value(in, *n->items, out.items.back(), depth + 1);
        }
      }
    case AvroType::kUnion: break;
  }
  throw AvroError("Avro union inside a union");
}

}  // namespace

const AvroValue* AvroValue::field(std::string_view name) const {
  if (schema->type != AvroType::kRecord) return nullptr;
  for (size_t i = 0; i < schema->fields.size() && i < items.size(); ++i)
    if (schema->fields[i].name == name) return &items[i];
  return nullptr;
}

AvroValue avro_read(std::string_view data, const AvroNode& writer) {
  Input in(data);
  AvroValue v;
  read_value(in, writer, v, 0);
  if (!in.done()) throw AvroError("trailing bytes after the Avro value");
  return v;
}

// ---- columns ----

namespace {

constexpr int64_t kUnixEpochOffsetMicros = 946684800LL * 1000000;  // 2000-01-01 - 1970-01-01
constexpr int64_t kUnixEpochOffsetDays = 10957;

Type scalar_type(const AvroNode& n) {
  const std::string& lt = n.logical_type;
  switch (n.type) {
    case AvroType::kNull: return Type(TypeId::kText);
    case AvroType::kBoolean: return Type(TypeId::kBool);
    case AvroType::kInt:
      if (lt == "date") return Type(TypeId::kDate);
      if (lt == "time-millis") return Type(TypeId::kTime);
      return Type(TypeId::kInt4);
    case AvroType::kLong:
      // Materialize maps both timestamp-* and local-timestamp-* to timestamp (without time
      // zone); Freshet's own topics write timestamp and timestamptz as timestamp-micros.
      if (lt == "timestamp-micros" || lt == "timestamp-millis" || lt == "local-timestamp-micros" || lt == "local-timestamp-millis")
        return Type(TypeId::kTimestamp);
      if (lt == "time-micros") return Type(TypeId::kTime);
      return Type(TypeId::kInt8);
    case AvroType::kFloat: return Type(TypeId::kFloat4);
    case AvroType::kDouble: return Type(TypeId::kFloat8);
    case AvroType::kBytes:
    case AvroType::kFixed:
      if (lt == "decimal") {
        if (n.precision > kNumericMaxPrecision) return Type(TypeId::kNumeric);
        return Type(TypeId::kNumeric, (n.precision << 16) | n.scale);
      }
      return Type(TypeId::kBytea);
    case AvroType::kString:
      if (lt == "uuid") return Type(TypeId::kUuid);
      if (n.connect_name == "io.debezium.data.Json") return Type(TypeId::kJsonb);
      return Type(TypeId::kText);
    case AvroType::kEnum: return Type(TypeId::kText);
    default: return Type(TypeId::kJsonb);  // records, arrays, maps: their JSON
  }
}

__int128 pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

Datum decimal_datum(std::string_view b, int scale, const AvroColumn& col) {
  if (b.size() > 16) throw AvroError("Avro decimal longer than 16 bytes in column " + col.name);
  unsigned __int128 u = (!b.empty() && (static_cast<unsigned char>(b[0]) & 0x80)) ? ~static_cast<unsigned __int128>(0) : 0;
  for (char c : b) u = (u << 8) | static_cast<unsigned char>(c);
  __int128 m = static_cast<__int128>(u);
  const __int128 limit = pow10(kNumericMaxPrecision);
  if (m >= limit || m <= -limit || scale > kNumericMaxPrecision) throw AvroError("Avro decimal exceeds 38 digits in column " + col.name);
  Numeric n{m, static_cast<int16_t>(scale)};
  // The reader's scale, when it differs (Avro itself would refuse the schema pair).
  if (col.type.typmod >= 0) {
    int want = col.type.typmod & 0xffff;
    if (want < n.scale) {
      n = numeric_round(n, want);
    } else {
      for (int s = n.scale; s < want; ++s) {
        if (n.mantissa >= limit / 10 || n.mantissa <= -limit / 10) throw AvroError("Avro decimal exceeds 38 digits in column " + col.name);
        n.mantissa *= 10;
        ++n.scale;
      }
    }
  }
  return Datum::from_numeric(n);
}

[[noreturn]] void mismatch(const AvroValue& v, const AvroColumn& col) {
  static const char* kNames[] = {"null", "boolean", "int", "long", "float", "double", "bytes", "string", "record", "enum", "array", "map", "union", "fixed"};
  throw AvroError("the writer's " + std::string(kNames[static_cast<int>(v.schema->type)]) + " does not resolve to column " + col.name +
                  " of type " + type_name(col.type));
}

Datum parse_text(std::string_view text, Type t, Arena& arena, const AvroColumn& col) {
  try {
    return parse_datum(text, t, arena);
  } catch (const SqlError& e) {
    throw AvroError("column " + col.name + ": " + e.message());
  }
}

Datum json_datum(std::string_view text, Arena& arena, const AvroColumn& col) {
  return parse_text(text, Type(TypeId::kJsonb), arena, col);
}

}  // namespace

Type avro_column_type(const AvroNode& n, bool& nullable) {
  nullable = false;
  if (n.type == AvroType::kNull) {
    nullable = true;
    return Type(TypeId::kText);
  }
  if (n.type != AvroType::kUnion) return scalar_type(n);
  const AvroNode* only = nullptr;
  size_t non_null = 0;
  for (const AvroNode* b : n.branches) {
    if (b->type == AvroType::kNull) {
      nullable = true;
    } else {
      only = b;
      ++non_null;
    }
  }
  if (non_null == 1) return scalar_type(*only);
  return non_null == 0 ? Type(TypeId::kText) : Type(TypeId::kJsonb);
}

std::vector<AvroColumn> avro_columns(const AvroNode& record) {
  if (record.type != AvroType::kRecord) throw AvroError("the Avro schema is not a record");
  std::vector<AvroColumn> out;
  for (const AvroField& f : record.fields) {
    AvroColumn c;
    c.name = f.name;
    c.type = avro_column_type(*f.type, c.nullable);
    c.node = f.type;
    if (f.type->type == AvroType::kUnion) {
      size_t non_null = 0;
      for (const AvroNode* b : f.type->branches)
        if (b->type != AvroType::kNull) {
          c.node = b;
          ++non_null;
        }
      if (non_null != 1) c.node = f.type;
    }
    c.aliases = f.aliases;
    c.default_json = f.default_json;
    out.push_back(std::move(c));
  }
  return out;
}

void avro_to_json(const AvroValue& v, std::string& out) {
  switch (v.schema->type) {
    case AvroType::kNull: out += "null"; return;
    case AvroType::kBoolean: out += v.i ? "true" : "false"; return;
    case AvroType::kInt:
    case AvroType::kLong: out += std::to_string(v.i); return;
    case AvroType::kFloat:
    case AvroType::kDouble:
      if (std::isfinite(v.f)) {
        out += format_datum(Datum::from_float(v.f), Type(TypeId::kFloat8));
      } else {
        json_quote(format_datum(Datum::from_float(v.f), Type(TypeId::kFloat8)), out);
      }
      return;
    case AvroType::kBytes:
    case AvroType::kFixed:
    case AvroType::kString: json_quote(v.s, out); return;
    case AvroType::kEnum: json_quote(v.schema->symbols[static_cast<size_t>(v.i)], out); return;
    case AvroType::kRecord:
      out.push_back('{');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        json_quote(v.schema->fields[i].name, out);
        out.push_back(':');
        avro_to_json(v.items[i], out);
      }
      out.push_back('}');
      return;
    case AvroType::kArray:
      out.push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        avro_to_json(v.items[i], out);
      }
      out.push_back(']');
      return;
    case AvroType::kMap:
      out.push_back('{');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        json_quote(v.keys[i], out);
        out.push_back(':');
        avro_to_json(v.items[i], out);
      }
      out.push_back('}');
      return;
    case AvroType::kUnion: break;
  }
  out += "null";
}

Datum avro_to_datum(const AvroValue& v, const AvroColumn& col, Arena& arena) {
  const AvroNode& w = *v.schema;
  if (w.type == AvroType::kNull) {
    if (!col.nullable) throw AvroError("null for the non-nullable column " + col.name);
    return Datum::null();
  }
  const std::string& lt = w.logical_type;
  switch (col.type.id) {
    case TypeId::kBool:
      if (w.type != AvroType::kBoolean) mismatch(v, col);
      return Datum::from_bool(v.i != 0);
    case TypeId::kInt4:
    case TypeId::kInt8:
      if (w.type != AvroType::kInt && (w.type != AvroType::kLong || col.type.id != TypeId::kInt8)) mismatch(v, col);
      return Datum::from_int(v.i);
    case TypeId::kFloat4:
    case TypeId::kFloat8:
      if (w.type == AvroType::kInt || w.type == AvroType::kLong) return Datum::from_float(static_cast<double>(v.i));
      if (w.type == AvroType::kFloat || (w.type == AvroType::kDouble && col.type.id == TypeId::kFloat8)) return Datum::from_float(v.f);
      mismatch(v, col);
    case TypeId::kNumeric:
      if ((w.type == AvroType::kBytes || w.type == AvroType::kFixed) && lt == "decimal") return decimal_datum(v.s, w.scale, col);
      mismatch(v, col);
    case TypeId::kText:
      if (w.type == AvroType::kString || w.type == AvroType::kBytes) return Datum::from_string(arena.copy(v.s));
      if (w.type == AvroType::kEnum) return Datum::from_string(arena.copy(w.symbols[static_cast<size_t>(v.i)]));
      mismatch(v, col);
    case TypeId::kBytea:
      if (w.type == AvroType::kBytes || w.type == AvroType::kFixed || w.type == AvroType::kString) return Datum::from_string(arena.copy(v.s));
      mismatch(v, col);
    case TypeId::kUuid:
      if (w.type != AvroType::kString) mismatch(v, col);
      return parse_text(v.s, col.type, arena, col);
    case TypeId::kDate:
      if (w.type != AvroType::kInt || lt != "date") mismatch(v, col);
      return Datum::from_date(static_cast<int32_t>(v.i - kUnixEpochOffsetDays));
    case TypeId::kTime: {
      int64_t us;
      if (w.type == AvroType::kInt && lt == "time-millis") us = v.i * 1000;
      else if (w.type == AvroType::kLong && lt == "time-micros") us = v.i;
      else mismatch(v, col);
      if (us < 0 || us > kMicrosPerDay) throw AvroError("Avro time out of range in column " + col.name);
      return Datum::from_time(us);
    }
    case TypeId::kTimestamp: {
      if (w.type != AvroType::kLong) mismatch(v, col);
      int64_t us;
      if (lt == "timestamp-micros" || lt == "local-timestamp-micros") {
        us = v.i;
      } else if (lt == "timestamp-millis" || lt == "local-timestamp-millis") {
        if (v.i > INT64_MAX / 1000 || v.i < INT64_MIN / 1000) throw AvroError("Avro timestamp out of range in column " + col.name);
        us = v.i * 1000;
      } else {
        mismatch(v, col);
      }
      if (us < INT64_MIN + kUnixEpochOffsetMicros) throw AvroError("Avro timestamp out of range in column " + col.name);
      return Datum::from_timestamp(us - kUnixEpochOffsetMicros);
    }
    case TypeId::kJsonb: {
      if (w.type == AvroType::kString && col.node && col.node->type == AvroType::kString) return json_datum(v.s, arena, col);
      std::string text;
      avro_to_json(v, text);
      return json_datum(text, arena, col);
    }
    default: break;
  }
  mismatch(v, col);
}

namespace {

Datum default_datum(const AvroColumn& col, Arena& arena) {
  json d;
  try {
    d = json::parse(*col.default_json);
  } catch (const json::exception&) {
    throw AvroError("the default of column " + col.name + " is not JSON");
  }
  if (d.is_null()) {
    if (!col.nullable) throw AvroError("null default for the non-nullable column " + col.name);
    return Datum::null();
  }
  try {
    switch (col.type.id) {
      case TypeId::kBool:
        if (!d.is_boolean()) break;
        return Datum::from_bool(d.get<bool>());
      case TypeId::kInt4:
      case TypeId::kInt8:
      case TypeId::kDate:
        if (!d.is_number_integer()) break;
        if (col.type.id == TypeId::kDate) return Datum::from_date(static_cast<int32_t>(d.get<int64_t>() - kUnixEpochOffsetDays));
        return Datum::from_int(d.get<int64_t>());
      case TypeId::kTimestamp: {
        if (!d.is_number_integer()) break;
        int64_t v = d.get<int64_t>();
        if (col.node && col.node->logical_type.find("millis") != std::string::npos) v *= 1000;
        return Datum::from_timestamp(v - kUnixEpochOffsetMicros);
      }
      case TypeId::kFloat4:
      case TypeId::kFloat8:
        if (!d.is_number()) break;
        return Datum::from_float(d.get<double>());
      case TypeId::kText:
      case TypeId::kBytea:
      case TypeId::kUuid:
        if (!d.is_string()) break;
        if (col.type.id == TypeId::kUuid) return parse_text(d.get<std::string>(), col.type, arena, col);
        return Datum::from_string(arena.copy(d.get<std::string>()));
      case TypeId::kJsonb: return json_datum(d.dump(), arena, col);
      default: break;
    }
  } catch (const json::exception&) {
  }
  throw AvroError("the default of column " + col.name + " does not fit its type");
}

}  // namespace

void avro_record_to_datums(const AvroValue& record, const std::vector<AvroColumn>& cols, std::vector<Datum>& out, Arena& arena) {
  if (record.schema->type != AvroType::kRecord) throw AvroError("the writer's value is not a record");
  const AvroNode& w = *record.schema;
  for (const AvroColumn& c : cols) {
    const AvroValue* found = nullptr;
    for (size_t i = 0; i < w.fields.size() && !found; ++i) {
      if (w.fields[i].name == c.name) found = &record.items[i];
      for (const auto& a : c.aliases)
        if (!found && w.fields[i].name == a) found = &record.items[i];
    }
    if (found) {
      out.push_back(avro_to_datum(*found, c, arena));
    } else if (c.default_json) {
      out.push_back(default_datum(c, arena));
    } else if (c.nullable) {
      out.push_back(Datum::null());
    } else {
      throw AvroError("the writer's schema lacks field " + c.name + ", which has no default");
    }
  }
}

}  // namespace freshet::capture::kafka
