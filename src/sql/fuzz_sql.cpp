// Fuzz target: SQL text through parse, bind, lower, optimize and EXPLAIN's printing, against a
// small fixed catalog; each input also as a token-level (grammar-aware) variant. A user's mistake is a SqlError and is fine; anything else (a crash, a
// sanitizer report, another exception, a failed assertion) is a bug. Nothing is executed,
// but constant folding evaluates constant expressions.
//
// Run in the normal build by the shared driver (src/pgwire/fuzz_driver_main.cpp) over the
// seed corpus (fuzz_corpus/, statements from test/sql and the SQLite corpus) plus bounded
// mutations; under libFuzzer with FRESHET_FUZZ=ON (src/sql/README.md).

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "sql/binder.hpp"
#include "sql/lower.hpp"
#include "sql/mutually_recursive.hpp"
#include "sql/optimize.hpp"
#include "sql/parser.hpp"

namespace {

using namespace freshet;
using namespace freshet::sql;

class FuzzCatalog : public CatalogView {
 public:
  FuzzCatalog() {
    auto table = [&](uint64_t id, const char* name, std::vector<ColumnInfo> cols) {
      ObjectInfo o;
      o.id = id;
      o.oid = static_cast<uint32_t>(16384 + id);
      o.name = name;
      o.columns = std::move(cols);
      objects_.push_back(std::move(o));
    };
    // The SQLite corpus' tables, and a few of every type.
    table(1, "t1", {{"a", TypeId::kInt4}, {"b", TypeId::kInt4}, {"c", TypeId::kInt4}, {"d", TypeId::kInt4}, {"e", TypeId::kInt4}});
    table(2, "t2", {{"a", TypeId::kInt4}, {"b", TypeId::kText}});
    table(3, "nums", {{"i2", TypeId::kInt2}, {"i4", TypeId::kInt4}, {"i8", TypeId::kInt8}, {"n", TypeId::kNumeric},
                      {"f8", TypeId::kFloat8}, {"f4", TypeId::kFloat4}});
    table(4, "texts", {{"s", TypeId::kText}, {"v", TypeId::kVarchar}, {"c", TypeId::kBpchar}, {"b", TypeId::kBytea},
                       {"j", TypeId::kJsonb}, {"a", TypeId::kTextArray}});
    table(5, "times", {{"d", TypeId::kDate}, {"t", TypeId::kTime}, {"ts", TypeId::kTimestamp},
                       {"tz", TypeId::kTimestampTz}, {"iv", TypeId::kInterval}, {"u", TypeId::kUuid}});
    table(6, "edges", {{"src", TypeId::kInt4}, {"dst", TypeId::kInt4}});
    ObjectInfo v;
    v.id = 7;
    v.oid = 16391;
    v.name = "v1";
    v.kind = ObjectKind::kView;
    v.definition_sql = "SELECT a, b + 1 AS c FROM t1 WHERE a > 0";
    v.columns = {{"a", TypeId::kInt4}, {"c", TypeId::kInt4}};
    objects_.push_back(std::move(v));
  }
  const ObjectInfo* lookup(std::string_view, std::string_view name) const override {
    for (const auto& o : objects_)
      if (o.name == name) return &o;
    if (name.empty() || name.size() > 32 || name.starts_with("pg_") || name == "no_such_table" || name == "nope") return nullptr;
    // Any other name is a table with the column names the seeds use most, so that mutated
    // statements get past name resolution into binding and lowering.
    auto it = generic_.find(std::string(name));
    if (it == generic_.end()) {
      ObjectInfo o;
      o.id = 100 + generic_.size();
      o.oid = static_cast<uint32_t>(20000 + generic_.size());
      o.name = std::string(name);
      o.columns = {{"a", TypeId::kInt4},   {"b", TypeId::kText},      {"c", TypeId::kNumeric}, {"d", TypeId::kDate},
                   {"x", TypeId::kInt8},   {"y", TypeId::kFloat8},    {"id", TypeId::kInt4},   {"k", TypeId::kInt4},
                   {"v", TypeId::kText},   {"g", TypeId::kInt4},      {"n", TypeId::kNumeric}, {"s", TypeId::kText},
                   {"ts", TypeId::kTimestamp}, {"j", TypeId::kJsonb}, {"flag", TypeId::kBool}, {"iv", TypeId::kInterval}};
      it = generic_.emplace(std::string(name), std::move(o)).first;
    }
    return &it->second;
  }
  // Between inputs (no ObjectInfo pointer outlives one), so a long run stays bounded.
  void trim() const {
    if (generic_.size() > 1000) generic_.clear();
  }
  const ObjectInfo* lookup_oid(uint32_t oid) const override {
    for (const auto& o : objects_)
      if (o.oid == oid) return &o;
    return nullptr;
  }

