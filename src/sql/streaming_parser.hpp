#pragma once
// The statements of Freshet's own (Materialize's) SQL that PostgreSQL's grammar does not
// have: SUBSCRIBE, COPY (SUBSCRIBE ...) TO STDOUT, DECLARE ... CURSOR FOR SUBSCRIBE, FETCH ... WITH (timeout = ...),
// CREATE DEFAULT INDEX, SHOW VIEWS/INDEXES/..., EXPLAIN [PLAN] FOR VIEW/INDEX/...,
// CREATE SECRET / CONNECTION / SOURCE / SINK, DROP SOURCE / SINK / SECRET / CONNECTION, and a
// trailing AS OF on SELECT. A small hand-written parser: it recognises these by their leading
// keywords and leaves every other statement to libpg_query (parser.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::sql {

struct StreamingStatement {
  enum class Kind {
    kSubscribe,       // target / query, snapshot, progress, as_of
    kDeclareSubscribe,  // cursor name + a subscribe
    kFetch,           // cursor, count (0 = ALL), timeout_ms (-1 none)
    kCreateDefaultIndex,  // object
    kShow,            // what ("views", "indexes", "materialized views", "objects", ...), object (ON x)
    kExplain,         // what ("select", "view", "index", "materialized view"), object or query
    kSelectAsOf,      // query (without AS OF), as_of
    kCreateSecret,    // object, value
    kCreateConnection,  // object, what (postgres, mysql, sql server, kafka, confluent schema registry), options
    kCreateSource,    // object, what (load generator, postgres, mysql, sql server, kafka), connection, options (SQL Server: also WITH (...)), tables
    kCreateSink,      // object, sink_from, connection (kafka), options, sink_key, format, envelope, snapshot
    kDrop,            // what (source, sink, secret, connection), object, cascade, if_exists
    kSelectMutuallyRecursive,  // query: a WITH MUTUALLY RECURSIVE query
    kCreateViewMutuallyRecursive,  // what ("view", "materialized view"), object, query
    kCopySubscribe,   // COPY (SUBSCRIBE ...) TO STDOUT [...]: the subscribe's fields, value = "TO STDOUT ..." (COPY's options)
    kDeclareFetch,    // DECLARE c CURSOR FOR FETCH ... (Materialize's): cursor, query = the FETCH's text
    kPrepareFetch,    // PREPARE p AS FETCH ... (Materialize's): object = the statement's name, query = the FETCH's text
    kSwapSchemas,     // ALTER SCHEMA a SWAP WITH b (Materialize's): object = a, value = b
    kCreateViewIfNotExists,  // CREATE VIEW IF NOT EXISTS v AS ... (Materialize's): object = v, query = the statement without IF NOT EXISTS
    kRenameSource,    // ALTER SOURCE [IF EXISTS] s RENAME TO t (Materialize's): object = s, value = t, if_exists
  };
  Kind kind = Kind::kSubscribe;
  std::string text;          // the statement's text
  std::string object;        // an object name (SUBSCRIBE TO x, CREATE DEFAULT INDEX ON x, ...)
  std::string query;         // a query's text (SUBSCRIBE (q), EXPLAIN q, SELECT ... AS OF)
  std::string cursor;
  std::string what;
  bool snapshot = true;
  bool progress = false;
  std::optional<uint64_t> as_of;
  // SELECT ... AS OF [AT LEAST] <expr>: the expression's text when it is not a plain number
  // (server/as_of.hpp evaluates it), and whether AT LEAST was given.
  std::string as_of_expr;
  bool as_of_at_least = false;
  uint64_t count = 0;
  int64_t timeout_ms = -1;
  int timeout_param = 0;     // FETCH ... WITH (timeout = $n): n (timeout_ms is then unused)

  // CREATE SECRET / CONNECTION / SOURCE, DROP
  struct Option {
    std::string key;          // upper-cased words joined by one space: "SECURITY PROTOCOL"
    std::string value;        // a string or number's text, or an identifier
    bool secret = false;      // SECRET name: value is the secret's name
  };
  std::string value;                  // CREATE SECRET ... AS 'value'
  std::string connection;             // FROM POSTGRES CONNECTION c
  std::string generator;              // FROM LOAD GENERATOR <kind>, lower case
  std::vector<Option> options;        // (...) after the connection / generator / connection type
  bool all_tables = false;            // FOR ALL TABLES
  std::vector<std::pair<std::string, std::string>> tables;  // FOR TABLES (upstream [AS name])
  std::string format;                 // FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION x -> "avro", ...
  std::string format_connection;
  std::string envelope;               // ENVELOPE NONE | UPSERT | DEBEZIUM
  // SUBSCRIBE ... ENVELOPE UPSERT | DEBEZIUM (KEY (a, b)) (envelope "upsert" / "debezium")
  std::vector<std::string> envelope_key;
  // SUBSCRIBE ... WITHIN TIMESTAMP ORDER BY c [ASC | DESC] [NULLS FIRST | LAST], ...
  struct OrderItem {
    std::string column;
    bool descending = false;
    std::optional<bool> nulls_first;
  };
  std::vector<OrderItem> within_order;
  std::vector<std::string> include;   // INCLUDE KEY, PARTITION, OFFSET, TIMESTAMP
  std::string sink_from;              // CREATE SINK s FROM <object>
  std::vector<std::string> sink_key;  // CREATE SINK ... KEY (a, b)
  bool cascade = false;
  bool if_exists = false;
  bool if_not_exists = false;
  const Option* option(std::string_view key) const {
    for (const auto& o : options)
      if (o.key == key) return &o;
    return nullptr;
  }
};

// Returns the statement when text is one of the forms above; nullopt otherwise (hand it to
// libpg_query). Throws SqlError 42601 for a recognised form with bad syntax.
std::optional<StreamingStatement> parse_streaming(std::string_view text);

// Splits a string of statements at top-level semicolons (outside quotes, comments and
// parentheses). Used when libpg_query cannot parse the whole string.
std::vector<std::string> split_statements(std::string_view text);

// A FETCH timeout as text: '1s', '500ms', '2 seconds', '1 minute', or a number of seconds.
// Throws 22023 for anything else.
int64_t parse_interval_ms(const std::string& s);

}  // namespace freshet::sql
