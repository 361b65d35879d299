#pragma once
// The statements of Freshet's own (Materialize's) SQL that PostgreSQL's grammar does not
// have: SUBSCRIBE, DECLARE ... CURSOR FOR SUBSCRIBE, FETCH ... WITH (timeout = ...),
// CREATE DEFAULT INDEX, SHOW VIEWS/INDEXES/..., EXPLAIN [PLAN] FOR VIEW/INDEX/..., and a
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
  };
  Kind kind = Kind::kSubscribe;
  std::string object;        // an object name (SUBSCRIBE TO x, CREATE DEFAULT INDEX ON x, ...)
  std::string query;         // a query's text (SUBSCRIBE (q), EXPLAIN q, SELECT ... AS OF)
  std::string cursor;
  std::string what;
  bool snapshot = true;
  bool progress = false;
  std::optional<uint64_t> as_of;
  uint64_t count = 0;
  int64_t timeout_ms = -1;
};

// Returns the statement when text is one of the forms above; nullopt otherwise (hand it to
// libpg_query). Throws SqlError 42601 for a recognised form with bad syntax.
std::optional<StreamingStatement> parse_streaming(std::string_view text);

// Splits a string of statements at top-level semicolons (outside quotes, comments and
// parentheses). Used when libpg_query cannot parse the whole string.
std::vector<std::string> split_statements(std::string_view text);

}  // namespace freshet::sql
