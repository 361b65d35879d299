#include "sql/streaming_parser.hpp"

#include <cctype>

#include "common/error.hpp"
#include "sql/mutually_recursive.hpp"

namespace freshet::sql {
namespace {

struct Token {
  enum class Kind { kWord, kString, kNumber, kPunct, kEnd } kind = Kind::kEnd;
  std::string text;   // words lowercased (unless quoted), strings unquoted
  size_t begin = 0;   // byte offsets into the statement
  size_t end = 0;
};

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    Token t;
    t.begin = i;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$' || s[j] == '.')) ++j;
      t.kind = Token::Kind::kWord;
      for (size_t k = i; k < j; ++k) t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
      i = j;
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '"' && j + 1 < s.size() && s[j + 1] == '"') {
          t.text += '"';
          j += 2;
          continue;
        }
        if (s[j] == '"') break;
        t.text += s[j++];
      }
      if (j >= s.size()) throw SqlError(sqlstate::kSyntaxError, "unterminated quoted identifier", static_cast<int>(i) + 1);
      t.kind = Token::Kind::kWord;
      i = j + 1;
    } else if (c == '\'') {
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '\'' && j + 1 < s.size() && s[j + 1] == '\'') {
          t.text += '\'';
          j += 2;
          continue;
        }
        if (s[j] == '\'') break;
        t.text += s[j++];
      }
      if (j >= s.size()) throw SqlError(sqlstate::kSyntaxError, "unterminated quoted string", static_cast<int>(i) + 1);
      t.kind = Token::Kind::kString;
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      t.kind = Token::Kind::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else {
      t.kind = Token::Kind::kPunct;
      t.text = std::string(1, c);
      ++i;
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  Token end;
  end.begin = end.end = s.size();
  out.push_back(end);
  return out;
}

