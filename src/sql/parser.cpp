#include "sql/parser.hpp"

#include "common/error.hpp"

namespace freshet::sql {

std::shared_ptr<ParseTree> ParseTree::parse(std::string_view sql) {
  std::shared_ptr<ParseTree> tree(new ParseTree());
  tree->sql_ = std::string(sql);
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(tree->sql_.c_str());
  if (r.error) {
    std::string msg = r.error->message ? r.error->message : "syntax error";
    int pos = r.error->cursorpos;
    pg_query_free_protobuf_parse_result(r);
    throw SqlError(sqlstate::kSyntaxError, msg, pos);
  }
  tree->result_ = pg_query__parse_result__unpack(nullptr, r.parse_tree.len,
                                                 reinterpret_cast<const uint8_t*>(r.parse_tree.data));
  pg_query_free_protobuf_parse_result(r);
  if (tree->result_ == nullptr) throw SqlError(sqlstate::kInternalError, "could not decode parse tree");
  return tree;
}

ParseTree::~ParseTree() {
  if (result_) pg_query__parse_result__free_unpacked(result_, nullptr);
}

std::string ParseTree::statement_text(size_t i) const {
  const auto* raw = result_->stmts[i];
  size_t start = static_cast<size_t>(raw->stmt_location);
  size_t len = raw->stmt_len == 0 ? sql_.size() - start : static_cast<size_t>(raw->stmt_len);
  // libpg_query counts bytes; keep within bounds defensively.
  if (start > sql_.size()) start = sql_.size();
  if (start + len > sql_.size()) len = sql_.size() - start;
  std::string s = sql_.substr(start, len);
  size_t b = s.find_first_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b);
}

}  // namespace freshet::sql

namespace freshet::sql {

std::string deparse_statement(const PgQuery__Node* stmt) {
  PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
  raw.stmt = const_cast<PgQuery__Node*>(stmt);
  PgQuery__RawStmt* raws[1] = {&raw};
  PgQuery__ParseResult pr = PG_QUERY__PARSE_RESULT__INIT;
  pr.version = PG_VERSION_NUM;
  pr.n_stmts = 1;
  pr.stmts = raws;
  size_t len = pg_query__parse_result__get_packed_size(&pr);
  std::string buf(len, '\0');
  pg_query__parse_result__pack(&pr, reinterpret_cast<uint8_t*>(buf.data()));
  PgQueryProtobuf pb;
  pb.len = len;
  pb.data = buf.data();
  PgQueryDeparseResult r = pg_query_deparse_protobuf(pb);
  if (r.error) {
    std::string msg = r.error->message ? r.error->message : "deparse failed";
    pg_query_free_deparse_result(r);
    throw SqlError(sqlstate::kInternalError, "could not render statement: " + msg);
  }
  std::string out = r.query ? r.query : "";
  pg_query_free_deparse_result(r);
  return out;
}

std::string deparse_expr(const PgQuery__Node* expr) {
  PgQuery__ResTarget rt = PG_QUERY__RES_TARGET__INIT;
  rt.val = const_cast<PgQuery__Node*>(expr);
  PgQuery__Node rt_node = PG_QUERY__NODE__INIT;
  rt_node.node_case = PG_QUERY__NODE__NODE_RES_TARGET;
  rt_node.res_target = &rt;
  PgQuery__Node* targets[1] = {&rt_node};
  PgQuery__SelectStmt sel = PG_QUERY__SELECT_STMT__INIT;
  sel.n_target_list = 1;
  sel.target_list = targets;
  sel.op = PG_QUERY__SET_OPERATION__SETOP_NONE;
  sel.limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  PgQuery__Node node = PG_QUERY__NODE__INIT;
  node.node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
  node.select_stmt = &sel;
  std::string s = deparse_statement(&node);
  // "SELECT <expr>"
  if (s.rfind("SELECT ", 0) == 0) s = s.substr(7);
  return s;
}

}  // namespace freshet::sql
