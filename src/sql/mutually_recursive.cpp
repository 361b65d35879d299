#include "sql/mutually_recursive.hpp"
#include "sql/sql_tokens.hpp"

#include <cctype>

#include "common/error.hpp"

namespace freshet::sql {

namespace {

[[noreturn]] void syntax_error(const std::string& what, size_t offset) {
  throw SqlError(sqlstate::kSyntaxError, what, static_cast<int>(offset) + 1);
}

}  // namespace

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0, n = s.size();
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (c & 0x80); };
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      int depth = 0;
      size_t start = i;
      do {
        if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (i + 1 < n && s[i] == '*' && s[i + 1] == '/') {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0 && i < n);
      if (depth > 0) syntax_error("unterminated /* comment", start);
    } else if (c == '\'' || ((c == 'e' || c == 'E') && i + 1 < n && s[i + 1] == '\'')) {
      size_t start = i;
      bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      for (;;) {
        if (i >= n) syntax_error("unterminated quoted string", start);
        if (escapes && s[i] == '\\') {
          i += 2;
        } else if (s[i] == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') {
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          ++i;
        }
      }
      out.push_back({Token::Kind::kString, start, i, ""});
    } else if (c == '"') {
      size_t start = i++;
      std::string text;
      for (;;) {
        if (i >= n) syntax_error("unterminated quoted identifier", start);
        if (s[i] == '"') {
          if (i + 1 < n && s[i + 1] == '"') {
            text += '"';
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          text += s[i++];
        }
      }
      out.push_back({Token::Kind::kQuotedIdent, start, i, text});
    } else if (c == '$' && i + 1 < n && (s[i + 1] == '$' || std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '_')) {
      // $tag$ ... $tag$
      size_t start = i;
      size_t j = i + 1;
      while (j < n && s[j] != '$' && ident_char(s[j])) ++j;
      if (j < n && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t close = s.find(tag, j + 1);
        if (close == std::string_view::npos) syntax_error("unterminated dollar-quoted string", start);
        i = close + tag.size();
        out.push_back({Token::Kind::kString, start, i, ""});
      } else {
        out.push_back({Token::Kind::kOther, i, i + 1, std::string(1, c)});
        ++i;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Token::Kind::kNumber, start, i, std::string(s.substr(start, i - start))});
    } else if (ident_char(c)) {
      size_t start = i;
      while (i < n && ident_char(s[i])) ++i;
      std::string w(s.substr(start, i - start));
      for (auto& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({Token::Kind::kWord, start, i, w});
    } else if (c == '(' || c == ')' || c == ',' || c == ';') {
      out.push_back({Token::Kind::kPunct, i, i + 1, std::string(1, c)});
      ++i;
    } else {
      out.push_back({Token::Kind::kOther, i, i + 1, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

namespace {

bool is_word(const std::vector<Token>& t, size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Token::Kind::kWord && t[i].text == w;
}
bool is_punct(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == Token::Kind::kPunct && t[i].text[0] == c;
}

// The index of the token closing the parenthesis opened at t[open].
size_t matching_paren(const std::vector<Token>& t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (is_punct(t, i, '(')) ++depth;
    if (is_punct(t, i, ')') && --depth == 0) return i;
  }
  syntax_error("unbalanced parentheses", t[open].begin);
}

}  // namespace

size_t find_mutually_recursive(std::string_view sql) {
  std::vector<Token> t;
  try {
    t = tokenize(sql);
  } catch (const SqlError&) {
    return std::string_view::npos;
  }
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    if (is_word(t, i, "with") && is_word(t, i + 1, "mutually") && is_word(t, i + 2, "recursive")) return t[i].begin;
  }
  return std::string_view::npos;
}

bool is_mutually_recursive(std::string_view sql) {
  std::vector<Token> t;
  try {
    t = tokenize(sql);
  } catch (const SqlError&) {
    return false;
  }
  size_t i = 0;
  while (is_punct(t, i, '(')) ++i;
  return is_word(t, i, "with") && is_word(t, i + 1, "mutually") && is_word(t, i + 2, "recursive");
}

MutuallyRecursiveQuery split_mutually_recursive(std::string_view sql) {
  std::vector<Token> t = tokenize(sql);
  // A trailing semicolon ends the statement.
  while (!t.empty() && is_punct(t, t.size() - 1, ';')) t.pop_back();
  size_t i = 0;
  if (!(is_word(t, 0, "with") && is_word(t, 1, "mutually") && is_word(t, 2, "recursive")))
    syntax_error("expected WITH MUTUALLY RECURSIVE", t.empty() ? 0 : t[0].begin);
  i = 3;
  MutuallyRecursiveQuery q;
  auto expect_word = [&](std::string_view w) {
    if (!is_word(t, i, w)) syntax_error("syntax error at or near \"" + (i < t.size() ? std::string(sql.substr(t[i].begin, t[i].end - t[i].begin)) : std::string("end of input")) + "\" (expected " + std::string(w) + ")", i < t.size() ? t[i].begin : sql.size());
    ++i;
  };
  // Options, as Materialize's parser takes them: ( option [, option ...] ) with option one of
  // RECURSION LIMIT [=] n, ERROR AT RECURSION LIMIT [=] n, RETURN AT RECURSION LIMIT [=] n;
  // at most one of them. The messages are Materialize's.
  if (is_punct(t, i, '(') && !is_word(t, i + 1, "select") && !is_word(t, i + 1, "values") && !is_word(t, i + 1, "with")) {
    ++i;
    auto found = [&]() -> std::string {
      if (i >= t.size()) return "EOF";
      if (is_punct(t, i, ')')) return "right parenthesis";
      if (is_punct(t, i, ',')) return "comma";
      return (t[i].kind == Token::Kind::kWord ? "identifier \"" : "\"") + std::string(sql.substr(t[i].begin, t[i].end - t[i].begin)) + "\"";
    };
    std::string given;  // the option given so far
    for (;;) {
      std::string option;
      size_t at = i < t.size() ? t[i].begin : sql.size();
      if (is_word(t, i, "return") || is_word(t, i, "error")) {
        option = t[i].text == "return" ? "RETURN AT RECURSION LIMIT" : "ERROR AT RECURSION LIMIT";
        ++i;
        expect_word("at");
      } else if (is_word(t, i, "recursion")) {
        option = "RECURSION LIMIT";
      } else {
        syntax_error("Expected one of RECURSION or RETURN or ERROR, found " + found(), at);
      }
      expect_word("recursion");
      expect_word("limit");
      if (i < t.size() && t[i].kind == Token::Kind::kOther && t[i].text == "=") ++i;
      if (i >= t.size() || is_punct(t, i, ')') || is_punct(t, i, ','))
        syntax_error("invalid " + option + ": must provide an unsigned integer value", at);
      if (t[i].kind == Token::Kind::kOther && t[i].text == "-")
        syntax_error("invalid " + option + ": invalid unsigned numeric value: invalid digit found in string", at);
      if (t[i].kind != Token::Kind::kNumber) syntax_error("invalid " + option + ": cannot use value as number", at);
      uint64_t n = 0;
      for (char c : t[i].text) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1'000'000'000'000ULL)
          syntax_error("invalid " + option + ": invalid unsigned numeric value: invalid digit found in string", t[i].begin);
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      ++i;
      if (given == option) syntax_error(option + " specified more than once", at);
      if (!given.empty())
        throw SqlError(sqlstate::kInvalidParameterValue,
                       "Invalid WITH MUTUALLY RECURSIVE recursion limit. More than one recursion limit given. Please give at "
                       "most one of RECURSION LIMIT, ERROR AT RECURSION LIMIT, RETURN AT RECURSION LIMIT.",
                       static_cast<int>(at) + 1);
      if (n == 0)
        throw SqlError(sqlstate::kInvalidParameterValue,
                       "Invalid WITH MUTUALLY RECURSIVE recursion limit. Recursion limit has to be greater than 0.",
                       static_cast<int>(at) + 1);
      given = option;
      q.limit = n;
      q.return_at_limit = option == "RETURN AT RECURSION LIMIT";
      if (is_punct(t, i, ',')) {
        ++i;
        continue;
      }
      if (!is_punct(t, i, ')')) syntax_error("Expected right parenthesis, found " + found(), i < t.size() ? t[i].begin : sql.size());
      ++i;
      break;
    }
  }
  for (;;) {
    MutuallyRecursiveBinding b;
    if (i >= t.size() || (t[i].kind != Token::Kind::kWord && t[i].kind != Token::Kind::kQuotedIdent))
      syntax_error("expected the name of a binding", i < t.size() ? t[i].begin : sql.size());
    b.name = t[i].text;
    b.position = static_cast<int>(t[i].begin) + 1;
    ++i;
    if (!is_punct(t, i, '('))
      syntax_error("WITH MUTUALLY RECURSIVE binding \"" + b.name + "\" needs a column list with types: name (column type, ...)", i < t.size() ? t[i].begin : sql.size());
    size_t close = matching_paren(t, i);
    b.columns_sql = std::string(sql.substr(t[i].end, t[close].begin - t[i].end));
    i = close + 1;
    expect_word("as");
    if (!is_punct(t, i, '(')) syntax_error("expected ( before the query of binding \"" + b.name + "\"", i < t.size() ? t[i].begin : sql.size());
    close = matching_paren(t, i);
    b.query_offset = t[i].end;
    b.query_sql = std::string(sql.substr(t[i].end, t[close].begin - t[i].end));
    i = close + 1;
    q.bindings.push_back(std::move(b));
    if (is_punct(t, i, ',')) {
      ++i;
      continue;
    }
    break;
  }
  if (i >= t.size()) syntax_error("WITH MUTUALLY RECURSIVE needs a final query", sql.size());
  q.final_offset = t[i].begin;
  q.final_sql = std::string(sql.substr(t[i].begin, t.back().end - t[i].begin));
  return q;
}

}  // namespace freshet::sql