class Parser {
 public:
  Parser(std::string_view text) : text_(text), toks_(tokenize(text)) {}
  const Token& peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  bool is(std::string_view w, size_t k = 0) const { return peek(k).kind == Token::Kind::kWord && peek(k).text == w; }
  bool accept(std::string_view w) {
    if (is(w)) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool accept_punct(char c) {
    if (peek().kind == Token::Kind::kPunct && peek().text[0] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& what) const {
    const Token& t = peek();
    std::string near = t.kind == Token::Kind::kEnd ? "end of input" : "\"" + std::string(text_.substr(t.begin, t.end - t.begin)) + "\"";
    throw SqlError(sqlstate::kSyntaxError, "syntax error at or near " + near + ": " + what, static_cast<int>(t.begin) + 1);
  }
  void expect(std::string_view w) {
    if (!accept(w)) fail("expected " + std::string(w));
  }
  std::string name() {
    if (peek().kind != Token::Kind::kWord) fail("expected a name");
    return toks_[pos_++].text;
  }
  bool at_end() {
    accept_punct(';');
    return peek().kind == Token::Kind::kEnd;
  }
  // The text of a parenthesised query starting at the current '(' ; consumes it.
  std::string parenthesised() {
    if (!(peek().kind == Token::Kind::kPunct && peek().text == "(")) fail("expected (");
    size_t start = peek().end;
    int depth = 0;
    while (peek().kind != Token::Kind::kEnd) {
      if (peek().kind == Token::Kind::kPunct && peek().text == "(") ++depth;
      if (peek().kind == Token::Kind::kPunct && peek().text == ")") {
        --depth;
        if (depth == 0) {
          std::string q(text_.substr(start, peek().begin - start));
          ++pos_;
          return q;
        }
      }
      ++pos_;
    }
    fail("unbalanced parentheses");
  }
  bool boolean_value() {
    if (accept("true") || accept("on")) return true;
    if (accept("false") || accept("off")) return false;
    if (peek().kind == Token::Kind::kString) {
      std::string v = toks_[pos_++].text;
      return v == "true" || v == "on" || v == "t";
    }
    return true;  // WITH (SNAPSHOT) means true
  }
  uint64_t number() {
    if (peek().kind != Token::Kind::kNumber) fail("expected a number");
    return std::stoull(toks_[pos_++].text);
  }
  size_t offset() const { return peek().begin; }
  std::string_view text() const { return text_; }
  void skip_to_end() { pos_ = toks_.size() - 1; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }

 private:
  std::string_view text_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

int64_t parse_interval_ms(const std::string& s) {
  // '1s', '500ms', '2 seconds', '1 minute', or a plain number of seconds
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) throw SqlError(sqlstate::kInvalidParameterValue, "invalid timeout: \"" + s + "\"");
  double v = std::stod(s.substr(0, i));
  std::string unit;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isspace(static_cast<unsigned char>(s[k]))) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  double ms;
  if (unit.empty() || unit == "s" || unit.starts_with("sec")) ms = v * 1000;
  else if (unit == "ms" || unit.starts_with("millisecond")) ms = v;
  else if (unit == "m" || unit == "min" || unit.starts_with("minute")) ms = v * 60000;
  else if (unit == "h" || unit.starts_with("hour")) ms = v * 3600000;
  else throw SqlError(sqlstate::kInvalidParameterValue, "invalid timeout: \"" + s + "\"");
  return static_cast<int64_t>(ms);
}

namespace {

// WITH (SNAPSHOT [= bool] [, PROGRESS [= bool]]) after the WITH: SUBSCRIBE's and CREATE
// SINK's options (PROGRESS only where progress_allowed).
void parse_boolean_options(Parser& p, StreamingStatement& st, const std::string& statement, bool progress_allowed) {
  if (!p.accept_punct('(')) p.fail("expected ( after WITH");
  while (true) {
    std::string opt = p.name();
    p.accept_punct('=');
    bool v = p.boolean_value();
    if (opt == "snapshot") st.snapshot = v;
    else if (opt == "progress" && progress_allowed) st.progress = v;
    else p.fail("unknown " + statement + " option " + opt);
    if (p.accept_punct(')')) break;
    if (!p.accept_punct(',')) p.fail("expected , or )");
  }
}

void parse_subscribe_body(Parser& p, StreamingStatement& st) {
  st.kind = StreamingStatement::Kind::kSubscribe;
  p.accept("to");
  if (p.peek().kind == Token::Kind::kPunct && p.peek().text == "(")
    st.query = p.parenthesised();
  else
    st.object = p.name();
  while (!p.at_end()) {
    if (p.accept("with")) {
      parse_boolean_options(p, st, "SUBSCRIBE", true);
    } else if (p.accept("as")) {
      p.expect("of");
      p.accept("at");
      p.accept("least");
      if (p.peek().kind == Token::Kind::kNumber && p.peek().text.size() <= 19 &&
          p.peek().text.find_first_not_of("0123456789") == std::string::npos) {
        st.as_of = p.number();
      } else {
        // An expression (server/as_of.hpp evaluates it), up to the next clause.
        size_t begin = p.offset(), end = begin;
        int depth = 0;
        while (p.peek().kind != Token::Kind::kEnd) {
          if (p.peek().kind == Token::Kind::kPunct && p.peek().text == "(") ++depth;
          if (p.peek().kind == Token::Kind::kPunct && p.peek().text == ")") --depth;
          if (depth == 0 && (p.is("with") || p.is("envelope") || p.is("within") || p.is("up") ||
                             (p.peek().kind == Token::Kind::kPunct && p.peek().text == ";")))
            break;
          end = p.peek().end;
          p.advance();
        }
        if (end == begin) p.fail("expected a timestamp after AS OF");
        st.as_of_expr = std::string(p.text().substr(begin, end - begin));
      }
    } else if (p.accept("envelope")) {
      // Materialize's SUBSCRIBE envelopes (server/subscribe_output.hpp).
      if (p.accept("upsert")) st.envelope = "upsert";
      else if (p.accept("debezium")) st.envelope = "debezium";
      else p.fail("expected UPSERT or DEBEZIUM");
      if (!p.accept_punct('(')) p.fail("expected (KEY (...))");
      p.expect("key");
      if (!p.accept_punct('(')) p.fail("expected (");
      do st.envelope_key.push_back(p.name());
      while (p.accept_punct(','));
      if (!p.accept_punct(')') || !p.accept_punct(')')) p.fail("expected )");
    } else if (p.accept("within")) {
      p.expect("timestamp");
      p.expect("order");
      p.expect("by");
      do {
        StreamingStatement::OrderItem o;
        o.column = p.name();
        if (p.accept("desc")) o.descending = true;
        else p.accept("asc");
        if (p.accept("nulls")) {
          if (p.accept("first")) o.nulls_first = true;
          else if (p.accept("last")) o.nulls_first = false;
          else p.fail("expected FIRST or LAST");
        }
        st.within_order.push_back(std::move(o));
      } while (p.accept_punct(','));
    } else {
      p.fail("unexpected token in SUBSCRIBE");
    }
  }
}


// ( KEY WORDS [=] value, ... ) ; value: 'string' | number | SECRET name | word
void parse_options(Parser& p, std::vector<StreamingStatement::Option>& out) {
  if (!p.accept_punct('(')) return;
  if (p.accept_punct(')')) return;
  while (true) {
    StreamingStatement::Option o;
    while (p.peek().kind == Token::Kind::kWord && !p.is("secret")) {
      std::string w = p.peek().text;
      for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // A word followed by a value or '=' ends the key only if the next token is a value.
      o.key += (o.key.empty() ? "" : " ") + w;
      p.advance();
      const Token& n = p.peek();
      if (n.kind == Token::Kind::kString || n.kind == Token::Kind::kNumber) break;
      if (n.kind == Token::Kind::kPunct && (n.text == "=" || n.text == "," || n.text == ")")) break;
      if (p.is("secret")) break;
    }
    if (o.key.empty()) p.fail("expected an option name");
    p.accept_punct('=');
    const Token& v = p.peek();
    if (p.accept("secret")) {
      o.secret = true;
      o.value = p.name();
    } else if (v.kind == Token::Kind::kPunct && v.text == "(") {
      // A list: START OFFSET (0, 10, 20) -> "0,10,20".
      p.advance();
      while (!p.accept_punct(')')) {
        const Token& e = p.peek();
        if (e.kind != Token::Kind::kNumber && e.kind != Token::Kind::kString && e.kind != Token::Kind::kWord) p.fail("expected a list element");
        o.value += (o.value.empty() ? "" : ",") + e.text;
        p.advance();
        if (!p.accept_punct(',') && !(p.peek().kind == Token::Kind::kPunct && p.peek().text == ")")) p.fail("expected , or )");
      }
    } else if (v.kind == Token::Kind::kString || v.kind == Token::Kind::kNumber || v.kind == Token::Kind::kWord) {
      o.value = v.text;
      p.advance();
    } else if (!(v.kind == Token::Kind::kPunct && (v.text == "," || v.text == ")"))) {
      p.fail("expected an option value");
    }
    out.push_back(std::move(o));
    if (p.accept_punct(')')) break;
    if (!p.accept_punct(',')) p.fail("expected , or )");
  }
}

// [IF NOT EXISTS] name [IN CLUSTER c]
void parse_create_head(Parser& p, StreamingStatement& st) {
  if (p.accept("if")) {
    p.expect("not");
    p.expect("exists");
    st.if_not_exists = true;
  }
  st.object = p.name();
  if (p.accept("in")) {
    p.expect("cluster");
    p.name();
  }
}

// (FORMAT AVRO) USING CONFLUENT SCHEMA REGISTRY CONNECTION csr [(options, ignored)]
void parse_avro_format(Parser& p, StreamingStatement& st) {
  st.format = "avro";
  p.expect("using");
  p.expect("confluent");
  p.expect("schema");
  p.expect("registry");
  p.expect("connection");
  st.format_connection = p.name();
  if (p.peek().kind == Token::Kind::kPunct && p.peek().text == "(") {
    std::vector<StreamingStatement::Option> ignored;
    parse_options(p, ignored);
  }
}

std::optional<StreamingStatement> parse_create(Parser& p) {
  StreamingStatement st;
  if (p.accept("secret")) {
    st.kind = StreamingStatement::Kind::kCreateSecret;
    if (p.accept("if")) {
      p.expect("not");
      p.expect("exists");
      st.if_not_exists = true;
    }
    st.object = p.name();
    p.expect("as");
    if (p.peek().kind != Token::Kind::kString) p.fail("expected the secret's value as a string");
    st.value = p.peek().text;
    p.advance();
    if (!p.at_end()) p.fail("unexpected token after CREATE SECRET");
    return st;
  }
  if (p.accept("connection")) {
    st.kind = StreamingStatement::Kind::kCreateConnection;
    if (p.accept("if")) {
      p.expect("not");
      p.expect("exists");
      st.if_not_exists = true;
    }
    st.object = p.name();
    p.expect("to");
    if (p.accept("postgres")) st.what = "postgres";
    else if (p.accept("mysql")) st.what = "mysql";
    else if (p.accept("sql")) {
      p.expect("server");
      st.what = "sql server";
    } else if (p.accept("kafka")) st.what = "kafka";
    else if (p.accept("confluent")) {
      p.expect("schema");
      p.expect("registry");
      st.what = "confluent schema registry";
    } else p.fail("expected POSTGRES, MYSQL, SQL SERVER, KAFKA or CONFLUENT SCHEMA REGISTRY");
    parse_options(p, st.options);
    if (p.accept("with")) {
      std::vector<StreamingStatement::Option> ignored;
      parse_options(p, ignored);  // WITH (VALIDATE = false)
    }
    if (!p.at_end()) p.fail("unexpected token after CREATE CONNECTION");
    return st;
  }
  if (p.accept("source")) {
    st.kind = StreamingStatement::Kind::kCreateSource;
    parse_create_head(p, st);
    p.expect("from");
    if (p.accept("load")) {
      p.expect("generator");
      st.what = "load generator";
      st.generator = p.name();
      parse_options(p, st.options);
    } else {
      if (p.accept("postgres")) st.what = "postgres";
      else if (p.accept("mysql")) st.what = "mysql";
      else if (p.accept("sql")) {
        p.expect("server");
        st.what = "sql server";
      } else if (p.accept("kafka")) st.what = "kafka";
      else p.fail("expected LOAD GENERATOR, POSTGRES, MYSQL, SQL SERVER or KAFKA");
      p.expect("connection");
      st.connection = p.name();
      parse_options(p, st.options);
    }
    while (!p.at_end()) {
      if (p.accept("for")) {
        if (p.accept("all")) {
          p.expect("tables");
          st.all_tables = true;
        } else if (p.accept("tables")) {
          if (!p.accept_punct('(')) p.fail("expected (");
          while (true) {
            std::string up = p.name();
            std::string as = up;
            if (auto dot = as.rfind('.'); dot != std::string::npos) as = as.substr(dot + 1);
            if (p.accept("as")) as = p.name();
            st.tables.push_back({up, as});
            if (p.accept_punct(')')) break;
            if (!p.accept_punct(',')) p.fail("expected , or )");
          }
        } else if (p.accept("schemas")) {
          p.fail("FOR SCHEMAS is not supported; use FOR ALL TABLES or FOR TABLES (...)");
        } else {
          p.fail("expected ALL TABLES or TABLES (...)");
        }
      } else if (p.accept("format")) {
        if (p.accept("avro")) {
          parse_avro_format(p, st);
        } else if (p.accept("json")) st.format = "json";
        else if (p.accept("text")) st.format = "text";
        else if (p.accept("bytes")) st.format = "bytes";
        else p.fail("expected AVRO, JSON, TEXT or BYTES");
      } else if (p.accept("include")) {
        while (true) {
          std::string what = p.name();
          if (p.accept("as")) p.name();
          st.include.push_back(what);
          if (!p.accept_punct(',')) break;
        }
      } else if (p.accept("envelope")) {
        st.envelope = p.name();
      } else if (p.accept("with")) {
        // A SQL Server source's WITH (POLL INTERVAL ...) is its own option; other sources
        // accept and ignore WITH (...) (Materialize's SIZE and the like).
        std::vector<StreamingStatement::Option> with;
        parse_options(p, with);
        if (st.what == "sql server") st.options.insert(st.options.end(), with.begin(), with.end());
      } else {
        p.fail("unexpected token in CREATE SOURCE");
      }
    }
    return st;
  }
  if (p.accept("sink")) {
    // CREATE SINK [IF NOT EXISTS] s [IN CLUSTER c] FROM obj INTO KAFKA CONNECTION k (TOPIC 't', ...)
    //   [KEY (a, ...) [NOT ENFORCED]] [FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr
    //   | FORMAT JSON] [ENVELOPE UPSERT | DEBEZIUM] [WITH (SNAPSHOT = true | false)]
    st.kind = StreamingStatement::Kind::kCreateSink;
    parse_create_head(p, st);
    p.expect("from");
    st.sink_from = p.name();
    p.expect("into");
    if (!p.accept("kafka")) p.fail("expected KAFKA (sinks write to Kafka)");
    st.what = "kafka";
    p.expect("connection");
    st.connection = p.name();
    parse_options(p, st.options);
    while (!p.at_end()) {
      if (p.accept("key")) {
        if (!p.accept_punct('(')) p.fail("expected ( after KEY");
        while (true) {
          st.sink_key.push_back(p.name());
          if (p.accept_punct(')')) break;
          if (!p.accept_punct(',')) p.fail("expected , or )");
        }
        if (p.accept("not")) p.expect("enforced");
      } else if (p.accept("format")) {
        if (p.accept("avro")) {
          parse_avro_format(p, st);
        } else if (p.accept("json")) {
          st.format = "json";
        } else {
          p.fail("expected AVRO or JSON");
        }
      } else if (p.accept("envelope")) {
        st.envelope = p.name();
      } else if (p.accept("with")) {
        parse_boolean_options(p, st, "CREATE SINK", false);
      } else {
        p.fail("unexpected token in CREATE SINK");
      }
    }
    return st;
  }
  return std::nullopt;
}

}  // namespace

static std::optional<StreamingStatement> parse_streaming_impl(std::string_view text);

std::optional<StreamingStatement> parse_streaming(std::string_view text) {
  auto st = parse_streaming_impl(text);
  if (st) st->text = std::string(text);
  return st;
}

static std::optional<StreamingStatement> parse_streaming_impl(std::string_view text) {
  Parser p(text);
  StreamingStatement st;
  // A query that is, or holds in parentheses, a WITH MUTUALLY RECURSIVE query
  // (Binder::bind_mutually_recursive hoists the nested ones).
  if (is_mutually_recursive(text) ||
      ((p.is("select") || p.is("with") || p.is("values") || (p.peek().kind == Token::Kind::kPunct && p.peek().text == "(")) &&
       find_mutually_recursive(text) != std::string_view::npos)) {
    st.kind = StreamingStatement::Kind::kSelectMutuallyRecursive;
    st.query = std::string(text);
    return st;
  }
  if (p.is("create") && (p.is("view", 1) || (p.is("materialized", 1) && p.is("view", 2)) ||
                         (p.is("or", 1) && p.is("replace", 2)))) {
    size_t at = find_mutually_recursive(text);
    if (at != std::string_view::npos) {
      Parser q(text);
      q.accept("create");
      if (q.accept("or")) q.expect("replace");
      st.what = q.accept("materialized") ? "materialized view" : "view";
      q.expect("view");
      st.object = q.name();
      if (q.accept("in")) {
        q.expect("cluster");
        q.name();
      }
      q.expect("as");
      st.kind = StreamingStatement::Kind::kCreateViewMutuallyRecursive;
      // The whole query after AS: it may hold WITH MUTUALLY RECURSIVE in parentheses.
      st.query = std::string(text.substr(q.offset()));
      return st;
    }
  }
  if (p.is("create") && p.is("view", 1) && p.is("if", 2) && p.is("not", 3) && p.is("exists", 4)) {
    // Materialize's CREATE VIEW IF NOT EXISTS (PostgreSQL's grammar has it only for
    // materialized views). An unqualified name only.
    Parser q(text);
    for (const char* w : {"create", "view", "if", "not", "exists"}) q.accept(w);
    size_t name_at = q.peek().begin;
    st.object = q.name();
    if (!q.is("as") && !(q.peek().kind == Token::Kind::kPunct && q.peek().text == "(")) return std::nullopt;
    st.kind = StreamingStatement::Kind::kCreateViewIfNotExists;
    st.query = "CREATE VIEW " + std::string(text.substr(name_at));
    return st;
  }
  if (p.accept("subscribe")) {
    parse_subscribe_body(p, st);
    return st;
  }
  if (p.is("copy") && p.peek(1).kind == Token::Kind::kPunct && p.peek(1).text == "(" && p.is("subscribe", 2)) {
    // COPY (SUBSCRIBE ...) TO STDOUT [WITH] [(...)]: Materialize's way to stream a subscription.
    Parser q(text);
    q.accept("copy");
    std::string inner = q.parenthesised();
    Parser sub(inner);
    sub.expect("subscribe");
    parse_subscribe_body(sub, st);
    st.kind = StreamingStatement::Kind::kCopySubscribe;
    st.value = std::string(text.substr(q.peek().begin));
    q.expect("to");
    if (!q.accept("stdout")) q.fail("COPY (SUBSCRIBE ...) can only be copied TO STDOUT");
    return st;
  }
  if (p.is("declare")) {
    // DECLARE c CURSOR [WITHOUT HOLD] FOR SUBSCRIBE ...
    Parser q(text);
    q.accept("declare");
    std::string cursor = q.name();
    q.accept("binary");
    q.accept("no");
    q.accept("scroll");
    if (!q.accept("cursor")) return std::nullopt;
    if (q.accept("without")) q.expect("hold");
    if (q.accept("with")) q.expect("hold");
    if (!q.accept("for")) return std::nullopt;
    if (q.is("fetch")) {
      // DECLARE c2 CURSOR FOR FETCH n c1 (Materialize's; PostgreSQL's grammar takes a SELECT).
      st.kind = StreamingStatement::Kind::kDeclareFetch;
      st.cursor = cursor;
      st.query = std::string(text.substr(q.peek().begin));
      return st;
    }
    if (!q.accept("subscribe")) return std::nullopt;
    parse_subscribe_body(q, st);
    st.kind = StreamingStatement::Kind::kDeclareSubscribe;
    st.cursor = cursor;
    return st;
  }
  if (p.is("alter") && p.is("source", 1)) {
    Parser q(text);
    q.accept("alter");
    q.accept("source");
    st.kind = StreamingStatement::Kind::kRenameSource;
    if (q.is("if") && q.is("exists", 1)) {
      q.accept("if");
      q.accept("exists");
      st.if_exists = true;
    }
    st.object = q.name();
    q.expect("rename");
    q.expect("to");
    st.value = q.name();
    if (!q.at_end()) q.fail("unexpected token after ALTER SOURCE ... RENAME TO");
    return st;
  }
  if (p.is("alter") && p.is("schema", 1) && p.is("swap", 3)) {
    Parser q(text);
    q.accept("alter");
    q.accept("schema");
    st.kind = StreamingStatement::Kind::kSwapSchemas;
    st.object = q.name();
    q.expect("swap");
    q.expect("with");
    st.value = q.name();
    if (!q.at_end()) q.fail("unexpected token after ALTER SCHEMA ... SWAP WITH");
    return st;
  }
  if (p.is("prepare")) {
    // PREPARE p AS FETCH ... (Materialize's; PostgreSQL's grammar refuses FETCH there). No
    // parameter types: a FETCH has no parameters but its timeout.
    Parser q(text);
    q.accept("prepare");
    std::string name = q.name();
    if (!q.accept("as") || !q.is("fetch")) return std::nullopt;
    st.kind = StreamingStatement::Kind::kPrepareFetch;
    st.object = name;
    st.query = std::string(text.substr(q.peek().begin));
    return st;
  }
  if (p.is("fetch")) {
    Parser q(text);
    q.accept("fetch");
    // Other directions (BACKWARD, PRIOR, FIRST, LAST, ABSOLUTE, RELATIVE, a negative or zero
    // count) are PostgreSQL's grammar: libpg_query parses them (SELECT cursors scroll).
    for (const char* dir : {"backward", "prior", "first", "last", "absolute", "relative"})
      if (q.is(dir)) return std::nullopt;
    if (q.peek().kind == Token::Kind::kNumber && q.peek().text == "0") return std::nullopt;
    if (q.peek().kind == Token::Kind::kPunct && q.peek().text == "-") return std::nullopt;
    st.kind = StreamingStatement::Kind::kFetch;
    st.count = 1;
    if (q.accept("all")) st.count = 0;
    else if (q.accept("forward")) {
      if (q.accept("all")) st.count = 0;
      else if (q.peek().kind == Token::Kind::kNumber) st.count = q.number();
    } else if (q.accept("next")) st.count = 1;
    else if (q.peek().kind == Token::Kind::kNumber) st.count = q.number();
    q.accept("from") || q.accept("in");
    st.cursor = q.name();
    while (!q.at_end()) {
      if (!q.accept("with")) q.fail("unexpected token in FETCH");
      if (!q.accept_punct('(')) q.fail("expected (");
      while (true) {
        std::string opt = q.name();
        q.accept_punct('=');
        if (opt != "timeout") q.fail("unknown FETCH option " + opt);
        if (q.peek().kind == Token::Kind::kString) {
          std::string v = q.peek().text;
          q.advance();
          st.timeout_ms = parse_interval_ms(v);
        } else if (q.accept_punct('$')) {
          uint64_t n = q.number();
          if (n < 1 || n > 65535) q.fail("invalid parameter number");
          st.timeout_param = static_cast<int>(n);
        } else {
          st.timeout_ms = static_cast<int64_t>(q.number()) * 1000;
        }
        if (q.accept_punct(')')) break;
        if (!q.accept_punct(',')) q.fail("expected , or )");
      }
    }
    return st;
  }
  if (p.is("create") && (p.is("secret", 1) || p.is("connection", 1) || p.is("source", 1) || p.is("sink", 1))) {
    Parser q(text);
    q.accept("create");
    return parse_create(q);
  }
  if (p.is("drop") && (p.is("source", 1) || p.is("sink", 1) || p.is("secret", 1) || p.is("connection", 1))) {
    p.accept("drop");
    st.kind = StreamingStatement::Kind::kDrop;
    st.what = p.name();
    if (p.accept("if")) {
      p.expect("exists");
      st.if_exists = true;
    }
    st.object = p.name();
    if (p.accept("cascade")) st.cascade = true;
    else p.accept("restrict");
    if (!p.at_end()) p.fail("unexpected token in DROP");
    return st;
  }
  if (p.is("create") && p.is("default", 1) && p.is("index", 2)) {
    p.accept("create");
    p.accept("default");
    p.accept("index");
    if (p.accept("in")) {
      p.expect("cluster");
      p.name();
    }
    p.expect("on");
    st.kind = StreamingStatement::Kind::kCreateDefaultIndex;
    st.object = p.name();
    if (!p.at_end()) p.fail("unexpected token after CREATE DEFAULT INDEX");
    return st;
  }
  if (p.is("show")) {
    static const char* kWhat[] = {"views", "indexes", "objects", "sources", "tables", "sinks", "connections", "secrets", "clusters", "columns"};
    p.accept("show");
    st.kind = StreamingStatement::Kind::kShow;
    // Materialize's SHOW CREATE VIEW | MATERIALIZED VIEW | TABLE | INDEX name: what = "create
    // view" ..., object = the name as written, qualified parts joined by '.'.
    if (p.is("create")) {
      p.accept("create");
      if (p.is("materialized") && p.is("view", 1)) {
        p.accept("materialized");
        p.accept("view");
        st.what = "create materialized view";
      } else if (p.is("view") || p.is("table") || p.is("index")) {
        st.what = "create " + p.name();
      } else {
        return std::nullopt;
      }
      st.object = p.name();
      while (p.accept_punct('.')) st.object += "." + p.name();
      if (!p.at_end()) p.fail("unexpected token in SHOW CREATE");
      return st;
    }
    if (p.is("materialized") && p.is("views", 1)) {
      p.accept("materialized");
      p.accept("views");
      st.what = "materialized views";
    } else {
      bool found = false;
      for (const char* w : kWhat)
        if (p.is(w)) {
          st.what = w;
          p.accept(w);
          found = true;
          break;
        }
      if (!found) return std::nullopt;
    }
    if (p.accept("on") || p.accept("from") || p.accept("in")) st.object = p.name();
    if (st.what == "columns" && st.object.empty()) p.fail("expected FROM or IN after SHOW COLUMNS");
    if (!p.at_end()) p.fail("unexpected token in SHOW");
    return st;
  }
  if (p.is("explain")) {
    Parser q(text);
    q.accept("explain");
    bool plan = q.accept("plan");
    if (q.accept("optimized")) q.expect("plan");
    if (q.accept("physical")) q.expect("plan");
    if (!q.accept("for")) {
      if (plan) q.fail("expected FOR");
      return std::nullopt;  // PostgreSQL's EXPLAIN <query>
    }
    st.kind = StreamingStatement::Kind::kExplain;
    if (q.accept("view")) {
      st.what = "view";
      st.object = q.name();
    } else if (q.accept("index")) {
      st.what = "index";
      st.object = q.name();
    } else if (q.is("materialized") && q.is("view", 1)) {
      q.accept("materialized");
      q.accept("view");
      st.what = "materialized view";
      st.object = q.name();
    } else {
      st.what = "select";
      st.query = std::string(text.substr(q.offset()));
      return st;
    }
    if (!q.at_end()) q.fail("unexpected token in EXPLAIN");
    return st;
  }
  if (p.is("select") || p.is("with")) {
    // A trailing `AS OF <number>` at the top level.
    Parser q(text);
    int depth = 0;
    size_t as_at = 0;
    bool found = false;
    while (q.peek().kind != Token::Kind::kEnd) {
      const Token& t = q.peek();
      if (t.kind == Token::Kind::kPunct && t.text == "(") ++depth;
      if (t.kind == Token::Kind::kPunct && t.text == ")") --depth;
      if (depth == 0 && q.is("as") && q.is("of", 1)) {
        as_at = t.begin;
        found = true;
        break;
      }
      q.advance();
    }
    if (!found) return std::nullopt;
    q.accept("as");
    q.accept("of");
    if (q.is("at") && q.is("least", 1)) {
      q.accept("at");
      q.accept("least");
      st.as_of_at_least = true;
    }
    st.kind = StreamingStatement::Kind::kSelectAsOf;
    if (q.at_end())
      throw SqlError(sqlstate::kSyntaxError, "Expected a timestamp value after 'AS OF', found EOF", static_cast<int>(q.offset()) + 1);
    auto digits = [](const std::string& t) {
      return !t.empty() && t.size() <= 19 && t.find_first_not_of("0123456789") == std::string::npos;
    };
    bool plain = q.peek().kind == Token::Kind::kNumber && digits(q.peek().text) &&
                 (q.peek(1).kind == Token::Kind::kEnd ||
                  (q.peek(1).kind == Token::Kind::kPunct && q.peek(1).text == ";" && q.peek(2).kind == Token::Kind::kEnd));
    if (plain) {
      st.as_of = q.number();
    } else {
      // Any other expression (a cast, a timestamp, NULL...): evaluated by the server.
      std::string_view rest = text.substr(q.offset());
      while (!rest.empty() && (rest.back() == ';' || std::isspace(static_cast<unsigned char>(rest.back())))) rest.remove_suffix(1);
      st.as_of_expr = std::string(rest);
    }
    st.query = std::string(text.substr(0, as_at));
    return st;
  }
  return std::nullopt;
}

std::vector<std::string> split_statements(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  int depth = 0;
  size_t i = 0;
  auto flush = [&](size_t end) {
    std::string stmt(s.substr(start, end - start));
    size_t b = stmt.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) {
      size_t e = stmt.find_last_not_of(" \t\r\n");
      out.push_back(stmt.substr(b, e - b + 1));
    }
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      char q = c;
      ++i;
      while (i < s.size() && s[i] != q) ++i;
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ';' && depth <= 0) {
      flush(i);
      start = i + 1;
    }
    ++i;
  }
  flush(s.size());
  return out;
}

}  // namespace freshet::sql
