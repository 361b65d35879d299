#pragma once
// The binlog event decoder: MariaDB's binary log events as the server sends them to a replica
// (COM_BINLOG_DUMP), and the row images of row events, decoded to Freshet Datums.
//
// Formats: https://mariadb.com/kb/en/replication-protocol/ (event header, FORMAT_DESCRIPTION,
// GTID, QUERY, XID, TABLE_MAP, ROWS_EVENT v1/v2) and the server's sql/log_event*.cc,
// sql/field.cc (packed DECIMAL, DATETIME2/TIME2/TIMESTAMP2). Everything here parses bytes from
// the network: any input ends in a value or an error Status, never a crash or an assertion
// (fuzz_binlog.cpp). Not thread-safe; one decoder per replication stream.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "capture/mysql/column.hpp"
#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/error.hpp"

namespace freshet::capture::mysql {

namespace event_type {
inline constexpr uint8_t kQuery = 2;
inline constexpr uint8_t kStop = 3;
inline constexpr uint8_t kRotate = 4;
inline constexpr uint8_t kFormatDescription = 15;
inline constexpr uint8_t kXid = 16;
inline constexpr uint8_t kTableMap = 19;
inline constexpr uint8_t kWriteRowsV1 = 23;
inline constexpr uint8_t kUpdateRowsV1 = 24;
inline constexpr uint8_t kDeleteRowsV1 = 25;
inline constexpr uint8_t kHeartbeat = 27;
inline constexpr uint8_t kWriteRowsV2 = 30;
inline constexpr uint8_t kUpdateRowsV2 = 31;
inline constexpr uint8_t kDeleteRowsV2 = 32;
inline constexpr uint8_t kAnnotateRows = 160;
inline constexpr uint8_t kBinlogCheckpoint = 161;
inline constexpr uint8_t kGtid = 162;
inline constexpr uint8_t kGtidList = 163;
inline constexpr uint8_t kStartEncryption = 164;
inline constexpr uint8_t kQueryCompressed = 165;
inline constexpr uint8_t kWriteRowsCompressedV1 = 166;  // .. 171: compressed row events
inline constexpr uint8_t kDeleteRowsCompressedV2 = 171;
}  // namespace event_type

// Column type codes of TABLE_MAP events (MySQL's enum_field_types).
namespace field_type {
inline constexpr uint8_t kDecimal = 0;
inline constexpr uint8_t kTiny = 1;
inline constexpr uint8_t kShort = 2;
inline constexpr uint8_t kLong = 3;
inline constexpr uint8_t kFloat = 4;
inline constexpr uint8_t kDouble = 5;
inline constexpr uint8_t kNull = 6;
inline constexpr uint8_t kTimestamp = 7;
inline constexpr uint8_t kLongLong = 8;
inline constexpr uint8_t kInt24 = 9;
inline constexpr uint8_t kDate = 10;
inline constexpr uint8_t kTime = 11;
inline constexpr uint8_t kDateTime = 12;
inline constexpr uint8_t kYear = 13;
inline constexpr uint8_t kNewDate = 14;
inline constexpr uint8_t kVarchar = 15;
inline constexpr uint8_t kBit = 16;
inline constexpr uint8_t kTimestamp2 = 17;
inline constexpr uint8_t kDateTime2 = 18;
inline constexpr uint8_t kTime2 = 19;
inline constexpr uint8_t kJson = 245;
inline constexpr uint8_t kNewDecimal = 246;
inline constexpr uint8_t kEnum = 247;
inline constexpr uint8_t kSet = 248;
inline constexpr uint8_t kTinyBlob = 249;
inline constexpr uint8_t kMediumBlob = 250;
inline constexpr uint8_t kLongBlob = 251;
inline constexpr uint8_t kBlob = 252;
inline constexpr uint8_t kVarString = 253;
inline constexpr uint8_t kString = 254;
inline constexpr uint8_t kGeometry = 255;
}  // namespace field_type

// Limits on what one event may declare (MariaDB allows 4096 columns per table).
inline constexpr uint32_t kMaxColumns = 4096;

struct Gtid {
  uint32_t domain = 0;
  uint32_t server = 0;
  uint64_t seq = 0;
  std::string to_string() const;
  friend bool operator==(const Gtid&, const Gtid&) = default;
};

// A MariaDB GTID position: the last GTID applied in each replication domain, written as
// MariaDB writes @@gtid_binlog_pos / @slave_connect_state: "0-1-42,1-2-7" (domains ascending).
class GtidPosition {
 public:
  // "" is the empty position (nothing applied). Errors on malformed text.
  static Result<GtidPosition> parse(std::string_view text);
  std::string to_string() const;
  // True when g is at or before this position in its domain (already applied).
  bool includes(const Gtid& g) const;
  void advance(const Gtid& g) { domains_[g.domain] = g; }
  bool empty() const { return domains_.empty(); }
  friend bool operator==(const GtidPosition&, const GtidPosition&) = default;

