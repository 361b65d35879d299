#include "server/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <stdlib.h>

#include "common/error.hpp"
#include "common/format.hpp"
#include "dataflow/workers.hpp"
#include "server/coordinator.hpp"
#include "server/kafka_backend.hpp"

namespace freshet::server {
namespace {

std::string make_temp_dir() {
  char t[] = "/tmp/freshet-session-test-XXXXXX";
  return mkdtemp(t);
}

// Runs every statement of sql on s; returns the last one's rows as "a|b" lines.
std::vector<std::string> run_on(Session& s, const std::string& sql) {
  std::vector<std::string> out;
  for (const auto& text : s.split(sql)) {
    out.clear();
    auto ps = s.prepare(text, {});
    auto ex = s.execute(ps, {});
    std::vector<Row> rows;
    while (ex->fetch(rows, 0)) {
    }
    for (const auto& r : rows) {
      std::string line;
      auto ds = r.unpack();
      for (size_t i = 0; i < ds.size(); ++i) line += (i ? "|" : "") + (ds[i].is_null() ? std::string("NULL") : format_datum(ds[i], ex->columns()[i].type));
      out.push_back(line);
    }
  }
  return out;
}

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() : dir_(make_temp_dir()), coord_(CoordinatorOptions{dir_, {}}), session_(coord_, SessionOptions{}) {}
  ~SessionTest() override { std::filesystem::remove_all(dir_); }

  // Runs every statement of sql; returns the last one's rows as "a|b" lines.
  std::vector<std::string> run(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& text : session_.split(sql)) {
      out.clear();
      PreparedStatement ps = session_.prepare(text, {});
      auto ex = session_.execute(ps, {});
      std::vector<Row> rows;
      while (ex->fetch(rows, 0)) {
      }
      for (const auto& r : rows) {
        std::string line;
        auto ds = r.unpack();
        for (size_t i = 0; i < ds.size(); ++i) {
          if (i) line += "|";
          line += ds[i].is_null() ? "NULL" : format_datum(ds[i], ex->columns()[i].type);
        }
        out.push_back(line);
      }
      last_tag_ = ex->command_tag();
    }
    return out;
  }
  std::string error_of(const std::string& sql) {
    try {
      run(sql);
    } catch (const SqlError& e) {
      return e.sqlstate();
    }
    return "";
  }

  std::string dir_;
  Coordinator coord_;
  Session session_;
  std::string last_tag_;
};

using V = std::vector<std::string>;

TEST_F(SessionTest, SelectConstants) {
  EXPECT_EQ(run("SELECT 1 + 2, 'a' || 'b', NULL"), V({"3|ab|NULL"}));
  EXPECT_EQ(last_tag_, "SELECT 1");
}

TEST_F(SessionTest, TableRoundTrip) {
  run("CREATE TABLE t (a int PRIMARY KEY, b text NOT NULL DEFAULT 'x', c numeric(10,2))");
  run("INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', NULL)");
  run("INSERT INTO t (a) VALUES (3)");
  EXPECT_EQ(run("SELECT a, b, c FROM t ORDER BY a"), V({"1|one|1.50", "2|two|NULL", "3|x|NULL"}));
  EXPECT_EQ(run("UPDATE t SET c = c * 2 WHERE a = 1 RETURNING c"), V({"3.00"}));
  run("DELETE FROM t WHERE b = 'two'");
  EXPECT_EQ(run("SELECT count(*), sum(a) FROM t"), V({"2|4"}));
  EXPECT_EQ(error_of("INSERT INTO t VALUES (1, 'dup', 0)"), "23505");
  EXPECT_EQ(error_of("INSERT INTO t (b) VALUES ('no key')"), "23502");
}

TEST_F(SessionTest, JoinsAndAggregates) {
  run("CREATE TABLE a (id int, x int); CREATE TABLE b (id int, y text)");
  run("INSERT INTO a VALUES (1, 10), (2, 20), (3, 30); INSERT INTO b VALUES (1, 'p'), (1, 'q'), (4, 'r')");
  EXPECT_EQ(run("SELECT a.id, y FROM a JOIN b ON a.id = b.id ORDER BY y"), V({"1|p", "1|q"}));
  EXPECT_EQ(run("SELECT a.id, y FROM a LEFT JOIN b USING (id) ORDER BY 1, 2"), V({"1|p", "1|q", "2|NULL", "3|NULL"}));
  EXPECT_EQ(run("SELECT id, y FROM a FULL JOIN b USING (id) ORDER BY 1, 2"),
            V({"1|p", "1|q", "2|NULL", "3|NULL", "4|r"}));
  EXPECT_EQ(run("SELECT id, count(*) FROM b GROUP BY id HAVING count(*) > 1"), V({"1|2"}));
  EXPECT_EQ(run("SELECT count(*) FROM a WHERE x > 100"), V({"0"}));
}

TEST_F(SessionTest, CorrelatedSubqueries) {
  run("CREATE TABLE t1 (a int, b int); INSERT INTO t1 VALUES (1, 5), (2, 3), (3, 9), (4, NULL)");
  EXPECT_EQ(run("SELECT a, (SELECT count(*) FROM t1 AS x WHERE x.b < t1.b) FROM t1 ORDER BY a"),
            V({"1|1", "2|0", "3|2", "4|0"}));
  EXPECT_EQ(run("SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t1 AS x WHERE x.b > t1.b) ORDER BY a"), V({"1", "2"}));
  EXPECT_EQ(run("SELECT a FROM t1 WHERE b IN (SELECT b FROM t1 WHERE b > 4) ORDER BY a"), V({"1", "3"}));
  EXPECT_EQ(run("SELECT a FROM t1 WHERE a NOT IN (SELECT b FROM t1) ORDER BY a"), V({}));
  EXPECT_EQ(run("SELECT (SELECT max(b) FROM t1)"), V({"9"}));
}

