#pragma once
// The server's SQL conventions: PostgreSQL's (the default) or Materialize's.
//
// Freshet follows PostgreSQL 15 wherever PostgreSQL defines a behaviour. Materialize, whose SQL
// Freshet also speaks, differs from PostgreSQL in a few conventions of output and arithmetic:
// jsonb text without spaces, interval text with `months`, numeric results to 39 digits,
// numeric text without trailing zeros, and others listed in src/common/README.md ("SQL
// dialect"). `freshet serve --sql-dialect materialize` makes the whole server follow
// Materialize's conventions there: every session, view and dataflow of the server, so that a
// maintained view and a one-shot query never disagree. It is chosen once at start-up and read
// everywhere without locking; `SHOW sql_dialect` reports it and SET refuses to change it.
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace freshet {

enum class SqlDialect : unsigned char { kPostgres, kMaterialize };

namespace detail {
inline std::atomic<SqlDialect> g_sql_dialect{SqlDialect::kPostgres};
}  // namespace detail

inline SqlDialect sql_dialect() { return detail::g_sql_dialect.load(std::memory_order_relaxed); }
inline bool materialize_dialect() { return sql_dialect() == SqlDialect::kMaterialize; }
// Start-up only (and tests): sessions and dataflows read it without synchronising with a change.
inline void set_sql_dialect(SqlDialect d) { detail::g_sql_dialect.store(d, std::memory_order_relaxed); }

inline std::string_view sql_dialect_name(SqlDialect d) {
  return d == SqlDialect::kMaterialize ? "materialize" : "postgres";
}
inline std::optional<SqlDialect> parse_sql_dialect(std::string_view s) {
  if (s == "postgres" || s == "postgresql") return SqlDialect::kPostgres;
  if (s == "materialize") return SqlDialect::kMaterialize;
  return std::nullopt;
}

// The name of Freshet's one cluster, where SHOW INDEXES / SOURCES / MATERIALIZED VIEWS / CLUSTERS
// and the `cluster` setting name it: Materialize's default cluster is `quickstart`.
inline std::string_view cluster_name() { return materialize_dialect() ? "quickstart" : "default"; }

// An error message in Materialize's words where Materialize words the error differently from
// PostgreSQL (sql_dialect.cpp's table); otherwise the message itself. The pgwire layer applies
// it to every error it sends under the materialize dialect.
std::string materialize_error_text(const std::string& message);

}  // namespace freshet
