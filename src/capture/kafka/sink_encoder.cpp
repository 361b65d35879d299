#include "capture/kafka/sink_encoder.hpp"

#include "common/error.hpp"
#include "kafka/encoding.hpp"
#include "kafka/wire.hpp"

namespace freshet::capture::kafka {

using freshet::kafka::DecodeError;
using freshet::kafka::TopicColumn;

namespace {

// Takes `null` or one JSON object (strings and nesting respected) off the front of v.
std::string_view take_json_value(std::string_view& v) {
  if (v.substr(0, 4) == "null") {
    v.remove_prefix(4);
    return "null";
  }
  if (v.empty() || v[0] != '{') throw DecodeError("expected a JSON object or null in the Debezium envelope");
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if ((c == '}' || c == ']') && --depth == 0) {
      std::string_view out = v.substr(0, i + 1);
      v.remove_prefix(i + 1);
      return out;
    }
  }
  throw DecodeError("truncated JSON in the Debezium envelope");
}

}  // namespace

SinkEncoder::SinkEncoder(std::string topic, std::vector<TopicColumn> columns, std::vector<uint32_t> key, SinkFormat format,
                         SinkEnvelope envelope)
    : topic_(std::move(topic)), columns_(std::move(columns)), key_(std::move(key)), format_(format), envelope_(envelope) {
  for (auto k : key_) {
    FRESHET_ASSERT(k < columns_.size());
    key_columns_.push_back(columns_[k]);
  }
  for (const auto& c : columns_) lossy_ |= c.type.id == TypeId::kNumeric;
}

Row SinkEncoder::normalize(const Row& row) const {
  if (!lossy_) return row;
  std::string bytes;
  encode_row(row.ref(), columns_, bytes);
  return format_ == SinkFormat::kAvro ? freshet::kafka::avro_decode_row(bytes, columns_) : freshet::kafka::json_decode_row(bytes, columns_);
}

std::string SinkEncoder::key_schema() const { return freshet::kafka::avro_schema(key_columns_, topic_, "key"); }

std::string SinkEncoder::value_schema() const {
  if (envelope_ == SinkEnvelope::kUpsert) return freshet::kafka::avro_schema(columns_, topic_, "value");
  // The row record is defined in "before" and referred to by name in "after"; both share the
  // namespace that avro_schema derives from the topic.
  std::string row = freshet::kafka::avro_schema(columns_, topic_, "row");
  std::string ns;
  if (auto at = row.find("\"namespace\":"); at != std::string::npos) {
    size_t begin = at + 12;
    size_t end = row.find(",\"fields\"", begin);
    ns = row.substr(begin, end - begin);  // still quoted
  }
  return "{\"type\":\"record\",\"name\":\"envelope\",\"namespace\":" + ns + ",\"fields\":[{\"name\":\"before\",\"type\":[\"null\"," + row +
         "],\"default\":null},{\"name\":\"after\",\"type\":[\"null\",\"row\"],\"default\":null}]}";
}

Row project_row(RowRef row, const std::vector<uint32_t>& columns) {
  std::vector<Datum> ds = row.unpack();
  std::vector<Datum> k;
  k.reserve(columns.size());
  for (auto c : columns) k.push_back(ds[c]);
  return Row::pack(k);
}