 private:
  std::map<uint32_t, Gtid> domains_;
};

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the Unix epoch (commit time for most events)
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;
  uint32_t log_pos = 0;
  uint16_t flags = 0;
  static constexpr uint16_t kArtificial = 0x20;  // LOG_EVENT_ARTIFICIAL_F
};

struct FormatDescriptionEvent {
  uint16_t binlog_version = 0;
  std::string server_version;
  uint8_t checksum_alg = 0;  // 0 off, 1 CRC32
};
struct RotateEvent {
  uint64_t position = 0;
  std::string_view file;
};
struct GtidEvent {
  Gtid gtid;
  uint8_t flags2 = 0;
  // FL_STANDALONE: a single statement (DDL) without BEGIN ... COMMIT/XID.
  bool standalone() const { return (flags2 & 1) != 0; }
};
struct QueryEvent {
  std::string_view db;
  std::string_view query;
};
struct XidEvent {
  uint64_t xid = 0;
};
struct TableMapEvent {
  uint64_t table_id = 0;
  std::string db;
  std::string table;
  std::vector<uint8_t> types;
  std::vector<uint16_t> meta;  // per column, see binlog.cpp (read_metadata)
};
struct RowsEvent {
  enum class Kind : uint8_t { kWrite, kUpdate, kDelete };
  Kind kind = Kind::kWrite;
  uint64_t table_id = 0;
  uint16_t flags = 0;
  uint32_t column_count = 0;
  std::vector<bool> present;        // columns in the (before) image
  std::vector<bool> present_after;  // update: columns in the after image
  std::string_view rows;            // the packed row images
};
struct OtherEvent {};  // an event the connector does not need (heartbeats, GTID lists, ...)

struct Event {
  EventHeader header;
  std::variant<OtherEvent, FormatDescriptionEvent, RotateEvent, GtidEvent, QueryEvent, XidEvent, TableMapEvent,
               RowsEvent>
      body;
};

// Decodes events one at a time. Stateful: the FORMAT_DESCRIPTION event sets the checksum
// algorithm and the post-header lengths that later events are read with.
class EventDecoder {
 public:
  // The checksum expected before the first FORMAT_DESCRIPTION (the replica announces
  // @master_binlog_checksum, so the server's fake ROTATE may already carry one).
  void set_checksum(bool crc32) { checksum_ = crc32; }
  bool checksum() const { return checksum_; }
  // Fuzzing only: strip checksums without verifying them, so mutated bodies reach the parsers.
  void set_verify_checksums(bool on) { verify_ = on; }
  // bytes: one event, without the packet's leading OK byte. The views in the result borrow
  // bytes. Verifies the CRC32 of the events it decodes when checksums are on.
  Result<Event> decode(std::string_view bytes);

 private:
  bool checksum_ = false;
  bool verify_ = true;
  std::vector<uint8_t> post_header_len_;  // by event type - 1; empty: defaults
};

// One row change of a rows event: write has only after, delete only before, update both.
struct RowImage {
  std::vector<Datum> before;
  std::vector<Datum> after;
};

// Checks that a TABLE_MAP agrees with the columns information_schema gave for the table
// (count, and each binlog type fits the column's kind): when it does not, the table changed
// upstream and decoding would be wrong. The error says which column.
Status check_table_map(const TableMapEvent& tm, std::span<const ColumnInfo> columns);
// Decodes the row images of a rows event whose table map passed check_table_map. Datums
// borrow ev's bytes or arena. Every column must be in each image (binlog_row_image=FULL).
Status decode_rows(const RowsEvent& ev, const TableMapEvent& tm, std::span<const ColumnInfo> columns, Arena& arena,
                   std::vector<RowImage>& out);
// One packed value of binlog type `type` with table-map metadata `meta`, consumed from the
// front of `in`. Exposed for the unit tests.
Result<Datum> decode_value(uint8_t type, uint16_t meta, const ColumnInfo& c, std::string_view& in, Arena& arena);

// CRC-32 (ISO-HDLC, as zlib's crc32) of the bytes: the binlog event checksum.
uint32_t crc32(std::string_view bytes);

}  // namespace freshet::capture::mysql
