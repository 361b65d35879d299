#include "server/copy.hpp"

#include <algorithm>
#include <set>

#include "common/error.hpp"
#include "sql/parser.hpp"

namespace freshet::server {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// defGetString: a string, a number's text or an identifier.
std::string option_string(const PgQuery__DefElem& d) {
  const PgQuery__Node* a = d.arg;
  if (!a) throw SqlError(sqlstate::kSyntaxError, std::string(d.defname) + " requires a parameter", d.location + 1);
  switch (a->node_case) {
    case PG_QUERY__NODE__NODE_STRING: return a->string->sval;
    case PG_QUERY__NODE__NODE_INTEGER: return std::to_string(a->integer->ival);
    case PG_QUERY__NODE__NODE_BOOLEAN: return a->boolean->boolval ? "true" : "false";
    default: throw SqlError(sqlstate::kSyntaxError, std::string(d.defname) + " requires a parameter", d.location + 1);
  }
}

// defGetBoolean: no argument, true/false/on/off/1/0.
bool option_bool(const PgQuery__DefElem& d) {
  const PgQuery__Node* a = d.arg;
  if (!a) return true;
  if (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN) return a->boolean->boolval;
  if (a->node_case == PG_QUERY__NODE__NODE_INTEGER) {
    if (a->integer->ival == 0) return false;
    if (a->integer->ival == 1) return true;
  } else if (a->node_case == PG_QUERY__NODE__NODE_STRING) {
    std::string v = lower(a->string->sval);
    if (v == "true" || v == "on") return true;
    if (v == "false" || v == "off") return false;
  }
  throw SqlError(sqlstate::kSyntaxError, std::string(d.defname) + " requires a Boolean value", d.location + 1);
}

// One byte, as PostgreSQL's COPY requires of DELIMITER, QUOTE and ESCAPE.
char single_byte(const std::string& v, const char* what) {
  if (v.size() != 1)
    throw SqlError(sqlstate::kFeatureNotSupported, std::string("COPY ") + what + " must be a single one-byte character");
  return v[0];
}

}  // namespace

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void check_copy_source(const PgQuery__CopyStmt& s) {
  if (s.is_program || (s.filename && *s.filename))
    throw SqlError(sqlstate::kFeatureNotSupported, std::string("COPY ") + (s.is_from ? "from" : "to") +
                                                       (s.is_program ? " a program" : " a file") + " is not supported")
        .with_hint(std::string("Use COPY ... ") + (s.is_from ? "FROM STDIN" : "TO STDOUT") +
                   ", or psql's \\copy, to move data through the client.");
  if (s.where_clause) throw SqlError(sqlstate::kFeatureNotSupported, "COPY FROM ... WHERE is not supported");
}

