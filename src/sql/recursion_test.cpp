// Binding and lowering of recursion (WITH RECURSIVE, WITH MUTUALLY RECURSIVE) and temporal
// filters (mz_now()), run through the dataflow once and incrementally.
#include <gtest/gtest.h>

#include <map>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/render.hpp"
#include "dataflow/test_util.hpp"
#include "sql/binder.hpp"
#include "sql/lower.hpp"
#include "sql/mutually_recursive.hpp"
#include "sql/optimize.hpp"

namespace freshet::sql {
namespace {

using namespace dataflow;
using Strings = std::vector<std::string>;
using Rows = std::vector<std::pair<Row, int64_t>>;

constexpr uint64_t kSales = 10, kEdges = 11;

class TestCatalog : public CatalogView {
 public:
  TestCatalog() {
    ObjectInfo sales;
    sales.id = kSales;
    sales.name = "sales";
    sales.columns = {{"sale_id", TypeId::kInt4},      {"product_id", TypeId::kInt4}, {"customer_id", TypeId::kInt4},
                     {"sale_date", TypeId::kTimestamp}, {"quantity", TypeId::kInt4},   {"unit_price", TypeId::kNumeric},
                     {"total_price", TypeId::kNumeric}};
    objects_.push_back(sales);
    ObjectInfo edges;
    edges.id = kEdges;
    edges.name = "edges";
    edges.columns = {{"src", TypeId::kInt4}, {"dst", TypeId::kInt4}};
    objects_.push_back(edges);
  }
  const ObjectInfo* lookup(std::string_view, std::string_view name) const override {
    for (const auto& o : objects_)
      if (o.name == name) return &o;
    return nullptr;
  }
  const ObjectInfo* lookup_oid(uint32_t) const override { return nullptr; }

 private:
  std::vector<ObjectInfo> objects_;
};

class RecursionSqlTest : public ::testing::Test {
 protected:
  RecursionSqlTest() { ctx.arena = &arena; }

  BoundQuery bind(const std::string& sql) {
    std::vector<Type> params;
    Binder b(catalog, params);
    if (is_mutually_recursive(sql)) return b.bind_mutually_recursive(sql);
    auto tree = ParseTree::parse(sql);
    const PgQuery__Node* n = tree->statement(0);
    if (n->node_case == PG_QUERY__NODE__NODE_VIEW_STMT) return b.bind_query(n->view_stmt->query->select_stmt);
    return b.bind_query(n->select_stmt);
  }
  RelExpr plan(const std::string& sql) {
    BoundQuery q = bind(sql);
    RelExpr p = optimize(lower(*q.rel));
    std::vector<uint32_t> cols;
    for (uint32_t i = 0; i < q.column_names.size(); ++i) cols.push_back(i);
    return testing::project(std::move(p), cols);
  }
  Strings run(const std::string& sql) {
    SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [r, d] : tables[id]) emit(r, d);
    };
    return testing::show(run_oneshot(plan(sql), snap, ctx));
  }
  std::string error(const std::string& sql) {
    try {
      run(sql);
    } catch (const SqlError& e) {
      return e.sqlstate() + " " + e.message();
    }
    return "no error";
  }
  void edge(int a, int b, int64_t diff = 1) { tables[kEdges].push_back({testing::ints({a, b}), diff}); }

  TestCatalog catalog;
  std::map<uint64_t, Rows> tables;
  Arena arena;
  EvalContext ctx;
};

TEST_F(RecursionSqlTest, WithRecursive) {
  EXPECT_EQ(run("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r"), Strings{"15 x1"});
  edge(1, 2), edge(2, 3), edge(3, 1), edge(7, 8);
  EXPECT_EQ(run("WITH RECURSIVE reach(node) AS (SELECT 1 UNION SELECT e.dst FROM edges e JOIN reach r ON e.src = r.node) SELECT node FROM reach"),
            (Strings{"1 x1", "2 x1", "3 x1"}));
  // Several CTEs, one recursive reading an earlier one; the recursive one read twice.
  EXPECT_EQ(run("WITH RECURSIVE s AS (SELECT 2 AS k), r(n) AS (SELECT k FROM s UNION ALL SELECT n * k FROM r, s WHERE n < 16) "
                "SELECT a.n FROM r a JOIN r b ON a.n = b.n * 2"),
            (Strings{"16 x1", "4 x1", "8 x1"}));
  // Not recursive after all.
  EXPECT_EQ(run("WITH RECURSIVE t(x) AS (SELECT 1 UNION SELECT 2) SELECT x FROM t"), (Strings{"1 x1", "2 x1"}));
}

