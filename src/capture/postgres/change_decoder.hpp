#pragma once
// From pgoutput messages to Freshet Transactions: relation ids to captured tables, text
// tuple values to Rows (common/format.hpp's parse_datum), one Transaction per upstream
// transaction with the commit's end LSN as its position. No I/O: the connector
// (postgres_source.cpp) feeds it the XLogData payloads; tests and the fuzz target feed it
// hand-built messages. Owned by one thread.
//
// What it refuses (a fatal Status, never a silently wrong result): a Relation message whose
// columns differ from the captured schema, TRUNCATE of a captured table, an UPDATE whose new
// row has an unchanged TOASTed value that no old row supplies, a value that does not parse as
// its column's type, a change outside a transaction, a malformed message.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capture/postgres/pgoutput.hpp"
#include "capture/source.hpp"
#include "common/arena.hpp"
#include "common/error.hpp"

namespace freshet::capture::postgres {

// One captured upstream table: the schema handed to the sink plus what the connector checks
// Relation messages against and needs for the snapshot.
struct CapturedTable {
  TableSchema schema;
  std::vector<uint32_t> type_oids;  // pg_attribute.atttypid per column (a domain's own oid)
  std::vector<int32_t> typmods;     // pg_attribute.atttypmod per column
  uint32_t relid = 0;               // pg_class.oid at start (informational)
  char relkind = 'r';
  std::string rowfilter;            // the publication's row filter (PostgreSQL 15), or empty
  double reltuples = -1;            // pg_class.reltuples (-1: never analyzed)
};

// The Freshet type of a PostgreSQL column: base type oid (a domain's base) and atttypmod.
// Types Freshet has no equivalent for become text (their PostgreSQL text output).
Type map_pg_type(uint32_t base_type_oid, int32_t atttypmod);
// Whether map_pg_type maps the oid to a type of its own (false: it falls back to text).
bool pg_type_is_native(uint32_t base_type_oid);

// Parses one row's text values (nullopt: NULL) into the packed whole row and its key.
// A value that does not parse is an error naming the table and column.
Status decode_row(const CapturedTable& table, std::span<const std::optional<std::string_view>> values,
                  Arena& arena, Row& value, Row& key);

class ChangeDecoder {
 public:
  struct Stats {
    uint64_t transactions = 0;          // completed with changes to captured tables
    uint64_t skipped_transactions = 0;  // at or before skip_through (already durable)
    uint64_t empty_transactions = 0;    // no change to a captured table
  };

  // skip_through: transactions whose end LSN is <= it are dropped (already durable).
  // max_transaction_bytes: a bound on the encoded size of one upstream transaction.
  ChangeDecoder(std::vector<CapturedTable> tables, Lsn skip_through, size_t max_transaction_bytes);

  // Feeds one pgoutput message (an XLogData payload). Returns the Transaction completed by a
  // Commit (nullopt otherwise, or when the transaction was skipped or empty), or the fatal
  // error that must stop the source.
  Result<std::optional<Transaction>> feed(std::string_view payload);

  // A new replication session (reconnect): forgets relation ids and any open transaction.
  void reset_session(Lsn skip_through);

  // Whether a transaction has begun and not yet committed.
  bool in_transaction() const { return in_txn_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Relation {
    int table = -1;  // index into tables_, or -1: not captured
    std::string name;
  };

  Result<std::optional<Transaction>> handle(const PgoutputMessage& msg);
  Status on_relation(const RelationMsg& m);
  Result<const Relation*> relation(uint32_t relid, const char* what);
  Status row_from_tuple(int table, const TupleData& tuple, const TupleData* old_full, Row& value, Row& key);
  Status key_from_old(int table, char old_kind, const TupleData& tuple, Row& key);
  Status add(Change c);
  // An incompatible schema change of one captured table stops only that table.
  void stop_table(int table, std::string why);

  // Constant after construction.
  std::vector<CapturedTable> tables_;
  std::unordered_map<std::string, int> table_by_name_;  // "schema.table" -> index
  size_t max_transaction_bytes_;

  Lsn skip_through_;
  std::unordered_map<uint32_t, Relation> relations_;
  std::unordered_map<int, std::string> stopped_;                  // table index -> why (this process)
  std::vector<std::pair<uint32_t, std::string>> pending_stops_;  // not yet in a delivered Transaction
  bool in_txn_ = false;
  Transaction txn_;
  size_t txn_bytes_ = 0;
  Arena arena_;
  std::vector<std::optional<std::string_view>> scratch_;
  Stats stats_;
};

}  // namespace freshet::capture::postgres
