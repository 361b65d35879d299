#pragma once
// The PostgreSQL grammar, from libpg_query (Debian libpg-query-dev): SQL text to the
// protobuf-c parse tree (PgQuery__Node). A ParseTree owns the unpacked tree.
// Syntax errors become SqlError 42601 with the 1-based position of the error.

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::sql {

class ParseTree {
 public:
  // Parses one or more statements. Throws SqlError 42601.
  static std::shared_ptr<ParseTree> parse(std::string_view sql);
  ~ParseTree();
  ParseTree(const ParseTree&) = delete;
  ParseTree& operator=(const ParseTree&) = delete;

  size_t size() const { return result_->n_stmts; }
  const PgQuery__Node* statement(size_t i) const { return result_->stmts[i]->stmt; }
  // The text of statement i (without the trailing semicolon).
  std::string statement_text(size_t i) const;
  const std::string& sql() const { return sql_; }

 private:
  ParseTree() = default;
  std::string sql_;
  PgQuery__ParseResult* result_ = nullptr;
};

}  // namespace freshet::sql

namespace freshet::sql {
// SQL text for a statement node (libpg_query's deparser); used to store view definitions.
std::string deparse_statement(const PgQuery__Node* stmt);
// SQL text for an expression node (e.g. a column DEFAULT).
std::string deparse_expr(const PgQuery__Node* expr);
}  // namespace freshet::sql
