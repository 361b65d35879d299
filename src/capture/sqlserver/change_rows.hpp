#pragma once
// The pure half of the SQL Server connector (README.md): LSNs and positions, the SQL Server →
// Freshet type mapping, and the decoding of the rows of cdc.fn_cdc_get_all_changes_<instance>
// into Transactions. No I/O and no FreeTDS: the client (tds_client.hpp) hands every value over
// as text (or NULL), so this file is unit-tested and fuzzed on plain strings.
//
// Threads: none of its own; a ChangeAssembler is owned by one thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/source.hpp"
#include "common/arena.hpp"
#include "common/error.hpp"

namespace freshet::capture::sqlserver {

// A SQL Server log sequence number: binary(10), compared bytewise (big-endian), printed as 20
// upper-case hex digits (what SQL Server shows as 0x...).
struct Lsn {
  std::array<uint8_t, 10> bytes{};
  static Lsn zero() { return Lsn(); }
  // From 20 hex digits (an optional 0x prefix) or from the bytea text "\x" + 20 hex digits.
  static Result<Lsn> parse(std::string_view text);
  std::string hex() const;          // 20 hex digits
  std::string literal() const { return "0x" + hex(); }  // a T-SQL binary literal
  bool is_zero() const;
  // The next LSN (sys.fn_cdc_increment_lsn): the 80-bit value plus one.
  Lsn increment() const;
  static Lsn max() {
    Lsn l;
    l.bytes.fill(0xFF);
    return l;
  }
  friend auto operator<=>(const Lsn&, const Lsn&) = default;
};

// The stored position of a SQL Server source: the commit LSN (__$start_lsn) of the last
// applied transaction and the __$seqval of its last change, "LSN:SEQVAL" in hex, so that
// string order is position order. A snapshot in progress is "LSN:-snapshot" (sorts before
// "LSN:FFFF..." of the completed snapshot; see README.md).
struct Position {
  Lsn commit_lsn;
  Lsn seqval;
  bool snapshot_in_progress = false;
  static Result<Position> parse(std::string_view text);
  std::string to_string() const;
};

// One column of a captured table as sys.columns / sys.types describe it.
struct RawColumn {
  std::string name;
  std::string type_name;  // sys.types.name of the system type: "int", "nvarchar", ...
  int max_length = 0;     // sys.columns.max_length: bytes, -1 for (max)
  int precision = 0;
  int scale = 0;
  bool nullable = true;
};

// The Freshet type of a SQL Server column (README.md, "Type mapping"); an error naming the
// table and column for a type Freshet does not take (xml, geography, sql_variant, ...).
Result<Type> map_type(const RawColumn& c, std::string_view table_label);

// A captured table as the decoder needs it.
struct CapturedTable {
  TableSchema schema;               // upstream schema/name, Freshet name, columns, key
  std::string capture_instance;     // cdc.change_tables.capture_instance
};

// The values of one row of a change-table query, as text (nullopt = NULL), in the order the
// connector selects them: __$start_lsn, __$seqval, __$operation, commit time (ms since the
// Unix epoch, or NULL), then the table's columns.
using TextRow = std::vector<std::optional<std::string>>;
inline constexpr size_t kChangeMetaColumns = 4;

// One decoded change row.
struct ChangeRow {
  Lsn start_lsn;
  Lsn seqval;
  int operation = 0;  // 1 delete, 2 insert, 3 update (before image), 4 update (after image)
  uint64_t commit_time_ms = 0;
  uint32_t table = 0;
  Row key;
  Row value;
};

// Decodes a table row (snapshot) or the columns of a change row into value and key.
Status decode_values(const CapturedTable& t, const TextRow& row, size_t first, Arena& arena, Row& value, Row& key);

// Decodes one change row of table `table`. Errors name the table and column.
Result<ChangeRow> decode_change_row(const CapturedTable& t, uint32_t table, const TextRow& row, Arena& arena);

// Turns change rows, in (__$start_lsn, __$seqval, __$operation) order across all tables, into
// one Transaction per __$start_lsn. Rows at or before the resume position are dropped
// (exactly once). Operations: 1 delete by key; 2 upsert; 3 remembered; 4 upsert, preceded by a
// delete of the old key when 3 carried another key.
class ChangeAssembler {
 public:
  explicit ChangeAssembler(Position after) : after_(after) {}
  // Adds one change row. Returns an error when the order is broken (a row before the previous
  // one), an operation is not 1-4, or an update's after image comes without its before image.
  Status add(ChangeRow row);
  // Ends the input: the poll read every row up to its @to LSN, so the last __$start_lsn is
  // complete too. An error when an update's before image is still waiting for its after image.
  Status finish();
  // The transactions completed so far (every __$start_lsn before the last one added; all of
  // them after finish()).
  std::vector<Transaction> take();
  const Position& last() const { return after_; }

 private:
  void close_current();
  Position after_;           // the position of the last transaction handed out or skipped
  std::optional<Lsn> current_lsn_;
  Lsn current_seqval_;
  Transaction current_;
  std::optional<ChangeRow> before_;  // an update's before image waiting for its after image
  std::vector<Transaction> done_;
  bool have_prev_ = false;
  Lsn prev_lsn_, prev_seq_;
  int prev_op_ = 0;
};

}  // namespace freshet::capture::sqlserver
