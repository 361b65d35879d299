#include "sql/mz_syntax.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "common/format.hpp"
#include "sql/sql_tokens.hpp"

namespace freshet::sql {

namespace {

struct Edit {
  size_t begin = 0, end = 0;  // byte range replaced
  std::string text;
};

bool word_at(const std::vector<Token>& t, size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Token::Kind::kWord && t[i].text == w;
}
bool punct_at(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == Token::Kind::kPunct && t[i].text.size() == 1 && t[i].text[0] == c;
}
// '[', ']' and ':' are the tokenizer's kOther characters.
bool other_at(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == Token::Kind::kOther && t[i].text.size() == 1 && t[i].text[0] == c;
}

// The index of the '(' matching the ')' at close, or npos.
size_t matching_open(const std::vector<Token>& t, size_t close) {
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (punct_at(t, i, ')')) ++depth;
    if (punct_at(t, i, '(') && --depth == 0) return i;
  }
  return std::string::npos;
}

// The index of the ']' matching the '[' at open, or npos.
size_t matching_bracket(const std::vector<Token>& t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (other_at(t, i, '[')) ++depth;
    if (other_at(t, i, ']') && --depth == 0) return i;
  }
  return std::string::npos;
}

// Where the type that ends just before the `list` word at i starts: after `::` or `AS`,
// through words, numbers, a parenthesized modifier and []. npos when i does not follow a type.
size_t list_type_start(const std::vector<Token>& t, size_t i) {
  // Words that end a type name's walk back: the type is not there.
  static const char* const kStop[] = {"select", "from", "where", "and", "or", "not", "on", "join", "by", "having",
                                      "then", "else", "when", "case", "end", "in", "is", "null", "distinct", "all",
                                      "union", "values", "limit", "offset", "returning", "set", "into"};
  size_t j = i, words = 0;
  while (j > 0) {
    size_t k = j - 1;
    if (other_at(t, k, ':') && k > 0 && other_at(t, k - 1, ':') && t[k - 1].end == t[k].begin)
      return j == i ? std::string::npos : j;
    if (word_at(t, k, "as")) return j == i ? std::string::npos : j;
    if (punct_at(t, k, ')')) {
      size_t open = matching_open(t, k);
      if (open == std::string::npos) return std::string::npos;
      j = open;
      continue;
    }
    if (t[k].kind == Token::Kind::kWord) {
      for (const char* w : kStop)
        if (t[k].text == w) return std::string::npos;
      if (++words > 4) return std::string::npos;  // "timestamp with time zone" is the longest
      j = k;
      continue;
    }
    if (other_at(t, k, ']') || other_at(t, k, '[') || t[k].kind == Token::Kind::kQuotedIdent) {
      j = k;
      continue;
    }
    // A column definition, `(name type list` or `, name type list`: the type starts after the
    // name (at least the name and one type word were walked).
    if ((punct_at(t, k, '(') || punct_at(t, k, ',')) && words >= 2) return j + 1;
    return std::string::npos;
  }
  return std::string::npos;
}

// Inside LIST[...] (brackets at open and close), an element written as a bare [...] is a
// nested list: LIST[[1], [2, 3]] is LIST[LIST[1], LIST[2, 3]].
constexpr int kMaxListNesting = 64;  // deeper bare [...] are left to the grammar's error

void rewrite_list_elements(const std::vector<Token>& t, size_t open, size_t close, std::vector<Edit>& edits,
                           int nesting = 1) {
  if (nesting > kMaxListNesting) return;
  bool element_start = true;
  int depth = 0;
  for (size_t k = open + 1; k < close; ++k) {
    if (depth == 0 && element_start && other_at(t, k, '[')) {
      size_t inner = matching_bracket(t, k);
      if (inner == std::string::npos || inner > close) return;
      edits.push_back({t[k].begin, t[k].end, std::string(kListConstructor) + "("});
      rewrite_list_elements(t, k, inner, edits, nesting + 1);
      edits.push_back({t[inner].begin, t[inner].end, ")"});
      k = inner;
      element_start = false;
      continue;
    }
    element_start = false;
    if (punct_at(t, k, '(') || other_at(t, k, '[')) ++depth;
    if (punct_at(t, k, ')') || other_at(t, k, ']')) --depth;
    if (depth == 0 && punct_at(t, k, ',')) element_start = true;
  }
}

}  // namespace