 private:
  std::vector<ObjectInfo> objects_;
  mutable std::map<std::string, ObjectInfo> generic_;  // one thread: the fuzz driver's
};

void plan(Binder& b, BoundQuery q) {
  b.finish_params();
  HRelPtr rel = b.relation_of(std::move(q));
  dataflow::RelExpr p = optimize(lower(*rel));
  (void)p.to_string(0);
  // As a one-shot SELECT lowers it too: uncorrelated IN-subqueries as hashed subplans.
  dataflow::RelExpr once = optimize(lower(*rel, LowerOptions{.hashed_subplans = true}));
  (void)once.to_string(0);
}

void one(const std::string& sql) {
  static const FuzzCatalog catalog;
  catalog.trim();
  std::vector<Type> params;
  Binder b(catalog, params);
  if (is_mutually_recursive(sql)) {
    plan(b, b.bind_mutually_recursive(sql));
    return;
  }
  auto tree = ParseTree::parse(sql);
  for (size_t i = 0; i < tree->size(); ++i) {
    const PgQuery__Node* n = tree->statement(i);
    if (n->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) plan(b, b.bind_query(n->select_stmt));
    else if (n->node_case == PG_QUERY__NODE__NODE_VIEW_STMT) plan(b, b.bind_query(n->view_stmt->query->select_stmt));
    else if (n->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT && n->explain_stmt->query->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
      plan(b, b.bind_query(n->explain_stmt->query->select_stmt));
  }
}

// Grammar-aware variants: byte mutations mostly make syntax errors, so each input is also
// split into SQL tokens and mutated at that level (a token replaced by one of SQL's keywords,
// operators, literals, types and subqueries, a span duplicated or nested in parentheses, two
// tokens swapped), deterministically from the input's own hash.
std::vector<std::string> tokens(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t b = i;
    if (c == '\'' || c == '"') {
      ++i;
      while (i < s.size() && s[i] != c) ++i;
      i = std::min(i + 1, s.size());
    } else if (is_word(c)) {
      while (i < s.size() && is_word(s[i])) ++i;
    } else {
      ++i;
      while (i < s.size() && std::string_view("+-*/<>=!|&%^~:@#").find(s[i]) != std::string_view::npos &&
             std::string_view("+-*/<>=!|&%^~:@#").find(c) != std::string_view::npos)
        ++i;
    }
    out.push_back(s.substr(b, i - b));
  }
  return out;
}

const char* const kDictionary[] = {
    "SELECT", "FROM", "WHERE", "GROUP BY", "HAVING", "ORDER BY", "LIMIT", "OFFSET", "UNION ALL", "UNION", "EXCEPT",
    "INTERSECT", "DISTINCT", "DISTINCT ON (a)", "JOIN", "LEFT JOIN", "FULL JOIN", "CROSS JOIN", "LATERAL", "ON",
    "USING (a)", "AND", "OR", "NOT", "IS NULL", "IS NOT DISTINCT FROM", "IN", "EXISTS", "ANY", "ALL", "BETWEEN",
    "CASE WHEN", "THEN", "ELSE", "END", "AS", "WITH", "WITH RECURSIVE", "OVER ()", "FILTER (WHERE a > 0)",
    "(SELECT 1)", "(SELECT a FROM t1)", "(SELECT count(*) FROM t2 WHERE t2.a = t1.a)", "NULL", "true", "0", "-1",
    "2147483647", "-2147483648", "9223372036854775807", "1e308", "0.000000000000000000000000000000000000001",
    "'x'", "''", "'{1,2}'", "'1 day'", "INTERVAL '1' MONTH", "::int", "::numeric(38,2)", "::text", "::float4",
    "::interval", "::text[]", "::jsonb", "::date", "::char(3)", "+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=",
    "(", ")", ",", "count(*)", "sum(a)", "array_agg(a)", "string_agg(b, ',')", "min(b)", "max(a)", "avg(a)",
    "row_number() OVER (PARTITION BY a ORDER BY b)", "generate_series(1, 3)", "unnest(ARRAY[1,2])", "coalesce(a, 0)",
    "nullif(a, 1)", "abs(a)", "length(b)", "repeat('x', 3)", "mz_now()", "t1", "t2", "nums", "texts", "times",
    "edges", "v1", "a", "b", "c", "n", "f8", "s", "j", "iv", "ts",
};

std::string join(const std::vector<std::string>& ts) {
  std::string s;
  for (const auto& t : ts) {
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

std::string token_variant(const std::string& sql, uint64_t h) {
  std::vector<std::string> ts = tokens(sql);
  if (ts.empty()) return {};
  auto next = [&]() {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
  };
  int rounds = 1 + static_cast<int>(next() % 3);
  for (int r = 0; r < rounds && !ts.empty() && ts.size() < 4096; ++r) {
    size_t i = next() % ts.size(), j = next() % ts.size();
    switch (next() % 5) {
      case 0:
      case 1:
        ts[i] = kDictionary[next() % std::size(kDictionary)];
        break;
      case 2:
        ts.insert(ts.begin() + static_cast<std::ptrdiff_t>(i), kDictionary[next() % std::size(kDictionary)]);
        break;
      case 3:
        std::swap(ts[i], ts[j]);
        break;
      case 4: {
        // Duplicate a span, or wrap it in parentheses.
        if (i > j) std::swap(i, j);
        std::vector<std::string> span(ts.begin() + static_cast<std::ptrdiff_t>(i), ts.begin() + static_cast<std::ptrdiff_t>(j + 1));
        if (next() % 2) {
          ts.insert(ts.begin() + static_cast<std::ptrdiff_t>(j + 1), span.begin(), span.end());
        } else {
          ts.insert(ts.begin() + static_cast<std::ptrdiff_t>(j + 1), ")");
          ts.insert(ts.begin() + static_cast<std::ptrdiff_t>(i), "(");
        }
        break;
      }
    }
  }
  return join(ts);
}

void guarded(const std::string& sql) {
  try {
    one(sql);
  } catch (const SqlError&) {
    // The user's mistake: the expected outcome for most mutated inputs.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string sql(reinterpret_cast<const char*>(data), size);
  if (sql.find('\0') != std::string::npos) return 0;  // libpg_query reads a C string
  guarded(sql);
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : sql) h = (h ^ c) * 1099511628211ULL;
  guarded(token_variant(sql, h));
  return 0;
}