TEST_F(SessionTest, SetOperationsAndCtes) {
  EXPECT_EQ(run("SELECT 1 UNION SELECT 1 UNION ALL SELECT 2 ORDER BY 1"), V({"1", "2"}));
  EXPECT_EQ(run("VALUES (1), (1), (2) EXCEPT ALL VALUES (1) ORDER BY 1"), V({"1", "2"}));
  EXPECT_EQ(run("VALUES (1), (1), (2) INTERSECT VALUES (1), (1) ORDER BY 1"), V({"1"}));
  EXPECT_EQ(run("WITH c AS (SELECT 5 AS v) SELECT v * 2 FROM c"), V({"10"}));
}

TEST_F(SessionTest, Errors) {
  EXPECT_EQ(error_of("SELEC 1"), "42601");
  EXPECT_EQ(error_of("SELECT * FROM nope"), "42P01");
  EXPECT_EQ(error_of("SELECT nope"), "42703");
  EXPECT_EQ(error_of("SELECT 1/0"), "22012");
  EXPECT_EQ(error_of("SELECT 2147483647 + 1"), "22003");
  EXPECT_EQ(error_of("SELECT 1 + 'a'::text"), "42883");
}

TEST_F(SessionTest, Transactions) {
  run("CREATE TABLE t (a int)");
  run("BEGIN; INSERT INTO t VALUES (1)");
  EXPECT_EQ(run("SELECT count(*) FROM t"), V({"1"}));
  run("ROLLBACK");
  EXPECT_EQ(run("SELECT count(*) FROM t"), V({"0"}));
  run("BEGIN; INSERT INTO t VALUES (2); COMMIT");
  EXPECT_EQ(run("SELECT a FROM t"), V({"2"}));
}

TEST_F(SessionTest, IndexedViewIsMaintained) {
  run("CREATE TABLE s (id int PRIMARY KEY, cust int, amount numeric)");
  run("INSERT INTO s VALUES (1, 1, 10), (2, 1, 30), (3, 2, 5)");
  run("CREATE VIEW totals AS SELECT cust, sum(amount) AS total, count(*) AS n FROM s GROUP BY cust");
  run("CREATE INDEX totals_cust ON totals (cust)");
  EXPECT_EQ(run("SELECT cust, total, n FROM totals ORDER BY cust"), V({"1|40|2", "2|5|1"}));
  run("INSERT INTO s VALUES (4, 2, 7)");
  run("UPDATE s SET amount = 100 WHERE id = 1");
  run("DELETE FROM s WHERE id = 2");
  EXPECT_EQ(run("SELECT total, n FROM totals WHERE cust = 1"), V({"100|1"}));
  EXPECT_EQ(run("SELECT total, n FROM totals WHERE cust = 2"), V({"12|2"}));
  EXPECT_EQ(run("SELECT records > 0 FROM mz_arrangement_sizes WHERE object_name = 'totals'"), V({"t"}));
  EXPECT_EQ(error_of("DROP TABLE s"), "2BP01");
  EXPECT_EQ(run("SHOW INDEXES"), V({"totals_cust|totals|default|{cust}|"}));
  run("DROP VIEW totals CASCADE");
  run("DROP TABLE s");
}