TEST_F(RecursionSqlTest, WithRecursiveErrors) {
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT n FROM r) SELECT * FROM r"),
            "42P19 recursive query \"r\" does not have the form non-recursive-term UNION [ALL] recursive-term");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT n FROM r UNION ALL SELECT 1) SELECT * FROM r"),
            "42P19 recursive reference to query \"r\" must not appear within its non-recursive term");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT a.n FROM r a, r b) SELECT * FROM r"),
            "42P19 recursive reference to query \"r\" must not appear more than once");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT count(*) FROM r) SELECT * FROM r"),
            "42P19 aggregate functions are not allowed in a recursive query's recursive term");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT src FROM edges LEFT JOIN r ON src = n) SELECT * FROM r"),
            "42P19 recursive reference to query \"r\" must not appear within an outer join");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT 2 WHERE EXISTS (SELECT * FROM r)) SELECT * FROM r"),
            "42P19 recursive reference to query \"r\" must not appear within a subquery");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1.5 FROM r WHERE n < 3) SELECT * FROM r"),
            "42804 recursive query \"r\" column 1 has type integer in non-recursive term but type numeric overall");
  EXPECT_EQ(error("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r").substr(0, 58),
            "54000 Evaluation error: Recursive query exceeded the recur");
}

TEST_F(RecursionSqlTest, MutuallyRecursive) {
  EXPECT_TRUE(is_mutually_recursive(" /* c */ WITH MUTUALLY RECURSIVE a (x int) AS (SELECT 1) SELECT * FROM a"));
  EXPECT_FALSE(is_mutually_recursive("WITH RECURSIVE a AS (SELECT 1) SELECT * FROM a"));
  EXPECT_EQ(find_mutually_recursive("CREATE VIEW v AS WITH MUTUALLY RECURSIVE a (x int) AS (SELECT 1) SELECT * FROM a"), 17u);
  EXPECT_EQ(run("WITH MUTUALLY RECURSIVE even (n int) AS (SELECT 0 UNION SELECT n + 1 FROM odd WHERE n < 6), "
                "odd (n int) AS (SELECT n + 1 FROM even WHERE n < 6) SELECT n FROM even"),
            (Strings{"0 x1", "2 x1", "4 x1", "6 x1"}));
  // The iteration stops at the limit: after 3 iterations r = {1, 2, 3}.
  EXPECT_EQ(run("WITH MUTUALLY RECURSIVE (RETURN AT RECURSION LIMIT 3) r (n int) AS (SELECT 1 UNION SELECT n + 1 FROM r) SELECT n FROM r"),
            (Strings{"1 x1", "2 x1", "3 x1"}));
  EXPECT_EQ(error("WITH MUTUALLY RECURSIVE (ERROR AT RECURSION LIMIT 3) r (n int) AS (SELECT 1 UNION SELECT n + 1 FROM r) SELECT n FROM r"),
            "54000 Evaluation error: Recursive query exceeded the recursion limit 3. (Use RETURN AT RECURSION LIMIT to not "
            "error, but return the current state as the final result when reaching the limit.)");
  EXPECT_EQ(error("WITH MUTUALLY RECURSIVE r (n int) AS (SELECT 'a'::text) SELECT n FROM r"),
            "42804 WITH MUTUALLY RECURSIVE query \"r\" declared types (integer), but query returns types (text)");
  EXPECT_EQ(error("WITH MUTUALLY RECURSIVE r AS (SELECT 1) SELECT 1").substr(0, 5), "42601");
  EXPECT_EQ(run("WITH MUTUALLY RECURSIVE foo (a int, b int) AS (SELECT 1, 2 UNION SELECT a, 7 FROM bar), "
                "bar (a int) AS (SELECT a FROM foo) SELECT * FROM bar"),
            Strings{"1 x2"});
  // Shortest distances with min(): not monotone, not expressible in WITH RECURSIVE.
  edge(1, 2), edge(2, 3), edge(3, 4), edge(1, 4), edge(4, 1), edge(5, 6);
  EXPECT_EQ(run("WITH MUTUALLY RECURSIVE dist (node int, d int) AS (SELECT node, min(d) FROM "
                "(SELECT 1 AS node, 0 AS d UNION ALL SELECT dst, d + 1 FROM dist JOIN edges ON src = node) c GROUP BY node) "
                "SELECT node, d FROM dist"),
            (Strings{"1,0 x1", "2,1 x1", "3,2 x1", "4,1 x1"}));
}

