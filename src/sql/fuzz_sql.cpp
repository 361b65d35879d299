// Fuzz target: SQL text through parse, bind, lower, optimize and EXPLAIN's printing, against a
// small fixed catalog. A user's mistake is a SqlError and is fine; anything else (a crash, a
// sanitizer report, another exception, a failed assertion) is a bug. Nothing is executed,
// but constant folding evaluates constant expressions.
//
// Run in the normal build by the shared driver (src/pgwire/fuzz_driver_main.cpp) over the
// seed corpus (fuzz_corpus/, statements from test/sql and the SQLite corpus) plus bounded
// mutations; under libFuzzer with FRESHET_FUZZ=ON (src/sql/README.md).

#include <cstddef>
#include <cstdint>
#include <string>
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
    return nullptr;
  }
  const ObjectInfo* lookup_oid(uint32_t oid) const override {
    for (const auto& o : objects_)
      if (o.oid == oid) return &o;
    return nullptr;
  }

 private:
  std::vector<ObjectInfo> objects_;
};

void plan(Binder& b, BoundQuery q) {
  b.finish_params();
  dataflow::RelExpr p = optimize(lower(*b.relation_of(std::move(q))));
  (void)p.to_string(0);
}

void one(const std::string& sql) {
  static const FuzzCatalog catalog;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string sql(reinterpret_cast<const char*>(data), size);
  if (sql.find('\0') != std::string::npos) return 0;  // libpg_query reads a C string
  try {
    one(sql);
  } catch (const SqlError&) {
    // The user's mistake: the expected outcome for most mutated inputs.
  }
  return 0;
}