// A read of an indexed view waits only for the steps that change its inputs
// (Coordinator::State::skip_idle_steps): with the dataflows paused (bench/nexmark.sh's hook) and
// a write to another view's input queued, a lookup in an index over a quiet table answers at
// once; it used to wait until a driver had stepped its view through that step too.
TEST_F(SessionTest, ReadOfQuietIndexDoesNotWaitForOtherDataflows) {
  run("CREATE TABLE busy (id int PRIMARY KEY, v int); CREATE TABLE quiet (id int PRIMARY KEY, v int)");
  run("INSERT INTO quiet VALUES (1, 10), (2, 20)");
  run("CREATE VIEW busy_v AS SELECT count(*) AS n FROM busy; CREATE INDEX ON busy_v (n)");
  run("CREATE VIEW quiet_v AS SELECT id, v FROM quiet; CREATE INDEX ON quiet_v (id)");
  run("ALTER SYSTEM SET unsafe_pause_dataflows = on");
  run("INSERT INTO busy VALUES (1, 1), (2, 2)");
  std::atomic<bool> answered{false};
  std::vector<std::string> got;
  std::thread reader([&] {
    Session s(coord_, SessionOptions{});
    got = run_on(s, "SELECT v FROM quiet_v WHERE id = 2");
    answered = true;
  });
  for (int i = 0; i < 500 && !answered.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(answered.load()) << "the read of quiet_v waited for the paused dataflow of busy_v";
  run("ALTER SYSTEM SET unsafe_pause_dataflows = off");  // lets a waiting read go either way
  reader.join();
  EXPECT_EQ(got, V({"20"}));
  EXPECT_EQ(run("SELECT n FROM busy_v"), V({"2"}));
}

// Issue 9's memory goal for arranged rows: an indexed view's arrangement (mz_arrangement_sizes'
// arrangement_bytes: the row arena, the hash set over it, the index) per row, against the
// rows' own encoded size. Rows like Nexmark's bids (three bigints, two texts; about 80 bytes
// encoded), 500 rows per index key. src/server/README.md ("Hydration") has the figures.
TEST_F(SessionTest, IndexArrangementCloseToEncodedSize) {
  run("CREATE TABLE b (auction bigint, bidder bigint, price bigint, channel text, url text)");
  run("INSERT INTO b SELECT i % 40, i, i * 7, 'channel-' || (i % 7), 'https://www.nexmark.com/item.htm?query=' || i "
      "FROM generate_series(1, 20000) i");
  run("CREATE VIEW q0 AS SELECT auction, bidder, price, channel, url FROM b");
  run("CREATE INDEX q0_auction ON q0 (auction)");
  size_t encoded = 0, rows = 0;
  {
    auto ps = session_.prepare("SELECT * FROM q0", {});
    auto ex = session_.execute(ps, {});
    std::vector<Row> out;
    while (ex->fetch(out, 0)) {
    }
    for (const auto& r : out) encoded += r.size_bytes();
    rows = out.size();
  }
  ASSERT_EQ(rows, 20000u);
  // One change first: the figure must hold after the arena grows, not only right after the
  // hydration sized it (a doubling arena was 1.8x its entries here).
  run("INSERT INTO b VALUES (1, 0, 0, 'x', 'y')");
  auto got = run("SELECT records, arrangement_bytes FROM mz_arrangement_sizes WHERE object_name = 'q0'");
  ASSERT_EQ(got.size(), 1u);
  size_t bar = got[0].find('|');
  size_t records = std::stoul(got[0].substr(0, bar)), bytes = std::stoul(got[0].substr(bar + 1));
  EXPECT_EQ(records, 20001u);
  double per_row = static_cast<double>(bytes) / 20000, encoded_per_row = static_cast<double>(encoded) / 20000;
  std::printf("arranged: %.1f bytes per row, encoded %.1f (%.2fx)\n", per_row, encoded_per_row, per_row / encoded_per_row);
  // Issue 9 asks 1.3x: 1-byte multiplicities and varint lengths in 4-byte-aligned entries,
  // 32-bit refs, an index of one ref per key, 64 KiB arena segments reach 1.26x here (82.9
  // bytes; before branch memrow 101.7 bytes, 1.54x; before that 154.1 bytes, 2.34x).
  EXPECT_LE(per_row, 1.3 * encoded_per_row);
  // The arrangement still answers: a point lookup through the index, then after changes.
  EXPECT_EQ(run("SELECT count(*) FROM q0 WHERE auction = 7"), V({"500"}));
  run("DELETE FROM b WHERE bidder <= 10000");
  EXPECT_EQ(run("SELECT count(*) FROM q0 WHERE auction = 7"), V({"250"}));
  EXPECT_EQ(run("SELECT records FROM mz_arrangement_sizes WHERE object_name = 'q0'"), V({"10000"}));
  run("DROP VIEW q0 CASCADE");
  run("DROP TABLE b");
}

// The compact arrangement's corners: multiplicities past its 1-byte counter (kept aside), a
// key's first row retracted while others stay (another becomes the key's first), a key's rows
// all retracted and back, compaction after most rows go, and lookups by every key after each.
TEST_F(SessionTest, IndexArrangementKeepsCountsAndKeys) {
  run("CREATE TABLE t (k int, v text)");
  run("INSERT INTO t SELECT i % 7, 'v' || (i % 3) FROM generate_series(1, 2100) i");
  run("CREATE VIEW dup AS SELECT k, v FROM t");  // 21 rows, each with multiplicity 100
  run("CREATE INDEX dup_k ON dup (k)");
  EXPECT_EQ(run("SELECT count(*) FROM dup WHERE k = 3"), V({"300"}));
  run("INSERT INTO t SELECT 3, 'v1' FROM generate_series(1, 200)");  // 100 -> 300
  EXPECT_EQ(run("SELECT v, count(*) FROM dup WHERE k = 3 GROUP BY v ORDER BY v"), V({"v0|100", "v1|300", "v2|100"}));
  run("DELETE FROM t WHERE k = 3 AND v = 'v1'");
  EXPECT_EQ(run("SELECT v, count(*) FROM dup WHERE k = 3 GROUP BY v ORDER BY v"), V({"v0|100", "v2|100"}));
  EXPECT_EQ(run("SELECT count(*) FROM dup"), V({"2000"}));

  run("CREATE TABLE u (id int, g int, s text)");
  run("INSERT INTO u SELECT i, i % 50, repeat('x', i % 300) FROM generate_series(1, 5000) i");
  run("CREATE VIEW w AS SELECT id, g, s FROM u");
  run("CREATE INDEX w_g ON w (g)");
  run("CREATE INDEX w_id ON w (id)");
  // Every key's rows in insertion order: the first one of each g goes first.
  run("DELETE FROM u WHERE id <= 50");
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE g = 7"), V({"99"}));
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE id = 7"), V({"0"}));
  EXPECT_EQ(run("SELECT g, length(s) FROM w WHERE id = 4321"), V({"21|121"}));
  run("INSERT INTO u SELECT 0, 0, 'big' FROM generate_series(1, 300)");  // one row, multiplicity 300
  // Most rows go (compaction), then a key empties and comes back.
  run("DELETE FROM u WHERE id % 10 <> 0");
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE g = 20"), V({"99"}));
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE id = 0"), V({"300"}));
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE g = 7"), V({"0"}));
  run("DELETE FROM u WHERE g = 20");
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE g = 20"), V({"0"}));
  run("INSERT INTO u VALUES (1, 20, 'a'), (2, 20, 'b')");
  EXPECT_EQ(run("SELECT id, s FROM w WHERE g = 20 ORDER BY id"), V({"1|a", "2|b"}));
  EXPECT_EQ(run("SELECT id FROM w WHERE id = 2"), V({"2"}));
  EXPECT_EQ(run("SELECT count(*), sum(id) FROM w"), V({"698|1002873"}));
  EXPECT_EQ(run("SELECT records FROM mz_arrangement_sizes WHERE object_name = 'w'"), V({"399"}));
  run("DROP VIEW w CASCADE; DROP VIEW dup CASCADE; DROP TABLE u; DROP TABLE t");
}

// The index as per-shard arrangements (src/server/README.md): with three shards a view's
// index is split by its key (EXPLAIN says so), and lookups, scans, count(*), a view over the
// indexed view and a materialized view with an index added later answer as with one.
TEST_F(SessionTest, IndexSplitIntoShardsByItsKey) {
  struct Workers {
    size_t before = dataflow::WorkerPool::default_workers();
    Workers() { dataflow::WorkerPool::configure(3); }
    ~Workers() { dataflow::WorkerPool::configure(before); }
  } workers;
  auto explain = [&](const std::string& sql) {
    std::string all;
    for (const std::string& line : run(sql)) all += line + "\n";
    return all;
  };
  run("CREATE TABLE t (k numeric, g int, v text)");
  run("INSERT INTO t SELECT i % 50, i % 7, 'v' || i FROM generate_series(1, 3000) i");
  run("INSERT INTO t VALUES (1.50, 1, 'a'), (1.5, 1, 'b'), (1.500, 2, 'c')");
  run("CREATE VIEW w AS SELECT k, g, v FROM t");
  run("CREATE INDEX w_k ON w (k)");
  EXPECT_NE(explain("EXPLAIN PLAN FOR INDEX w_k").find("in 3 shards by (k)"), std::string::npos) << explain("EXPLAIN PLAN FOR INDEX w_k");
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE k = 7"), V({"60"}));
  EXPECT_EQ(run("SELECT v FROM w WHERE k = 1.5 ORDER BY v"), V({"a", "b", "c"}));  // one key, one shard
  EXPECT_EQ(run("SELECT count(*), count(DISTINCT k) FROM w"), V({"3003|51"}));
  run("CREATE VIEW over_w AS SELECT g, count(*) AS n FROM w GROUP BY g");
  run("CREATE DEFAULT INDEX ON over_w");
  EXPECT_EQ(run("SELECT n FROM over_w WHERE g = 1"), V({"431"}));
  run("DELETE FROM t WHERE k = 7 OR v = 'b'");
  run("UPDATE t SET k = 1.5 WHERE v = 'v10'");
  EXPECT_EQ(run("SELECT count(*) FROM w WHERE k = 7"), V({"0"}));
  EXPECT_EQ(run("SELECT v FROM w WHERE k = 1.5 ORDER BY v"), V({"a", "c", "v10"}));
  EXPECT_EQ(run("SELECT count(*) FROM w"), V({"2942"}));
  EXPECT_EQ(run("SELECT n FROM over_w WHERE g = 1"), V({"421"}));
  // A second index (on another column: its lookups visit every shard).
  run("CREATE INDEX w_v ON w (v)");
  EXPECT_EQ(run("SELECT k FROM w WHERE v = 'v10'"), V({"1.5"}));
  // A materialized view split by its rows until its first index, then by the index's key.
  run("CREATE MATERIALIZED VIEW mv AS SELECT g, k FROM t WHERE g < 3");
  EXPECT_NE(explain("EXPLAIN PLAN FOR MATERIALIZED VIEW mv").find("in 3 shards by row"), std::string::npos);
  run("CREATE INDEX mv_g ON mv (g)");
  EXPECT_NE(explain("EXPLAIN PLAN FOR MATERIALIZED VIEW mv").find("in 3 shards by (g)"), std::string::npos);
  EXPECT_EQ(run("SELECT count(*) FROM mv WHERE g = 2"), V({"421"}));
  run("INSERT INTO t VALUES (1000, 2, 'z')");
  EXPECT_EQ(run("SELECT count(*) FROM mv WHERE g = 2"), V({"422"}));
  run("DROP MATERIALIZED VIEW mv; DROP VIEW over_w; DROP VIEW w CASCADE; DROP TABLE t");
}

// Hydration's bulk passes split a big input or output into parts run on the workers, at least
// two from 65,536 rows even with one worker (write_path.cpp newest_frozen), and the view's
// arrangement and index per shard (maintained.cpp): the table's frozen copy, the rows' hashes,
// the index's keys and their sort.
// The parts must give what one pass gives: every row with its multiplicity, the rows of a key
// under one key (numeric 1.5 and 1.50 are one key), lookups before and after changes, here
// against the same queries over the table.
TEST_F(SessionTest, BulkHydrationInParts) {
  run("CREATE TABLE big (id int, k numeric, v text)");
  run("INSERT INTO big SELECT i, CASE WHEN i % 2 = 0 THEN (i % 1000)::numeric / 10 "
      "ELSE ((i % 1000)::numeric / 10)::numeric(10, 2) END, 'v' || (i % 5) FROM generate_series(1, 150000) i");
  EXPECT_EQ(run("SELECT count(*), sum(id) FROM big"), V({"150000|11250075000"}));
  run("CREATE VIEW kv AS SELECT k, v FROM big");  // 150,000 updates onto a few thousand rows
  run("CREATE INDEX kv_k ON kv (k)");
  run("CREATE VIEW byid AS SELECT id, k, v FROM big");  // 150,000 keys of one row
  run("CREATE INDEX byid_id ON byid (id)");
  auto check = [&] {
    EXPECT_EQ(run("SELECT count(*) FROM kv"), run("SELECT count(*) FROM big"));
    EXPECT_EQ(run("SELECT count(*) FROM byid"), run("SELECT count(*) FROM big"));
    for (const char* k : {"1.5", "1.50", "0", "99.9", "42"}) {
      EXPECT_EQ(run(std::string("SELECT v, count(*) FROM kv WHERE k = ") + k + " GROUP BY v ORDER BY v"),
                run(std::string("SELECT v, count(*) FROM big WHERE k = ") + k + " GROUP BY v ORDER BY v"))
          << k;
    }
    for (const char* id : {"1", "2", "77777", "149999", "150000"}) {
      EXPECT_EQ(run(std::string("SELECT id, k, v FROM byid WHERE id = ") + id),
                run(std::string("SELECT id, k, v FROM big WHERE id = ") + id))
          << id;
    }
  };
  EXPECT_EQ(run("SELECT count(*) FROM kv WHERE k = 1.5"), V({"150"}));
  EXPECT_EQ(run("SELECT count(*) FROM byid WHERE id = 77777"), V({"1"}));
  check();
  run("DELETE FROM big WHERE id % 3 = 0");
  check();
  run("INSERT INTO big SELECT i, 1.500, 'new' FROM generate_series(150001, 150100) i");
  check();
  run("DROP VIEW kv CASCADE");
  run("DROP VIEW byid CASCADE");
  run("DROP TABLE big");
}

// A view that is a map/filter/project of one table hydrates from the chain evaluated over the
// table's rows under write_mu (Maintained::root_scan, write_path.cpp mapped_table_rows), in
// parts from 65,536 rows: read from the table's map (its frozen copy stale) or from the frozen
// copy (current after a one-shot scan). Both must give what the one-shot query over the table
// gives, with repeated rows' multiplicities, and keep being maintained; an error of the chain
// fails the CREATE INDEX and leaves the table writable.
TEST_F(SessionTest, ProjectionOfATableHydratesFromTheTable) {
  run("CREATE TABLE big (id int, k int, v text)");
  run("INSERT INTO big SELECT i, i % 97, 'v' || (i % 5) FROM generate_series(1, 100000) i");
  run("INSERT INTO big SELECT i, i % 97, 'v' || (i % 5) FROM generate_series(1, 3000) i");  // repeated rows
  const char* q = "SELECT k * 2 + 1 AS k2, v, id FROM big WHERE k % 3 <> 1";
  const char* check_sql = "SELECT count(*), sum(k2), sum(id), count(DISTINCT v) FROM ";
  auto check = [&](const std::string& view) {
    EXPECT_EQ(run(std::string(check_sql) + view), run(std::string(check_sql) + "(" + q + ") s")) << view;
    EXPECT_EQ(run("SELECT k2, v, id FROM " + view + " WHERE k2 = 11 AND id < 3000 ORDER BY id LIMIT 3"),
              run(std::string("SELECT k2, v, id FROM (") + q + ") s WHERE k2 = 11 AND id < 3000 ORDER BY id LIMIT 3"))
        << view;
  };
  run("DELETE FROM big WHERE id = 1");  // the frozen copy is stale: read from the table's map
  run(std::string("CREATE VIEW m1 AS ") + q);
  run("CREATE INDEX m1_k2 ON m1 (k2)");
  EXPECT_EQ(run("SELECT count(*) FROM m1 WHERE k2 = 11 AND id = 5"), V({"2"}));  // multiplicity 2
  check("m1");
  EXPECT_EQ(run("SELECT count(*) FROM big WHERE v = 'v1'"), V({"20598"}));  // builds the frozen copy
  run(std::string("CREATE VIEW m2 AS ") + q);  // from the current frozen copy
  run("CREATE INDEX m2_k2 ON m2 (k2)");
  EXPECT_EQ(run("SELECT count(*) FROM m2 WHERE k2 = 11 AND id = 5"), V({"2"}));
  check("m2");
  run("DELETE FROM big WHERE id % 10 = 5");
  run("INSERT INTO big VALUES (200000, 5, 'new'), (200000, 5, 'new')");
  check("m1");
  check("m2");
  EXPECT_EQ(run("SELECT count(*) FROM m2 WHERE id = 200000"), V({"2"}));
  // An error of the chain: the CREATE INDEX fails, the table stays writable.
  run("CREATE VIEW bad AS SELECT id, 100 / (k - 42) AS r FROM big");
  EXPECT_EQ(error_of("CREATE INDEX bad_id ON bad (id)"), "22012");
  run("INSERT INTO big VALUES (300000, 2, 'after')");
  EXPECT_EQ(run("SELECT count(*) FROM m1 WHERE id = 300000"), V({"1"}));
  run("DROP VIEW bad; DROP VIEW m1 CASCADE; DROP VIEW m2 CASCADE; DROP TABLE big");
}

TEST_F(SessionTest, ExplainSaysDeltaJoinForMaintainedMultiWayJoins) {
  run("CREATE TABLE p (id int, name text); CREATE TABLE a (id int, seller int); CREATE TABLE b (auction int, price int)");
  run("CREATE VIEW j3 AS SELECT p.name, b.price FROM p JOIN a ON a.seller = p.id JOIN b ON b.auction = a.id");
  run("CREATE VIEW j2 AS SELECT p.name, a.id FROM p JOIN a ON a.seller = p.id");
  auto explain = [&](const std::string& sql) {
    std::string all;
    for (const std::string& line : run(sql)) all += line + "\n";
    return all;
  };
  // Not maintained yet: computed when read, as a chain of binary joins.
  EXPECT_EQ(explain("EXPLAIN PLAN FOR VIEW j3").find("delta join"), std::string::npos);
  run("CREATE DEFAULT INDEX ON j3");
  run("CREATE DEFAULT INDEX ON j2");
  EXPECT_NE(explain("EXPLAIN PLAN FOR VIEW j3").find("Join (delta join)"), std::string::npos);
  EXPECT_NE(explain("EXPLAIN PLAN FOR INDEX j3_primary_idx").find("Join (delta join)"), std::string::npos);
  EXPECT_EQ(explain("EXPLAIN PLAN FOR VIEW j2").find("delta join"), std::string::npos);  // two inputs
  run("INSERT INTO p VALUES (1, 'ann'); INSERT INTO a VALUES (10, 1); INSERT INTO b VALUES (10, 5), (10, 6)");
  EXPECT_EQ(run("SELECT name, price FROM j3 ORDER BY price"), V({"ann|5", "ann|6"}));
  EXPECT_EQ(run("SELECT operator_bytes > 0 FROM mz_arrangement_sizes WHERE object_name = 'j3'"), V({"t"}));
  run("DROP VIEW j3 CASCADE; DROP VIEW j2 CASCADE; DROP TABLE p; DROP TABLE a; DROP TABLE b");
}

TEST_F(SessionTest, FailedDataflowReportsItsError) {
  run("CREATE TABLE t (a int, b int); INSERT INTO t VALUES (4, 2)");
  run("CREATE MATERIALIZED VIEW q AS SELECT a / b AS r FROM t");
  EXPECT_EQ(run("SELECT r FROM q"), V({"2"}));
  run("INSERT INTO t VALUES (1, 0)");  // the write succeeds; the view cannot be maintained
  EXPECT_EQ(error_of("SELECT r FROM q"), "22012");
  run("DROP MATERIALIZED VIEW q");
  run("DELETE FROM t WHERE b = 0");
  run("CREATE MATERIALIZED VIEW q AS SELECT a / b AS r FROM t");
  EXPECT_EQ(run("SELECT r FROM q"), V({"2"}));
}

TEST_F(SessionTest, MzObjectsListsObjectsWithRowsAndTopics) {
  run("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1), (2)");
  run("CREATE VIEW v AS SELECT a FROM t WHERE a > 1");
  run("CREATE INDEX v_a ON v (a)");
  run("CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS c FROM t");
  EXPECT_EQ(run("SELECT name, type, on_name, rows, topic FROM mz_objects ORDER BY name"),
            V({"mv|materialized-view|NULL|NULL|freshet.public.mv", "t|table|NULL|3|freshet.public.t", "v|view|NULL|NULL|NULL",
               "v_a|index|v|NULL|NULL"}));
  run("DELETE FROM t WHERE a = 1");
  EXPECT_EQ(run("SELECT rows FROM mz_objects WHERE name = 't'"), V({"1"}));
  run("CREATE TABLE k (id int PRIMARY KEY); INSERT INTO k VALUES (1), (2)");  // counted in O(1)
  EXPECT_EQ(run("SELECT rows FROM mz_objects WHERE name = 'k'"), V({"2"}));
  run("DROP TABLE k");
  run("DROP MATERIALIZED VIEW mv");
  run("DROP VIEW v CASCADE");
  run("DROP TABLE t");
  EXPECT_EQ(run("SELECT count(*) FROM mz_objects"), V({"0"}));
}

TEST_F(SessionTest, MzKafkaConsumerGroupsShowsCommittedOffsetsAndLag) {
  EXPECT_EQ(run("SELECT count(*) FROM mz_kafka_consumer_groups"), V({"0"}));  // no Kafka API
  run("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  {
    CollectionKafkaBackend kafka(coord_, 1);
    ASSERT_TRUE(kafka.commit_offsets("g1", {{"freshet.public.t", 0, 1, ""}, {"raw_topic", 0, 7, ""}}));
    EXPECT_EQ(run("SELECT group_id, topic, partition, committed_offset, end_offset, lag FROM mz_kafka_consumer_groups ORDER BY topic"),
              V({"g1|freshet.public.t|0|1|3|2", "g1|raw_topic|0|7|NULL|NULL"}));
    run("INSERT INTO t VALUES (4, 'd')");
    EXPECT_EQ(run("SELECT lag FROM mz_kafka_consumer_groups WHERE topic = 'freshet.public.t'"), V({"3"}));
  }
  EXPECT_EQ(run("SELECT count(*) FROM mz_kafka_consumer_groups"), V({"0"}));  // the backend is gone
  run("DROP TABLE t");
}

TEST_F(SessionTest, MaterializedViewAndSubscribeCursor) {
  run("CREATE TABLE t (a int)");
  run("INSERT INTO t VALUES (1), (2)");
  run("CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS c FROM t");
  EXPECT_EQ(run("SELECT c FROM mv"), V({"2"}));
  run("BEGIN");
  run("DECLARE c CURSOR FOR SUBSCRIBE mv");
  auto first = run("FETCH ALL c WITH (timeout = '1s')");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].ends_with("|1|2")) << first[0];
  // A write from another session shows up as a retraction and an insertion.
  Session other(coord_, SessionOptions{});
  auto w = other.prepare("INSERT INTO t VALUES (3)", {});
  other.execute(w, {});
  auto next = run("FETCH ALL c WITH (timeout = '1s')");
  ASSERT_EQ(next.size(), 2u);
  std::sort(next.begin(), next.end());
  EXPECT_TRUE(next[0].ends_with("|-1|2")) << next[0];
  EXPECT_TRUE(next[1].ends_with("|1|3")) << next[1];
  run("COMMIT");
  EXPECT_EQ(run("SHOW MATERIALIZED VIEWS"), V({"mv|default|"}));
}