void SinkEncoder::frame(int32_t id, std::string& out) const {
  if (format_ != SinkFormat::kAvro) return;
  out.push_back('\0');
  auto u = static_cast<uint32_t>(id);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

void SinkEncoder::encode_row(RowRef row, const std::vector<TopicColumn>& cols, std::string& out) const {
  if (format_ == SinkFormat::kAvro)
    freshet::kafka::avro_encode_row(row, cols, out);
  else
    freshet::kafka::json_encode_row(row, cols, out);
}

void SinkEncoder::encode(const SinkMessage& m, std::optional<std::string>& key, std::optional<std::string>& value) const {
  key.reset();
  value.reset();
  if (has_key()) {
    FRESHET_ASSERT(m.key.has_value());
    key.emplace();
    frame(key_schema_id_, *key);
    encode_row(m.key->ref(), key_columns_, *key);
  }
  if (envelope_ == SinkEnvelope::kUpsert) {
    if (!m.after) return;  // tombstone
    value.emplace();
    frame(value_schema_id_, *value);
    encode_row(m.after->ref(), columns_, *value);
    return;
  }
  value.emplace();
  std::string& v = *value;
  frame(value_schema_id_, v);
  if (format_ == SinkFormat::kAvro) {
    // Union branches: 0 = null (zigzag 0x00), 1 = row (zigzag 0x02).
    for (const auto* r : {&m.before, &m.after}) {
      if (!*r) {
        v.push_back('\0');
      } else {
        v.push_back('\2');
        freshet::kafka::avro_encode_row((*r)->ref(), columns_, v);
      }
    }
  } else {
    v += "{\"before\":";
    if (m.before) freshet::kafka::json_encode_row(m.before->ref(), columns_, v);
    else v += "null";
    v += ",\"after\":";
    if (m.after) freshet::kafka::json_encode_row(m.after->ref(), columns_, v);
    else v += "null";
    v += "}";
  }
}

std::string_view SinkEncoder::unframe(std::string_view bytes, int32_t id) const {
  if (format_ != SinkFormat::kAvro) return bytes;
  if (bytes.size() < 5 || bytes[0] != '\0') throw DecodeError("not an Avro message in the Confluent frame (magic byte 0)");
  uint32_t got = 0;
  for (int i = 1; i <= 4; ++i) got = (got << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (static_cast<int32_t>(got) != id)
    throw DecodeError("schema id " + std::to_string(got) + " is not this sink's schema " + std::to_string(id) +
                      " (is another producer writing to the topic?)");
  return bytes.substr(5);
}

SinkMessage SinkEncoder::decode(std::optional<std::string_view> key, std::optional<std::string_view> value) const {
  SinkMessage m;
  if (has_key()) {
    if (!key) throw DecodeError("a message without a key in a sink topic with a KEY");
    std::string_view k = unframe(*key, key_schema_id_);
    m.key = format_ == SinkFormat::kAvro ? freshet::kafka::avro_decode_row(k, key_columns_) : freshet::kafka::json_decode_row(k, key_columns_);
  }
  if (!value) {
    if (envelope_ != SinkEnvelope::kUpsert || !has_key()) throw DecodeError("a tombstone in a sink topic that writes none");
    return m;
  }
  std::string_view v = unframe(*value, value_schema_id_);
  if (envelope_ == SinkEnvelope::kUpsert) {
    m.after = format_ == SinkFormat::kAvro ? freshet::kafka::avro_decode_row(v, columns_) : freshet::kafka::json_decode_row(v, columns_);
    return m;
  }
  if (format_ == SinkFormat::kAvro) {
    for (auto* r : {&m.before, &m.after}) {
      if (v.empty()) throw DecodeError("truncated Debezium envelope");
      char branch = v[0];
      v.remove_prefix(1);
      if (branch == '\0') continue;
      if (branch != '\2') throw DecodeError("Avro union branch out of range in the Debezium envelope");
      size_t used = 0;
      *r = freshet::kafka::avro_decode_row_prefix(v, columns_, used);
      v.remove_prefix(used);
    }
    if (!v.empty()) throw DecodeError("trailing bytes after the Debezium envelope");
    return m;
  }
  // Parsed structurally, not through a JSON library: numbers must keep every digit.
  auto expect = [&](std::string_view lit) {
    if (v.substr(0, lit.size()) != lit) throw DecodeError("not a Debezium envelope {\"before\": ..., \"after\": ...}");
    v.remove_prefix(lit.size());
  };
  expect("{\"before\":");
  std::string_view before = take_json_value(v);
  expect(",\"after\":");
  std::string_view after = take_json_value(v);
  expect("}");
  if (!v.empty()) throw DecodeError("trailing bytes after the Debezium envelope");
  if (before != "null") m.before = freshet::kafka::json_decode_row(before, columns_);
  if (after != "null") m.after = freshet::kafka::json_decode_row(after, columns_);
  return m;
}

}  // namespace freshet::capture::kafka