std::optional<std::string> rewrite_mz_list_types(std::string_view sql) {
  std::vector<Token> t;
  try {
    t = tokenize(sql);
  } catch (const SqlError&) {
    return std::nullopt;
  }
  std::vector<Edit> edits;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!word_at(t, i, "list") || i == 0 || punct_at(t, i - 1, ',') || punct_at(t, i - 1, '(')) continue;
    size_t start = list_type_start(t, i);
    if (start == std::string::npos) continue;
    // Only after :: here (the grammar took the statement, so AS and column definitions already
    // meant what PostgreSQL means).
    if (start < 2 || !other_at(t, start - 1, ':') || !other_at(t, start - 2, ':')) continue;
    size_t last = i;
    while (word_at(t, last + 1, "list")) ++last;
    std::string name(sql.substr(t[start].begin, t[i - 1].end - t[start].begin));
    for (size_t k = i; k <= last; ++k) name += " list";
    std::string quoted = "\"";
    for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    edits.push_back({t[start].begin, t[last].end, quoted + "\""});
    i = last;
  }
  if (edits.empty()) return std::nullopt;
  std::string out;
  size_t at = 0;
  for (const Edit& e : edits) {
    out.append(sql.substr(at, e.begin - at));
    out += e.text;
    at = e.end;
  }
  out.append(sql.substr(at));
  return out;
}

std::optional<std::string> rewrite_mz_interval_units(std::string_view sql) {
  std::vector<Token> t;
  try {
    t = tokenize(sql);
  } catch (const SqlError&) {
    return std::nullopt;
  }
  static const std::pair<const char*, const char*> kPlural[] = {
      {"years", "YEAR"}, {"months", "MONTH"}, {"days", "DAY"}, {"hours", "HOUR"}, {"minutes", "MINUTE"}, {"seconds", "SECOND"}};
  // A field word's rank (year 5 .. second 0), -1 for another word.
  auto rank = [&](size_t k) {
    static const char* const kFields[] = {"second", "minute", "hour", "day", "month", "year"};
    for (int r = 0; r < 6; ++r)
      if (word_at(t, k, kFields[r]) || word_at(t, k, std::string(kFields[r]) + "s")) return r;
    return -1;
  };
  std::string out;
  size_t at = 0;
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    if (!word_at(t, i, "interval") || t[i + 1].kind != Token::Kind::kString) continue;
    int hi = rank(i + 2), lo = rank(i + 4);
    std::string_view lit = sql.substr(t[i + 1].begin, t[i + 1].end - t[i + 1].begin);
    if (hi > lo && lo >= 0 && word_at(t, i + 3, "to") && lit.size() >= 2 && lit.front() == '\'' &&
        lit.back() == '\'') {
      // HIGH TO LOW: PostgreSQL's grammar has only seven of these (and no plurals). Like
      // Materialize's planner, the literal is read at once (with the typmod the grammar would
      // give) and replaced by its value's text, which reads back to the same value.
      static const int kBits[] = {kIntervalSecondBit, kIntervalMinuteBit, kIntervalHourBit, kIntervalDayBit,
                                  kIntervalMonthBit,  kIntervalYearBit};
      int32_t range = 0;
      for (int r = lo; r <= hi; ++r) range |= 1 << kBits[r];
      int32_t precision = kIntervalFullPrecision;
      size_t last = i + 4;
      if (lo == 0 && punct_at(t, i + 5, '(') && i + 7 < t.size() && t[i + 6].kind == Token::Kind::kNumber &&
          punct_at(t, i + 7, ')') && t[i + 6].text.size() < 9 &&
          t[i + 6].text.find_first_not_of("0123456789") == std::string::npos) {
        precision = std::stoi(t[i + 6].text);
        if (precision > 6)
          throw SqlError(sqlstate::kInvalidParameterValue,
                         "SECOND precision must be (0, 6), have SECOND(" + std::to_string(precision) + ")");
        last = i + 7;
      }
      std::string text;
      for (size_t k = 1; k + 1 < lit.size(); ++k) {
        text += lit[k];
        if (lit[k] == '\'' && k + 2 < lit.size() && lit[k + 1] == '\'') ++k;
      }
      std::string value;
      format_interval(parse_interval(text, (range << 16) | precision), value);
      out.append(sql.substr(at, t[i].begin - at));
      out += "INTERVAL '" + value + "'";
      at = t[last].end;
      i = last;
      continue;
    }
    for (const auto& [plural, singular] : kPlural)
      if (word_at(t, i + 2, plural)) {
        out.append(sql.substr(at, t[i + 2].begin - at));
        out += singular;
        at = t[i + 2].end;
        break;
      }
  }
  if (at == 0) return std::nullopt;
  out.append(sql.substr(at));
  return out;
}