// Everything comes back after a restart: tables, views, indexes (rebuilt), materialized views.
TEST(SessionRestartTest, StateSurvivesRestart) {
  std::string dir = make_temp_dir();
  auto run = run_on;
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session s(c, {});
    run(s, "CREATE TABLE t (id int PRIMARY KEY, g text, v numeric(8,2)); CREATE TABLE bag (x int)");
    run(s, "INSERT INTO t VALUES (1, 'a', 1.50), (2, 'a', 2.25), (3, 'b', 10); INSERT INTO bag VALUES (7), (7), (8)");
    run(s, "BEGIN; UPDATE t SET v = 3 WHERE id = 1; DELETE FROM bag WHERE x = 8; COMMIT");
    run(s, "CREATE VIEW sums AS SELECT g, sum(v) AS s FROM t GROUP BY g; CREATE INDEX ON sums (g)");
    run(s, "CREATE MATERIALIZED VIEW n AS SELECT count(*) AS c FROM bag");
    run(s, "CREATE SOURCE ctr FROM LOAD GENERATOR COUNTER (TICK INTERVAL '20ms')");
    for (int i = 0; i < 100 && run(s, "SELECT count(*) >= 3 FROM ctr") != std::vector<std::string>{"t"}; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session s(c, {});
    EXPECT_EQ(run(s, "SELECT id, g, v FROM t ORDER BY id"), (std::vector<std::string>{"1|a|3.00", "2|a|2.25", "3|b|10.00"}));
    EXPECT_EQ(run(s, "SELECT x FROM bag"), (std::vector<std::string>{"7", "7"}));
    EXPECT_EQ(run(s, "SELECT s FROM sums WHERE g = 'a'"), (std::vector<std::string>{"5.25"}));
    EXPECT_EQ(run(s, "SELECT c FROM n"), (std::vector<std::string>{"2"}));
    // The counter resumes: no value twice, none skipped.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(run(s, "SELECT count(*) = max(counter) AND min(counter) = 1 FROM ctr"), (std::vector<std::string>{"t"}));
    run(s, "INSERT INTO t VALUES (4, 'b', 1)");
    EXPECT_EQ(run(s, "SELECT s FROM sums WHERE g = 'b'"), (std::vector<std::string>{"11.00"}));
    EXPECT_EQ(run(s, "SHOW SOURCES"), (std::vector<std::string>{"ctr|load-generator|running"}));
  }
  std::filesystem::remove_all(dir);
}


