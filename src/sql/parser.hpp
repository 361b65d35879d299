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
  // Whether this is a bulk INSERT of literal rows parsed by parse_bulk_insert (bulk_insert.cpp):
  // `INSERT INTO name [(cols)] VALUES (...), (...), ...` whose rows after the first are plain
  // constants (A_Const: no parameters, casts or expressions). Such a statement is never one of
  // Freshet's own (streaming) statements.
  bool bulk_insert() const { return bulk_values_ != nullptr; }
  // Whether this tree was made from a template (parse_literal_insert, bulk_insert.cpp) rather
  // than by the grammar. For tests.
  bool from_template() const { return template_items_ != nullptr; }
  // The tree as libpg_query's protobuf bytes (tests compare trees with it).
  std::string packed() const;

 private:
  ParseTree() = default;
  // The grammar's tree of sql, through libpg_query's protobuf.
  static std::shared_ptr<ParseTree> parse_protobuf_tree(std::string_view sql);
  // A bulk INSERT of literal rows without the protobuf round trip for its rows (bulk_insert.cpp);
  // null when the statement is not of that shape.
  static std::shared_ptr<ParseTree> parse_bulk_insert(std::string_view sql);
  // A one-row INSERT of literal values whose text up to its row is that of an INSERT this
  // thread parsed before (`INSERT INTO t [(cols)] VALUES (1, 'a', NULL)`, as a client's loop
  // of single-row INSERTs sends them): the tree is that earlier statement's (kept as protobuf
  // bytes, without its row) with this row's constants put in, without the grammar and its
  // protobuf round trip. null when there is no such template (or the shape differs).
  static std::shared_ptr<ParseTree> parse_literal_insert(std::string_view sql);
  // After the grammar parsed sql: keeps its tree as a template for parse_literal_insert when
  // sql is a one-row INSERT of literal values.
  static void remember_literal_insert(std::string_view sql, ParseTree& tree);
  std::string sql_;
  PgQuery__ParseResult* result_ = nullptr;
  // parse_bulk_insert: the VALUES whose rows after the first were added here; freed here too
  // (protobuf-c's generic free walks descriptors and costs as much as the parse).
  PgQuery__SelectStmt* bulk_values_ = nullptr;
  static void free_bulk_rows(PgQuery__SelectStmt* sel);
  // parse_literal_insert: the row's list, whose items (and their nodes) are one malloc'd block
  // that the destructor frees (protobuf-c's free must not see them).
  PgQuery__List* template_items_ = nullptr;
};

}  // namespace freshet::sql

namespace freshet::sql {
// SQL text for a statement node (libpg_query's deparser); used to store view definitions.
std::string deparse_statement(const PgQuery__Node* stmt);
// SQL text for an expression node (e.g. a column DEFAULT).
std::string deparse_expr(const PgQuery__Node* expr);
// Whether s holds `w` (lower case) in any case, as a cheap test before tokenizing.
bool has_word_ci(std::string_view s, std::string_view w);
}  // namespace freshet::sql
