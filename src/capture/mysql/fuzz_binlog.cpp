// Fuzz target for the binlog decoder: the input is a stream of events as a replica receives
// them (each framed by a 4-byte little-endian length here), decoded by one EventDecoder; rows
// events are decoded against the last table map with column infos derived from its types, so
// the value decoders (packed DECIMAL, DATETIME2/TIME2/TIMESTAMP2, strings, enums, sets) see
// arbitrary bytes. Any input must end in values or an error Status, never a crash, an
// assertion or a sanitizer report. README.md says how to run it under libFuzzer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "capture/mysql/binlog.hpp"

namespace {

using namespace freshet;
using namespace freshet::capture::mysql;

// A plausible column for a binlog type, so that decode_value is reached for every type.
ColumnInfo column_for(uint8_t type, uint16_t meta, size_t i) {
  ColumnInfo c;
  c.name = "c" + std::to_string(i);
  c.is_unsigned = (i % 2) == 1;
  c.charset = (i % 3) == 0 ? Charset::kLatin1 : Charset::kUtf8;
  c.labels = {"a", "b", "c"};
  c.char_max_length = meta & 0xff;
  using namespace field_type;
  switch (type) {
    case kTiny: c.kind = MyKind::kTinyInt; c.type = TypeId::kInt2; break;
    case kShort: c.kind = MyKind::kSmallInt; c.type = TypeId::kInt4; break;
    case kInt24: c.kind = MyKind::kMediumInt; c.type = TypeId::kInt4; break;
    case kLong: c.kind = MyKind::kInt; c.type = TypeId::kInt8; break;
    case kLongLong: c.kind = MyKind::kBigInt; c.type = c.is_unsigned ? TypeId::kNumeric : TypeId::kInt8; break;
    case kNewDecimal: c.kind = MyKind::kDecimal; c.precision = meta >> 8; c.scale = meta & 0xff; break;
    case kString: {
      uint8_t real = static_cast<uint8_t>((meta >> 8) | 0x30);
      c.kind = real == kEnum ? MyKind::kEnum : real == kSet ? MyKind::kSet : (i % 2 ? MyKind::kBinary : MyKind::kChar);
      break;
    }
    case kVarchar: c.kind = i % 2 ? MyKind::kVarbinary : MyKind::kVarchar; break;
    case kBlob: c.kind = i % 4 == 0 ? MyKind::kJson : i % 2 ? MyKind::kBlob : MyKind::kText; break;
    default: break;  // decode_value dispatches on the binlog type; kind matters only above
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  EventDecoder decoder;
  decoder.set_checksum(true);
  decoder.set_verify_checksums(false);
  std::optional<TableMapEvent> map;
  std::vector<ColumnInfo> columns;
  Arena arena;
  std::vector<RowImage> rows;
  for (int events = 0; in.size() >= 4 && events < 64; ++events) {
    uint32_t len = static_cast<uint32_t>(static_cast<uint8_t>(in[0])) | static_cast<uint32_t>(static_cast<uint8_t>(in[1])) << 8 |
                   static_cast<uint32_t>(static_cast<uint8_t>(in[2])) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(in[3])) << 24;
    in.remove_prefix(4);
    if (len > in.size()) len = static_cast<uint32_t>(in.size());
    std::string_view bytes = in.substr(0, len);
    in.remove_prefix(len);
    auto ev = decoder.decode(bytes);
    if (!ev) continue;
    if (auto* tm = std::get_if<TableMapEvent>(&ev->body)) {
      map = *tm;
      columns.clear();
      for (size_t i = 0; i < tm->types.size(); ++i) columns.push_back(column_for(tm->types[i], tm->meta[i], i));
      (void)check_table_map(*map, columns);
    } else if (auto* re = std::get_if<RowsEvent>(&ev->body)) {
      if (!map) continue;
      rows.clear();
      arena.reset();
      (void)decode_rows(*re, *map, columns, arena, rows);
    } else if (auto* q = std::get_if<QueryEvent>(&ev->body)) {
      (void)q;
    }
  }
  // The GTID position parser sees the same bytes as text.
  (void)GtidPosition::parse(std::string_view(reinterpret_cast<const char*>(data), size < 256 ? size : 256));
  return 0;
}