CopySpec copy_spec(const PgQuery__CopyStmt& s, const std::vector<std::string>& columns, std::string relation) {
  CopySpec spec;
  spec.from = s.is_from;
  spec.relation = std::move(relation);
  CopyOptions& o = spec.options;
  std::set<std::string> seen;
  std::optional<std::string> delimiter, null_string, quote, escape;
  const PgQuery__DefElem* force_quote = nullptr;
  const PgQuery__DefElem* force_not_null = nullptr;
  const PgQuery__DefElem* force_null = nullptr;
  for (size_t i = 0; i < s.n_options; ++i) {
    if (s.options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const PgQuery__DefElem& d = *s.options[i]->def_elem;
    std::string name = d.defname;
    if (!seen.insert(name).second) throw SqlError(sqlstate::kSyntaxError, "conflicting or redundant options", d.location + 1);
    if (name == "format") {
      std::string f = lower(option_string(d));
      if (f == "text") o.format = CopyFormat::kText;
      else if (f == "csv") o.format = CopyFormat::kCsv;
      else if (f == "binary") o.format = CopyFormat::kBinary;
      else throw SqlError(sqlstate::kInvalidParameterValue, "COPY format \"" + f + "\" not recognized", d.location + 1);
    } else if (name == "freeze") {
      option_bool(d);  // accepted: every COPY is one transaction anyway
    } else if (name == "delimiter") {
      delimiter = option_string(d);
    } else if (name == "null") {
      null_string = option_string(d);
    } else if (name == "header") {
      if (d.arg && d.arg->node_case == PG_QUERY__NODE__NODE_STRING && lower(d.arg->string->sval) == "match") {
        if (!s.is_from) throw SqlError(sqlstate::kFeatureNotSupported, "cannot use \"match\" with HEADER in COPY TO", d.location + 1);
        o.header = true;  // the header line is skipped, not matched
      } else {
        o.header = option_bool(d);
      }
    } else if (name == "quote") {
      quote = option_string(d);
    } else if (name == "escape") {
      escape = option_string(d);
    } else if (name == "force_quote") {
      force_quote = &d;
    } else if (name == "force_not_null") {
      force_not_null = &d;
    } else if (name == "force_null") {
      force_null = &d;
    } else if (name == "encoding") {
      std::string e = lower(option_string(d));
      if (e != "utf8" && e != "utf-8" && e != "unicode" && e != "sql_ascii")
        throw SqlError(sqlstate::kFeatureNotSupported, "COPY ENCODING \"" + option_string(d) + "\": only UTF8 is supported", d.location + 1);
    } else {
      throw SqlError(sqlstate::kSyntaxError, "option \"" + name + "\" not recognized", d.location + 1);
    }
  }
  const bool binary = o.format == CopyFormat::kBinary, csv = o.format == CopyFormat::kCsv;
  if (binary && delimiter) throw SqlError(sqlstate::kFeatureNotSupported, "cannot specify DELIMITER in BINARY mode");
  if (binary && null_string) throw SqlError(sqlstate::kFeatureNotSupported, "cannot specify NULL in BINARY mode");
  if (binary && o.header) throw SqlError(sqlstate::kFeatureNotSupported, "cannot specify HEADER in BINARY mode");
  if (!csv && quote) throw SqlError(sqlstate::kFeatureNotSupported, "COPY quote available only in CSV mode");
  if (!csv && escape) throw SqlError(sqlstate::kFeatureNotSupported, "COPY escape available only in CSV mode");
  if (!csv && force_quote) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force quote available only in CSV mode");
  if (!csv && force_not_null) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force not null available only in CSV mode");
  if (!csv && force_null) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force null available only in CSV mode");
  if (force_quote && s.is_from) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force quote only available using COPY TO");
  if (force_not_null && !s.is_from) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force not null only available using COPY FROM");
  if (force_null && !s.is_from) throw SqlError(sqlstate::kFeatureNotSupported, "COPY force null only available using COPY FROM");
  if (csv) {
    o.delimiter = ',';
    o.null_string = "";
  }
  if (delimiter) o.delimiter = single_byte(*delimiter, "delimiter");
  if (null_string) o.null_string = *null_string;
  if (quote) o.quote = single_byte(*quote, "quote");
  o.escape = escape ? single_byte(*escape, "escape") : o.quote;
  if (!binary) {
    if (o.delimiter == '\n' || o.delimiter == '\r')
      throw SqlError(sqlstate::kInvalidParameterValue, "COPY delimiter cannot be newline or carriage return");
    if (o.null_string.find_first_of("\r\n") != std::string::npos)
      throw SqlError(sqlstate::kInvalidParameterValue, "COPY null representation cannot use newline or carriage return");
    if (!csv && (o.delimiter == '\\' || std::string_view("abcdefghijklmnopqrstuvwxyz0123456789.").find(
                                            static_cast<char>(std::tolower(static_cast<unsigned char>(o.delimiter)))) !=
                                            std::string_view::npos))
      throw SqlError(sqlstate::kFeatureNotSupported, std::string("COPY delimiter cannot be \"") + o.delimiter + "\"");
    if (csv && o.delimiter == o.quote)
      throw SqlError(sqlstate::kInvalidParameterValue, "COPY delimiter and quote must be different");
    if (o.null_string.find(o.delimiter) != std::string::npos)
      throw SqlError(sqlstate::kInvalidParameterValue, "COPY delimiter character must not appear in the NULL specification");
    if (csv && o.null_string.find(o.quote) != std::string::npos)
      throw SqlError(sqlstate::kFeatureNotSupported, "CSV quote character must not appear in the NULL specification");
  }
  // FORCE_* column lists: names of the data's columns (or * for FORCE_QUOTE).
  auto flags = [&](const PgQuery__DefElem* d, std::vector<bool>& out, const char* what) {
    if (!d) return;
    out.assign(columns.size(), false);
    if (d->arg && d->arg->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      if (&out == &o.force_quote) o.force_quote_all = true;
      else out.assign(columns.size(), true);
      return;
    }
    if (!d->arg || d->arg->node_case != PG_QUERY__NODE__NODE_LIST)
      throw SqlError(sqlstate::kSyntaxError, std::string(d->defname) + " requires a list of column names", d->location + 1);
    for (size_t i = 0; i < d->arg->list->n_items; ++i) {
      const PgQuery__Node* n = d->arg->list->items[i];
      std::string name = n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : "";
      auto it = std::find(columns.begin(), columns.end(), name);
      if (it == columns.end())
        throw SqlError(sqlstate::kInvalidColumnReference, std::string(what) + " column \"" + name + "\" not referenced by COPY");
      out[static_cast<size_t>(it - columns.begin())] = true;
    }
  };
  flags(force_quote, o.force_quote, "FORCE_QUOTE");
  flags(force_not_null, o.force_not_null, "FORCE_NOT_NULL");
  flags(force_null, o.force_null, "FORCE_NULL");
  return spec;
}

namespace {

class CopyToExecution final : public Execution {
 public:
  CopyToExecution(std::unique_ptr<Execution> inner, CopySpec spec) : inner_(std::move(inner)), spec_(std::move(spec)) {}
  const std::vector<Column>& columns() const override { return inner_->columns(); }
  bool fetch(std::vector<Row>& out, size_t max_rows) override {
    size_t before = out.size();
    bool more = inner_->fetch(out, max_rows);
    rows_ += out.size() - before;
    return more;
  }
  std::string command_tag() const override { return "COPY " + std::to_string(rows_); }
  const CopySpec* copy() const override { return &spec_; }

 private:
  std::unique_ptr<Execution> inner_;
  CopySpec spec_;
  uint64_t rows_ = 0;
};

class CopyFromExecution final : public Execution {
 public:
  CopyFromExecution(std::vector<Column> columns, CopySpec spec, uint64_t budget, CopyLoad load, std::function<void()> on_error,
                    const std::atomic<bool>* cancelled)
      : columns_(std::move(columns)), spec_(std::move(spec)), budget_(budget), load_(std::move(load)), on_error_(std::move(on_error)),
        cancelled_(cancelled) {}
  // Dropped before the load: the COPY failed (bad data, CopyFail, a lost connection), which
  // aborts a transaction block as any failed statement does.
  ~CopyFromExecution() override {
    if (!loaded_ && !failed_) on_error_();
  }
  const std::vector<Column>& columns() const override { return columns_; }
  const CopySpec* copy() const override { return &spec_; }

  void copy_in(std::vector<Row>& rows) override {
    check_cancelled();
    // The rows are all-or-nothing, so they are held until the end: bounded by the query's
    // memory budget (the row bytes plus the vector's and string's overhead).
    for (const Row& r : rows) bytes_ += r.bytes().size() + sizeof(Row) + 16;
    if (bytes_ > budget_) {
      failed_ = true;
      on_error_();
      throw SqlError(sqlstate::kOutOfMemory, "COPY FROM exceeds the query memory budget")
          .with_detail("The budget is " + std::to_string(budget_ >> 20) +
                       " MB; COPY FROM holds every row until the end of the data, so that the load is all or nothing.")
          .with_hint("Split the input into smaller COPYs, or raise query_memory_budget_mb.");
    }
    if (rows_.empty()) rows_ = std::move(rows);
    else rows_.insert(rows_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
    rows.clear();
  }

  bool fetch(std::vector<Row>&, size_t) override {
    if (!loaded_) {
      check_cancelled();
      try {
        count_ = load_(rows_);
      } catch (...) {
        failed_ = true;
        on_error_();
        throw;
      }
      loaded_ = true;
      rows_.clear();
      rows_.shrink_to_fit();
    }
    return false;
  }
  std::string command_tag() const override { return "COPY " + std::to_string(count_); }

 private:
  void check_cancelled() {
    if (cancelled_ && cancelled_->load()) {
      failed_ = true;
      on_error_();
      throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
    }
  }
  std::vector<Column> columns_;
  CopySpec spec_;
  uint64_t budget_;
  CopyLoad load_;
  std::function<void()> on_error_;
  std::vector<Row> rows_;
  uint64_t bytes_ = 0;
  uint64_t count_ = 0;
  bool loaded_ = false;
  bool failed_ = false;
  const std::atomic<bool>* cancelled_;
};

}  // namespace

std::unique_ptr<Execution> make_copy_to(std::unique_ptr<Execution> inner, CopySpec spec) {
  return std::make_unique<CopyToExecution>(std::move(inner), std::move(spec));
}

std::unique_ptr<Execution> make_copy_from(std::vector<Column> columns, CopySpec spec, uint64_t memory_budget_bytes,
                                          CopyLoad load, std::function<void()> on_error,
                                          const std::atomic<bool>* cancelled) {
  return std::make_unique<CopyFromExecution>(std::move(columns), std::move(spec), memory_budget_bytes, std::move(load),
                                             std::move(on_error), cancelled);
}

}  // namespace freshet::server