// Transaction blocks with DDL (transaction.hpp): other sessions see nothing before COMMIT;
// COMMIT answers 40001 (and rolls the block back) when another session's DDL got in the way.
TEST(TransactionBlockTest, IsolationAndConflicts) {
  std::string dir = make_temp_dir();
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session a(c, {}), b(c, {});
    auto error_of = [](Session& s, const std::string& sql) -> std::string {
      try {
        run_on(s, sql);
      } catch (const SqlError& e) {
        return e.sqlstate();
      }
      return "";
    };
    run_on(b, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)");
    // Isolation: a's block is its own until COMMIT.
    run_on(a, "BEGIN; CREATE TABLE y (v int); INSERT INTO y VALUES (7); DROP TABLE t");
    EXPECT_EQ(error_of(b, "SELECT * FROM y"), "42P01");
    EXPECT_EQ(run_on(b, "SELECT count(*) FROM t"), (std::vector<std::string>{"2"}));
    EXPECT_EQ(run_on(a, "SELECT v FROM y"), (std::vector<std::string>{"7"}));
    EXPECT_EQ(error_of(a, "SELECT * FROM t"), "42P01");
    EXPECT_EQ(a.transaction_status(), TransactionStatus::kFailed);
    run_on(a, "ROLLBACK");
    EXPECT_EQ(error_of(b, "SELECT * FROM y"), "42P01");
    run_on(a, "BEGIN; CREATE TABLE y (v int); INSERT INTO y VALUES (7); COMMIT");
    EXPECT_EQ(run_on(b, "SELECT v FROM y"), (std::vector<std::string>{"7"}));
    // The name a creates was taken meanwhile.
    run_on(a, "BEGIN; CREATE TABLE x (a int); INSERT INTO x VALUES (1)");
    run_on(b, "CREATE TABLE x (b text)");
    EXPECT_EQ(error_of(a, "COMMIT"), "40001");
    EXPECT_EQ(a.transaction_status(), TransactionStatus::kIdle);
    EXPECT_EQ(run_on(a, "SELECT count(*) FROM x"), (std::vector<std::string>{"0"}));
    // What a drops got a new dependent meanwhile.
    run_on(a, "BEGIN; DROP TABLE t");
    run_on(b, "CREATE VIEW tv AS SELECT id FROM t");
    EXPECT_EQ(error_of(a, "COMMIT"), "40001");
    EXPECT_EQ(run_on(a, "SELECT count(*) FROM tv"), (std::vector<std::string>{"2"}));
    // What a's new view depends on was dropped meanwhile.
    run_on(a, "BEGIN; CREATE VIEW xv AS SELECT b FROM x");
    run_on(b, "DROP TABLE x");
    EXPECT_EQ(error_of(a, "COMMIT"), "40001");
    EXPECT_EQ(error_of(a, "SELECT * FROM xv"), "42P01");
    // Unrelated DDL meanwhile is fine; savepoints undo DDL.
    run_on(a, "BEGIN; CREATE TABLE z (k int); SAVEPOINT s; DROP VIEW tv; ROLLBACK TO s; INSERT INTO z VALUES (5)");
    run_on(b, "CREATE TABLE other (q int)");
    run_on(a, "COMMIT");
    EXPECT_EQ(run_on(b, "SELECT k FROM z"), (std::vector<std::string>{"5"}));
    EXPECT_EQ(run_on(b, "SELECT count(*) FROM tv"), (std::vector<std::string>{"2"}));
    // A ROLLBACK of a DROP keeps the table across a restart (below).
    run_on(a, "BEGIN; DROP VIEW tv; DROP TABLE t; ROLLBACK");
  }
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session s(c, {});
    EXPECT_EQ(run_on(s, "SELECT count(*) FROM tv"), (std::vector<std::string>{"2"}));
    EXPECT_EQ(run_on(s, "SELECT v FROM y"), (std::vector<std::string>{"7"}));
    EXPECT_EQ(run_on(s, "SELECT k FROM z"), (std::vector<std::string>{"5"}));
  }
  std::filesystem::remove_all(dir);
}