TEST_F(RecursionSqlTest, IncrementalWithRecursive) {
  RelExpr p = plan("WITH RECURSIVE reach(node) AS (SELECT 1 UNION SELECT e.dst FROM edges e JOIN reach r ON e.src = r.node) SELECT node FROM reach");
  testing::Incremental df(p);
  df.feed(kEdges, {{testing::ints({1, 2}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1 x1", "2 x1"}));
  df.feed(kEdges, {{testing::ints({2, 3}), 1}, {testing::ints({3, 1}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"3 x1"}));
  df.feed(kEdges, {{testing::ints({1, 2}), -1}});
  EXPECT_EQ(df.step(3), (Strings{"2 x-1", "3 x-1"}));
}

TEST_F(RecursionSqlTest, MzNowMisuse) {
  auto code = [&](const std::string& sql) { return error(sql).substr(0, 5); };
  for (const char* sql : {
           "SELECT * FROM sales WHERE mz_now() <> sale_date",
           "SELECT * FROM sales WHERE mz_now() + 1 > quantity",
           "SELECT * FROM sales WHERE mz_now() < mz_now()",
           "SELECT mz_now() FROM sales",
           "SELECT count(*) FROM sales GROUP BY mz_now()",
           "SELECT * FROM sales ORDER BY mz_now()",
           "SELECT * FROM sales s JOIN edges e ON mz_now() < s.sale_date",
           "SELECT sum(mz_now()) FROM sales",
       }) {
    EXPECT_EQ(code(sql), "0A000") << sql;
  }
  EXPECT_EQ(code("SELECT * FROM sales WHERE mz_now() > 'abc'::text"), "42883");
  EXPECT_EQ(error("SELECT mz_now() FROM sales"), "0A000 mz_now() is not allowed in SELECT");
  // Allowed.
  ctx.logical_time_ms = 5;
  EXPECT_EQ(run("SELECT mz_now()"), Strings{"5 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() BETWEEN 5 AND 6 AND 1 = 1"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE 4 < mz_now() AND mz_now() < 5.5"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() >= 6"), Strings{});
  EXPECT_EQ(run("SELECT customer_id FROM sales GROUP BY customer_id HAVING mz_now() < max(sale_date) + INTERVAL '1 day'"), Strings{});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() >= DATE '1970-01-01' AND mz_now() < TIMESTAMPTZ '1970-01-01 00:00:00.006+00'"), Strings{"1 x1"});
  // Under OR, NOT, CASE, IN, BETWEEN SYMMETRIC: plain comparisons with the query's time (one-shot
  // only; maintained dataflows refuse them in server/as_of.cpp), milliseconds compared exactly.
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() < 3 OR 1 = 2"), Strings{});
  EXPECT_EQ(run("SELECT 1 WHERE NOT (mz_now() <= 4)"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() NOT BETWEEN 6 AND 7"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() IN (4, 5)"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() BETWEEN SYMMETRIC 9 AND 5"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() <= TIMESTAMPTZ '1970-01-01 00:00:00.0049+00' OR false"), Strings{});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() <= TIMESTAMP '1970-01-01 00:00:00.0050' OR false"), Strings{"1 x1"});
  EXPECT_EQ(run("SELECT 1 WHERE mz_now() > DATE '1970-01-01' OR false"), Strings{"1 x1"});
}

// The seed tutorial's view, verbatim, maintained across the expiry times of its rows.
TEST_F(RecursionSqlTest, SalesAnomaliesExpireOnTime) {
  RelExpr p = plan(
      "create view sales_anomalies as with recent_sales as (select * from sales where mz_now() <= sale_date + interval '7 days'), "
      "rolling_avg as (select customer_id, avg(total_price) as customer_spend_avg from recent_sales group by customer_id) "
      "select a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, s.total_price, s.unit_price "
      "from recent_sales s join rolling_avg a using(customer_id) where s.total_price > 1.5 * a.customer_spend_avg;");
  const int64_t day_ms = 86'400'000;
  const int64_t d0 = 1'704'067'200'000;  // 2024-01-01 00:00:00 UTC
  auto sale = [&](int id, int64_t date_ms, int64_t total) {
    std::vector<Datum> ds = {Datum::from_int(id), Datum::from_int(100 + id), Datum::from_int(1),
                             Datum::from_timestamp(date_ms * 1000 - kUnixToPgEpochMicros), Datum::from_int(1),
                             Datum::from_numeric(numeric_from_int(total)), Datum::from_numeric(numeric_from_int(total))};
    return Row::pack(ds);
  };
  RenderOptions o;
  o.keep_state = true;
  RenderedDataflow r = render(p, o);
  ASSERT_EQ(r.sources.size(), 1u);
  // What changed at t: "sale_id avg xdiff" for each output update.
  auto step = [&](uint64_t t) {
    r.dataflow->step(t, ctx);
    Batch b = r.dataflow->take_output(r.output);
    consolidate(b);
    Strings out;
    for (const Update& u : b) {
      std::vector<Datum> ds;
      u.row.unpack_into(ds);
      std::string avg;
      format_datum(ds[1], Type(TypeId::kNumeric), avg);
      out.push_back(std::to_string(ds[5].as_int()) + " " + avg.substr(0, 5) + " x" + std::to_string(u.diff));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  Batch in;
  for (auto [id, day, total] : std::vector<std::tuple<int, int, int>>{{1, 0, 10}, {2, 1, 100}, {3, 2, 10}, {4, 3, 30}})
    in.push_back(Update{sale(id, d0 + day * day_ms, total), 0, 1});
  r.dataflow->push(r.sources[0].second, std::move(in));
  const uint64_t now = d0 + 3 * day_ms + 3'600'000;
  // avg(10, 100, 10, 30) = 37.5: sale 2 (100 > 56.25) is the anomaly.
  EXPECT_EQ(step(now), (Strings{"2 37.50 x1"}));
  // Sale 1 is valid through d0 + 7 days and gone 1 ms later: the average moves to 46.66.
  EXPECT_EQ(step(d0 + 7 * day_ms), Strings{});
  EXPECT_EQ(step(d0 + 7 * day_ms + 1), (Strings{"2 37.50 x-1", "2 46.66 x1"}));
  // Sale 2 leaves at its own expiry; avg(10, 30) = 20 leaves no anomaly (30 > 30 is false).
  EXPECT_EQ(step(d0 + 8 * day_ms), Strings{});
  EXPECT_EQ(step(d0 + 8 * day_ms + 1), (Strings{"2 46.66 x-1"}));
  // Later rows keep expiring with nothing to show; a new big sale shows up at once.
  EXPECT_EQ(step(d0 + 9 * day_ms + 1), Strings{});
  Batch more;
  more.push_back(Update{sale(5, d0 + 9 * day_ms, 200), 0, 1});
  r.dataflow->push(r.sources[0].second, std::move(more));
  EXPECT_EQ(step(d0 + 9 * day_ms + 2), (Strings{"5 115.0 x1"}));
  EXPECT_EQ(step(d0 + 16 * day_ms + 1), (Strings{"5 115.0 x-1"}));  // avg(30, 200) until 4 expires at day 10
}

}  // namespace
}  // namespace freshet::sql