std::optional<std::string> rewrite_mz_syntax(std::string_view sql) {
  std::vector<Token> t;
  try {
    t = tokenize(sql);
  } catch (const SqlError&) {
    return std::nullopt;  // the grammar's own error is the better one
  }
  std::vector<Edit> edits;
  for (size_t i = 0; i < t.size(); ++i) {
    // WITH (RETAIN HISTORY [=] FOR 'x'), SET (...), RESET (RETAIN HISTORY): a storage option
    // named retain_history, as the grammar reads `WITH (name = value)`.
    if (word_at(t, i, "retain") && word_at(t, i + 1, "history") && i > 0 && (punct_at(t, i - 1, '(') || punct_at(t, i - 1, ','))) {
      size_t j = i + 2;
      if (t.size() > j && t[j].kind == Token::Kind::kOther && t[j].text == "=") ++j;
      if (word_at(t, j, "for")) {
        edits.push_back({t[i].begin, t[j].end, "retain_history ="});
        i = j;
      } else {
        edits.push_back({t[i].begin, t[i + 1].end, "retain_history"});
        i = i + 1;
      }
      continue;
    }
    // CREATE TYPE name AS LIST (ELEMENT TYPE = T): a composite type of one marker field.
    if (word_at(t, i, "create") && word_at(t, i + 1, "type")) {
      size_t j = i + 2;
      while (j < t.size() && !word_at(t, j, "as")) ++j;
      if (word_at(t, j + 1, "list") && punct_at(t, j + 2, '(') && word_at(t, j + 3, "element") && word_at(t, j + 4, "type") &&
          t.size() > j + 5 && t[j + 5].kind == Token::Kind::kOther && t[j + 5].text == "=") {
        size_t close = j + 6;
        for (int depth = 0; close < t.size(); ++close) {
          if (punct_at(t, close, '(')) ++depth;
          if (punct_at(t, close, ')') && depth-- == 0) break;
        }
        if (close < t.size() && close > j + 6) {
          std::string elem(sql.substr(t[j + 6].begin, t[close - 1].end - t[j + 6].begin));
          if (word_at(t, close - 1, "list")) {  // int4 list: one quoted name, as after ::
            std::string quoted = "\"";
            for (char c : elem) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
            elem = quoted + "\"";
          }
          edits.push_back({t[j + 1].begin, t[close].end, "(\"" + std::string(kListElementField) + "\" " + elem + ")"});
          i = close;
          continue;
        }
      }
      if (word_at(t, j + 1, "list") || word_at(t, j + 1, "map"))
        throw SqlError(sqlstate::kFeatureNotSupported,
                       "CREATE TYPE ... AS " + std::string(word_at(t, j + 1, "list") ? "LIST" : "MAP") +
                           " is not supported; write the type out (int4 list)",
                       static_cast<int>(t[i].begin) + 1);
    }
    // LIST[...]: the constructor, as a call.
    if (word_at(t, i, "list") && other_at(t, i + 1, '[') && (i == 0 || !other_at(t, i - 1, '.'))) {
      size_t close = matching_bracket(t, i + 1);
      if (close == std::string::npos) continue;
      // In parentheses: the grammar subscripts a parenthesized call, not a bare one.
      edits.push_back({t[i].begin, t[i + 1].end, "(" + std::string(kListConstructor) + "("});
      rewrite_list_elements(t, i + 1, close, edits);
      edits.push_back({t[close].begin, t[close].end, "))"});
      continue;
    }
    // T list [list ...] after :: or AS: one quoted type name.
    if (word_at(t, i, "list") && i > 0) {
      size_t start = list_type_start(t, i);
      if (start == std::string::npos) continue;
      size_t last = i;
      while (word_at(t, last + 1, "list")) ++last;
      std::string name(sql.substr(t[start].begin, t[i - 1].end - t[start].begin));
      for (size_t k = i; k <= last; ++k) name += " list";
      std::string quoted = "\"";
      for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      quoted += "\"";
      // Edits inside the type (LIST[ never occurs there) are not expected: drop overlapping ones.
      while (!edits.empty() && edits.back().end > t[start].begin) edits.pop_back();
      edits.push_back({t[start].begin, t[last].end, quoted});
      i = last;
      continue;
    }
    // f(args) {IGNORE | RESPECT} NULLS [...] OVER
    if ((word_at(t, i, "ignore") || word_at(t, i, "respect")) && word_at(t, i + 1, "nulls") && i > 0 && punct_at(t, i - 1, ')')) {
      bool ignore = false, respect = false;
      size_t j = i;
      while ((word_at(t, j, "ignore") || word_at(t, j, "respect")) && word_at(t, j + 1, "nulls")) {
        (t[j].text == "ignore" ? ignore : respect) = true;
        j += 2;
      }
      if (!word_at(t, j, "over")) continue;
      if (ignore && respect)
        throw SqlError(sqlstate::kSyntaxError, "Both IGNORE NULLS and RESPECT NULLS were given.", static_cast<int>(t[i].begin) + 1);
      size_t open = matching_open(t, i - 1);
      if (open == std::string::npos || open == 0) continue;
      const Token& name = t[open - 1];
      std::string fname = name.kind == Token::Kind::kWord || name.kind == Token::Kind::kQuotedIdent ? name.text : "";
      if (fname != "lag" && fname != "lead")
        throw SqlError(sqlstate::kFeatureNotSupported,
                       "IGNORE NULLS and RESPECT NULLS options for functions other than LAG and LEAD not yet supported",
                       static_cast<int>(t[i].begin) + 1);
      if (ignore) edits.push_back({name.begin, name.end, "__mz_" + fname + "_ignore_nulls"});
      edits.push_back({t[i].begin, t[j - 1].end, ""});
      i = j - 1;
      continue;
    }
    // INTERVAL 'n' <plural unit>: Materialize takes plural qualifiers.
    if (word_at(t, i, "interval") && i + 2 < t.size() && t[i + 1].kind == Token::Kind::kString &&
        t[i + 2].kind == Token::Kind::kWord) {
      static const char* const kPlural[] = {"years", "months", "days", "hours", "minutes", "seconds"};
      std::string_view lit = sql.substr(t[i + 1].begin, t[i + 1].end - t[i + 1].begin);  // with its quotes
      bool whole = lit.size() >= 3 && lit.front() == '\'' && lit.back() == '\'';
      std::string_view body = whole ? lit.substr(1, lit.size() - 2) : std::string_view();
      if (!body.empty() && (body.front() == '-' || body.front() == '+')) body.remove_prefix(1);
      whole = whole && !body.empty() && body.find_first_not_of("0123456789") == std::string_view::npos;
      for (const char* u : kPlural)
        if (whole && t[i + 2].text == u) {
          // '30 minutes': the unit inside the literal, which needs no qualifier support.
          edits.push_back({t[i + 1].begin, t[i + 2].end,
                           "'" + std::string(lit.substr(1, lit.size() - 2)) + " " + std::string(u) + "'"});
          break;
        }
      continue;
    }
    // current_timestamp(): Materialize calls it like a function; PostgreSQL's grammar takes
    // current_timestamp or current_timestamp(precision) only.
    if (word_at(t, i, "current_timestamp") && punct_at(t, i + 1, '(') && punct_at(t, i + 2, ')') && (i == 0 || !other_at(t, i - 1, '.'))) {
      edits.push_back({t[i + 1].begin, t[i + 2].end, ""});
      i += 2;
      continue;
    }
    // QUALIFY cond, up to the clause that follows at the same depth.
    if (word_at(t, i, "qualify") && i + 1 < t.size()) {
      int depth = 0;
      size_t j = i + 1;
      for (; j < t.size(); ++j) {
        if (punct_at(t, j, '(')) ++depth;
        if (punct_at(t, j, ')') && --depth < 0) break;
        if (depth > 0) continue;
        if (punct_at(t, j, ';')) break;
        if (t[j].kind == Token::Kind::kWord &&
            (t[j].text == "window" || t[j].text == "order" || t[j].text == "limit" || t[j].text == "offset" ||
             t[j].text == "fetch" || t[j].text == "union" || t[j].text == "intersect" || t[j].text == "except" ||
             t[j].text == "for"))
          break;
      }
      if (j == i + 1) continue;
      size_t cond_begin = t[i + 1].begin, cond_end = t[j - 1].end;
      std::string text = "WINDOW " + std::string(kQualifyWindowName) + " AS (PARTITION BY (" +
                         std::string(sql.substr(cond_begin, cond_end - cond_begin)) + "))";
      size_t end = cond_end;
      if (word_at(t, j, "window")) {
        text += ",";
        end = t[j].end;
      }
      edits.push_back({t[i].begin, end, text});
      i = j - 1;
    }
  }
  if (edits.empty()) return std::nullopt;
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  size_t at = 0;
  for (const Edit& e : edits) {
    if (e.begin < at) return std::nullopt;  // overlapping edits: leave the grammar's error
    out.append(sql.substr(at, e.begin - at));
    out += e.text;
    at = e.end;
  }
  out.append(sql.substr(at));
  return out;
}

}  // namespace freshet::sql
