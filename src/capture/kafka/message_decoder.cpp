#include "capture/kafka/message_decoder.hpp"

#include <set>

#include "common/format.hpp"
#include "common/row.hpp"

namespace freshet::capture::kafka {
namespace {

constexpr int64_t kUnixEpochOffsetMicros = 946684800LL * 1000000;

AvroColumn simple_column(std::string name, Type t, bool nullable) {
  AvroColumn c;
  c.name = std::move(name);
  c.type = t;
  c.nullable = nullable;
  return c;
}

// The columns of a reader type: a record's fields, or one column named `single`.
std::vector<AvroColumn> columns_of(const AvroNode& n, const std::string& single, bool& is_record) {
  is_record = n.type == AvroType::kRecord;
  if (is_record) return avro_columns(n);
  AvroColumn c;
  c.name = single;
  c.type = avro_column_type(n, c.nullable);
  c.node = &n;
  if (n.type == AvroType::kUnion) {
    size_t non_null = 0;
    for (const AvroNode* b : n.branches)
      if (b->type != AvroType::kNull) {
        c.node = b;
        ++non_null;
      }
    if (non_null != 1) c.node = &n;
  }
  return {c};
}

// The record inside a [null, record] union (Debezium's "before"/"after").
const AvroNode* record_of(const AvroNode* n) {
  if (n->type == AvroType::kRecord) return n;
  if (n->type == AvroType::kUnion)
    for (const AvroNode* b : n->branches)
      if (b->type == AvroType::kRecord) return b;
  return nullptr;
}

}  // namespace

MessageDecoder::MessageDecoder(DecoderConfig config, std::optional<std::string> key_schema, std::optional<std::string> value_schema,
                               SchemaLookup lookup)
    : c_(std::move(config)), lookup_(std::move(lookup)) {
  const bool avro = c_.format == KafkaFormat::kAvro;
  const bool wants_key = c_.envelope != KafkaEnvelope::kNone || c_.include_key;
  if (c_.envelope == KafkaEnvelope::kDebezium && !avro) throw AvroError("ENVELOPE DEBEZIUM needs FORMAT AVRO");
  // The value's columns.
  if (avro) {
    if (!value_schema) throw AvroError("the schema registry has no schema for subject " + c_.topic + "-value");
    value_reader_ = AvroSchema::parse(*value_schema);
    if (c_.envelope == KafkaEnvelope::kDebezium) {
      const AvroNode& root = value_reader_->root();
      const AvroNode* after = nullptr;
      if (root.type == AvroType::kRecord)
        for (const auto& f : root.fields)
          if (f.name == "after") after = record_of(f.type);
      if (!after) throw AvroError("the value schema of " + c_.topic + " is not a Debezium envelope (a record with an \"after\" record)");
      value_cols_ = avro_columns(*after);
      value_is_record_ = true;
    } else {
      value_cols_ = columns_of(value_reader_->root(), "value", value_is_record_);
    }
  } else if (c_.format == KafkaFormat::kJson) {
    value_cols_ = {simple_column("data", Type(TypeId::kJsonb), false)};
  } else if (c_.format == KafkaFormat::kText) {
    value_cols_ = {simple_column("text", Type(TypeId::kText), false)};
  } else {
    value_cols_ = {simple_column("data", Type(TypeId::kBytea), false)};
  }
  // The key's columns.
  if (wants_key) {
    if (avro) {
      if (!key_schema) {
        throw AvroError("the schema registry has no schema for subject " + c_.topic + "-key, which " +
                        (c_.envelope == KafkaEnvelope::kNone ? std::string("INCLUDE KEY") : std::string("the envelope")) + " needs");
      }
      key_reader_ = AvroSchema::parse(*key_schema);
      key_cols_ = columns_of(key_reader_->root(), "key", key_is_record_);
    } else {
      Type t = c_.format == KafkaFormat::kJson ? Type(TypeId::kJsonb) : c_.format == KafkaFormat::kText ? Type(TypeId::kText) : Type(TypeId::kBytea);
      key_cols_ = {simple_column("key", t, false)};
    }
    for (auto& k : key_cols_) k.nullable = false;
  }
  for (const auto& k : key_cols_) {
    int at = -1;
    for (size_t v = 0; v < value_cols_.size(); ++v)
      if (value_cols_[v].name == k.name) at = static_cast<int>(v);
    key_in_value_.push_back(at);
  }
  if (c_.envelope == KafkaEnvelope::kDebezium)
    for (size_t k = 0; k < key_cols_.size(); ++k)
      if (key_in_value_[k] < 0) throw AvroError("the Debezium key field " + key_cols_[k].name + " is not a field of \"after\"");
  for (size_t k = 0; k < key_cols_.size(); ++k)
    if (key_in_value_[k] < 0) prepended_.push_back(k);

  table_.upstream_schema = c_.topic;
  table_.upstream_name = c_.topic;
  table_.name = c_.table_name;
  for (size_t k : prepended_) table_.columns.push_back({key_cols_[k].name, key_cols_[k].type, false});
  for (const auto& v : value_cols_) table_.columns.push_back({v.name, v.type, v.nullable || c_.envelope == KafkaEnvelope::kDebezium});
  const bool need_position = c_.envelope == KafkaEnvelope::kNone;
  if (c_.include_partition || need_position) table_.columns.push_back({"partition", Type(TypeId::kInt4), false});
  if (c_.include_offset || need_position) table_.columns.push_back({"offset", Type(TypeId::kInt8), false});
  if (c_.include_timestamp) table_.columns.push_back({"timestamp", Type(TypeId::kTimestamp), false});
  std::set<std::string> names;
  for (const auto& col : table_.columns)
    if (!names.insert(col.name).second) throw AvroError("the source would have two columns named " + col.name);
  if (need_position) {
    for (uint32_t i = 0; i < table_.columns.size(); ++i)
      if (table_.columns[i].name == "partition" || table_.columns[i].name == "offset") table_.key.push_back(i);
  } else {
    for (size_t k = 0; k < key_cols_.size(); ++k) {
      uint32_t idx;
      if (key_in_value_[k] >= 0) {
        idx = static_cast<uint32_t>(prepended_.size() + static_cast<size_t>(key_in_value_[k]));
      } else {
        idx = static_cast<uint32_t>(std::find(prepended_.begin(), prepended_.end(), k) - prepended_.begin());
      }
      table_.key.push_back(idx);
      table_.columns[idx].nullable = false;
    }
  }
  if (table_.key.empty()) throw AvroError("the key schema of " + c_.topic + " has no fields");
}

const AvroSchema& MessageDecoder::writer(int32_t id) {
  if (auto it = writers_.find(id); it != writers_.end()) return *it->second;
  Result<std::string> text = lookup_(id);
  if (!text) throw AvroError("cannot get the writer's schema " + std::to_string(id) + ": " + text.status().message());
  auto s = AvroSchema::parse(*text);
  if (writers_.size() > 1000) writers_.clear();  // a bound; schemas are fetched again if needed
  auto [it, ok] = writers_.emplace(id, std::move(s));
  return *it->second;
}

AvroValue MessageDecoder::read_avro(std::string_view framed) {
  if (framed.size() < 5 || framed[0] != 0) throw AvroError("not an Avro message in the Confluent frame (magic byte 0)");
  uint32_t id = (static_cast<uint32_t>(static_cast<uint8_t>(framed[1])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(framed[2])) << 16) |
                (static_cast<uint32_t>(static_cast<uint8_t>(framed[3])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(framed[4]));
  const AvroSchema& w = writer(static_cast<int32_t>(id));
  return avro_read(framed.substr(5), w.root());
}

Datum MessageDecoder::raw_datum(std::string_view payload, const AvroColumn& col, Arena& arena) {
  switch (col.type.id) {
    case TypeId::kJsonb:
      try {
        return parse_datum(payload, col.type, arena);
      } catch (const SqlError& e) {
        throw AvroError(e.message());
      }
    case TypeId::kText:
      try {
        return parse_datum(payload, col.type, arena);  // checks the text is valid UTF-8
      } catch (const SqlError& e) {
        throw AvroError(e.message());
      }
    default: return Datum::from_string(arena.copy(payload));
  }
}

void MessageDecoder::value_datums(std::string_view payload, std::vector<Datum>& out, Arena& arena) {
  if (c_.format != KafkaFormat::kAvro) {
    out.push_back(raw_datum(payload, value_cols_[0], arena));
    return;
  }
  AvroValue v = read_avro(payload);
  if (value_is_record_) {
    avro_record_to_datums(v, value_cols_, out, arena);
  } else {
    out.push_back(avro_to_datum(v, value_cols_[0], arena));
  }
}

void MessageDecoder::key_datums(std::string_view key, std::vector<Datum>& out, Arena& arena) {
  if (c_.format != KafkaFormat::kAvro) {
    out.push_back(raw_datum(key, key_cols_[0], arena));
    return;
  }
  AvroValue v = read_avro(key);
  if (key_is_record_) {
    avro_record_to_datums(v, key_cols_, out, arena);
  } else {
    out.push_back(avro_to_datum(v, key_cols_[0], arena));
  }
}

std::optional<Change> MessageDecoder::decode(const KafkaMessage& m) {
  Arena arena;
  std::vector<Datum> key;  // key_cols_ order
  if (!key_cols_.empty() && (c_.envelope == KafkaEnvelope::kUpsert || c_.include_key || (m.key && c_.envelope == KafkaEnvelope::kDebezium))) {
    if (!m.key) {
      if (c_.envelope == KafkaEnvelope::kUpsert) throw AvroError("a message without a key (ENVELOPE UPSERT needs one)");
    } else {
      key_datums(*m.key, key, arena);
      for (size_t k = 0; k < key.size(); ++k)
        if (key[k].is_null()) throw AvroError("the key's " + key_cols_[k].name + " is null");
    }
  }
  std::vector<Datum> value;  // value_cols_ order
  bool deleted = false;
  if (c_.envelope == KafkaEnvelope::kDebezium) {
    if (!m.value) return std::nullopt;  // the tombstone after a delete
    AvroValue env = read_avro(*m.value);
    if (env.schema->type != AvroType::kRecord) throw AvroError("the Debezium envelope is not a record");
    const AvroValue* after = env.field("after");
    const AvroValue* before = env.field("before");
    if (after && !after->is_null()) {
      avro_record_to_datums(*after, value_cols_, value, arena);
    } else {
      deleted = true;
      if (key.empty()) {
        if (!before || before->is_null()) throw AvroError("a Debezium delete without a key or \"before\"");
        std::vector<Datum> b;
        avro_record_to_datums(*before, value_cols_, b, arena);
        for (size_t k = 0; k < key_cols_.size(); ++k) key.push_back(b[static_cast<size_t>(key_in_value_[k])]);
      }
    }
  } else if (!m.value) {
    if (c_.envelope == KafkaEnvelope::kNone) return std::nullopt;
    deleted = true;
  } else {
    value_datums(*m.value, value, arena);
  }
  Change ch;
  if (deleted) {
    ch.op = Change::Op::kDelete;
    if (key.empty()) throw AvroError("a delete without a key");
    std::vector<Datum> kd;
    for (size_t k = 0; k < key_cols_.size(); ++k) kd.push_back(key[k]);
    ch.key = Row::pack(kd);
    return ch;
  }
  std::vector<Datum> row;
  for (size_t k : prepended_) {
    if (key.empty()) throw AvroError("a message without a key");
    row.push_back(key[k]);
  }
  row.insert(row.end(), value.begin(), value.end());
  const bool need_position = c_.envelope == KafkaEnvelope::kNone;
  if (c_.include_partition || need_position) row.push_back(Datum::from_int(m.partition));
  if (c_.include_offset || need_position) row.push_back(Datum::from_int(m.offset));
  if (c_.include_timestamp) row.push_back(Datum::from_timestamp(m.timestamp_ms * 1000 - kUnixEpochOffsetMicros));
  std::vector<Datum> kd;
  for (uint32_t i : table_.key) {
    if (row[i].is_null()) throw AvroError("key column " + table_.columns[i].name + " is null");
    kd.push_back(row[i]);
  }
  ch.op = Change::Op::kUpsert;
  ch.key = Row::pack(kd);
  ch.value = Row::pack(row);
  return ch;
}

std::string encode_position(const std::map<int32_t, int64_t>& next_offsets) {
  std::string out;
  for (const auto& [p, o] : next_offsets) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(p) + ":" + std::to_string(o);
  }
  return out;
}

std::map<int32_t, int64_t> decode_position(std::string_view position) {
  std::map<int32_t, int64_t> out;
  size_t pos = 0;
  while (pos < position.size()) {
    size_t comma = position.find(',', pos);
    if (comma == std::string_view::npos) comma = position.size();
    std::string part(position.substr(pos, comma - pos));
    size_t colon = part.find(':');
    if (colon == std::string::npos) throw AvroError("malformed Kafka source position \"" + std::string(position) + "\"");
    try {
      out[std::stoi(part.substr(0, colon))] = std::stoll(part.substr(colon + 1));
    } catch (...) {
      throw AvroError("malformed Kafka source position \"" + std::string(position) + "\"");
    }
    pos = comma + 1;
  }
  return out;
}

}  // namespace freshet::capture::kafka
