#pragma once
// Decoding of PostgreSQL's logical replication stream: the CopyData frames of a walsender
// in copy-both mode (XLogData 'w', primary keepalive 'k') and the pgoutput plugin's messages
// inside XLogData (protocol version 1: Begin, Commit, Origin, Relation, Type, Insert, Update,
// Delete, Truncate, logical Message). Spec:
// https://www.postgresql.org/docs/15/protocol-replication.html and
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
//
// Pure functions over buffers, no I/O: unit-tested (pgoutput_test.cpp) and fuzzed
// (fuzz_pgoutput.cpp). Decoded messages borrow the input bytes (string_views into it).
// A malformed message throws SqlError 08P01 (protocol violation) with a message that says
// what was wrong; no input triggers an assertion. Thread-compatible (no shared state).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace freshet::capture::postgres {

// A WAL position (pg_lsn).
using Lsn = uint64_t;

// "XXXXXXXX/XXXXXXXX": PostgreSQL's pg_lsn text with both halves zero-padded to 8 hex
// digits, so that byte order of the strings is LSN order. PostgreSQL accepts it as input.
std::string format_lsn(Lsn lsn);
// Accepts PostgreSQL's form ("16/B374D848") and the padded one. nullopt when malformed.
std::optional<Lsn> parse_lsn(std::string_view text);

// ---- walsender frames (the CopyData payloads of START_REPLICATION) ----

struct XLogData {
  Lsn wal_start = 0;
  Lsn wal_end = 0;
  int64_t send_time_us = 0;  // µs since 2000-01-01 UTC
  std::string_view payload;  // one pgoutput message
};

struct Keepalive {
  Lsn wal_end = 0;
  int64_t send_time_us = 0;
  bool reply_requested = false;
};

using StreamMessage = std::variant<XLogData, Keepalive>;
StreamMessage decode_stream_message(std::string_view copy_data);

// The standby status update ('r') a client sends back: the positions it has written,
// flushed and applied, and its clock (µs since 2000-01-01 UTC).
std::string encode_standby_status(Lsn write, Lsn flush, Lsn apply, int64_t now_us, bool reply_requested);

// ---- pgoutput messages ----

struct TupleValue {
  enum class Kind : uint8_t { kNull, kUnchangedToast, kText, kBinary };
  Kind kind = Kind::kNull;
  std::string_view data;  // kText / kBinary
};
using TupleData = std::vector<TupleValue>;

struct BeginMsg {
  Lsn final_lsn = 0;  // LSN of the commit record
  int64_t commit_time_us = 0;
  uint32_t xid = 0;
};

struct CommitMsg {
  uint8_t flags = 0;
  Lsn commit_lsn = 0;  // LSN of the commit record
  Lsn end_lsn = 0;     // LSN just past the commit record: the transaction's position
  int64_t commit_time_us = 0;
};

struct OriginMsg {
  Lsn commit_lsn = 0;
  std::string_view name;
};

struct RelationColumn {
  bool key = false;  // part of the replica identity (every column under REPLICA IDENTITY FULL)
  std::string_view name;
  uint32_t type_oid = 0;
  int32_t typmod = -1;
};

struct RelationMsg {
  uint32_t relid = 0;
  std::string_view nspname;
  std::string_view relname;
  char replica_identity = 'd';  // d(efault), n(othing), f(ull), i(ndex)
  std::vector<RelationColumn> columns;
};

struct TypeMsg {
  uint32_t type_oid = 0;
  std::string_view nspname;
  std::string_view name;
};

struct InsertMsg {
  uint32_t relid = 0;
  TupleData new_tuple;
};

struct UpdateMsg {
  uint32_t relid = 0;
  char old_kind = 0;  // 0: no old tuple; 'K': old key columns; 'O': whole old row
  TupleData old_tuple;
  TupleData new_tuple;
};

struct DeleteMsg {
  uint32_t relid = 0;
  char old_kind = 'K';  // 'K' or 'O'
  TupleData old_tuple;
};

struct TruncateMsg {
  uint8_t options = 0;  // 1: CASCADE, 2: RESTART IDENTITY
  std::vector<uint32_t> relids;
};

struct LogicalMsg {
  uint8_t flags = 0;  // 1: transactional
  Lsn lsn = 0;
  std::string_view prefix;
  std::string_view content;
};

using PgoutputMessage = std::variant<BeginMsg, CommitMsg, OriginMsg, RelationMsg, TypeMsg, InsertMsg,
                                     UpdateMsg, DeleteMsg, TruncateMsg, LogicalMsg>;

// Limits on what a message may claim, so that a corrupt count cannot make us allocate much.
inline constexpr uint32_t kMaxColumns = 1664;         // PostgreSQL's MaxTupleAttributeNumber
inline constexpr uint32_t kMaxTruncateRelations = 1u << 20;

PgoutputMessage decode_pgoutput(std::string_view payload);

}  // namespace freshet::capture::postgres