// The write path (write_path.hpp) under concurrency: writers evaluate on each other's changes
// (no lost update), keys stay unique across concurrent transactions, a reader never sees a
// table and a view over it at different times, and everything acknowledged survives a restart.
TEST(WritePathTest, ConcurrentWritersAndReaders) {
  std::string dir = make_temp_dir();
  auto run = run_on;
  constexpr int kWriters = 8, kRounds = 60, kKeys = 40;
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session admin(c, {});
    run(admin, "CREATE TABLE ctr (id int PRIMARY KEY, n int NOT NULL); INSERT INTO ctr VALUES (1, 0)");
    run(admin, "CREATE TABLE log (w int, i int); CREATE TABLE uniq (k int PRIMARY KEY, w int)");
    run(admin, "CREATE VIEW tot AS SELECT count(*) AS k FROM log; CREATE INDEX ON tot (k)");
    std::atomic<bool> done{false};
    std::atomic<int> inconsistent{0}, reads{0}, unique_ok{0}, unique_dup{0}, other_errors{0};
    std::thread reader([&] {
      Session s(c, {});
      while (!done.load()) {
        auto r = run(s, "SELECT (SELECT count(*) FROM log) = (SELECT k FROM tot)");
        // Before the first insert the view is empty (no row): the comparison gives no row.
        if (!r.empty() && r[0] != "t") ++inconsistent;
        ++reads;
      }
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        Session s(c, {});
        for (int i = 0; i < kRounds; ++i) {
          try {
            run(s, "UPDATE ctr SET n = n + 1 WHERE id = 1");
            run(s, "INSERT INTO log VALUES (" + std::to_string(w) + ", " + std::to_string(i) + ")");
          } catch (const SqlError& e) {
            ++other_errors;
            ADD_FAILURE() << e.sqlstate() << " " << e.message();
          }
          if (i < kKeys) {
            try {
              run(s, "INSERT INTO uniq VALUES (" + std::to_string(i) + ", " + std::to_string(w) + ")");
              ++unique_ok;
            } catch (const SqlError& e) {
              if (e.sqlstate() == "23505") ++unique_dup;
              else ADD_FAILURE() << e.sqlstate() << " " << e.message();
            }
          }
        }
      });
    for (auto& t : writers) t.join();
    done = true;
    reader.join();
    EXPECT_EQ(other_errors.load(), 0);
    EXPECT_EQ(inconsistent.load(), 0) << "of " << reads.load() << " reads";
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(unique_ok.load(), kKeys);
    EXPECT_EQ(unique_dup.load(), kKeys * (kWriters - 1));
    EXPECT_EQ(run(admin, "SELECT n FROM ctr"), (std::vector<std::string>{std::to_string(kWriters * kRounds)}));
    EXPECT_EQ(run(admin, "SELECT k FROM tot"), (std::vector<std::string>{std::to_string(kWriters * kRounds)}));
    EXPECT_EQ(run(admin, "SELECT count(*), count(DISTINCT k) FROM uniq"),
              (std::vector<std::string>{std::to_string(kKeys) + "|" + std::to_string(kKeys)}));
  }
  {
    Coordinator c(CoordinatorOptions{dir, {}});
    Session s(c, {});
    EXPECT_EQ(run(s, "SELECT n FROM ctr"), (std::vector<std::string>{std::to_string(kWriters * kRounds)}));
    EXPECT_EQ(run(s, "SELECT count(*) FROM log"), (std::vector<std::string>{std::to_string(kWriters * kRounds)}));
    EXPECT_EQ(run(s, "SELECT count(*) FROM uniq"), (std::vector<std::string>{std::to_string(kKeys)}));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace freshet::server
