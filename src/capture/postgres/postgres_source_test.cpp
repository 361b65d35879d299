// Integration test of the PostgreSQL connector against a real PostgreSQL 15 that the test
// starts itself: initdb in /tmp (as the pgtest user when run as root; initdb refuses root),
// wal_level=logical, a loopback port and a socket directory in /tmp. The connector runs into
// a MapSink that keeps key -> row per table; the test drives random INSERT/UPDATE/DELETE
// upstream (multi-statement transactions, rollbacks) and checks that the sink equals the
// upstream tables once both are at the same point, across a crash-like restart of the
// connector (replayed transactions skipped: exactly once), a clean restart, and a restart
// of the upstream server (reconnect). Then the error cases. If PostgreSQL cannot start, the
// test fails; nothing is skipped. PG_BIN overrides /usr/lib/postgresql/15/bin.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "capture/postgres/change_decoder.hpp"
#include "capture/postgres/postgres_source.hpp"

namespace freshet::capture::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kSessionOptions =
    "-c datestyle=ISO,MDY -c intervalstyle=postgres -c timezone=UTC -c extra_float_digits=3 -c bytea_output=hex";

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Runs a shell command as the PostgreSQL OS user (root cannot run initdb).
int run_as_pg(const std::string& cmd) {
  std::string full = geteuid() == 0 ? "su pgtest -s /bin/sh -c " + sh_quote(cmd) : "/bin/sh -c " + sh_quote(cmd);
  return std::system(full.c_str());
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

// One PostgreSQL cluster in a directory of its own.
class Cluster {
 public:
  Cluster(std::string dir, std::string wal_level) : dir_(std::move(dir)), wal_level_(std::move(wal_level)) {
    port_ = free_port();
  }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  std::string sock() const { return dir_ + "/sock"; }

  bool init(const std::string& bin) {
    bin_ = bin;
    std::filesystem::create_directories(sock());
    if (geteuid() == 0) std::system(("chown -R pgtest " + sh_quote(dir_)).c_str());
    return run_as_pg(bin_ + "/initdb -D " + dir_ + "/data -U postgres -E UTF8 --locale=C --auth-local=trust " +
                     "--auth-host=scram-sha-256 --no-sync > " + dir_ + "/initdb.log 2>&1") == 0;
  }
  // A copy of another (stopped) cluster's data directory.
  bool copy_from(const Cluster& other, const std::string& bin) {
    bin_ = bin;
    std::filesystem::create_directories(sock());
    if (geteuid() == 0) std::system(("chown -R pgtest " + sh_quote(dir_)).c_str());
    return run_as_pg("cp -a " + other.dir() + "/data " + dir_ + "/data") == 0;
  }
  bool start() {
    std::string opts = "-p " + std::to_string(port_) + " -k " + sock() +
                       " -c listen_addresses=127.0.0.1 -c wal_level=" + wal_level_ +
                       " -c max_replication_slots=16 -c max_wal_senders=16 -c fsync=off -c full_page_writes=off";
    return run_as_pg(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o " + sh_quote(opts) +
                     " start > /dev/null") == 0;
  }
  bool stop(const char* mode = "fast") {
    return run_as_pg(bin_ + "/pg_ctl -D " + dir_ + "/data -m " + mode + " -w stop > /dev/null 2>&1") == 0;
  }
  bool restart() {
    return stop() && start();
  }
  // A superuser connection over the Unix socket (trust).
  Conn admin(const std::string& db = "postgres") const {
    std::string ci = "host=" + sock() + " port=" + std::to_string(port_) + " user=postgres dbname=" + db +
                     " options='" + kSessionOptions + "'";
    Conn c(PQconnectdb(ci.c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }
  std::string log() const {
    std::ifstream in(dir_ + "/server.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  std::string dir_;
  std::string wal_level_;
  std::string bin_;
  int port_ = 0;
};

bool exec_ok(PGconn* c, const std::string& sql, std::string* error = nullptr) {
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok && error) *error = PQresultErrorMessage(r);
  PQclear(r);
  return ok;
}

void exec(PGconn* c, const std::string& sql) {
  std::string err;
  ASSERT_TRUE(exec_ok(c, sql, &err)) << sql << ": " << err;
}

// ---- the sink ----

class MapSink : public SourceSink {
 public:
  Status set_schemas(const std::vector<TableSchema>& tables) override {
    std::lock_guard lock(mu_);
    if (!schemas_.empty() && schemas_.size() != tables.size()) return Status::error("schemas changed");
    schemas_ = tables;
    rows_.resize(tables.size());
    upserts_.resize(tables.size());
    return Status::ok();
  }
  Status apply(Transaction txn) override {
    std::unique_lock lock(mu_);
    if (!txn.snapshot) {
      if (fail_streamed_at_ > 0 && ++streamed_seen_ >= fail_streamed_at_) {
        fail_streamed_at_ = 0;
        return Status::error("simulated crash before the transaction was durable");
      }
      // Exactly once: every streamed transaction is past the last durable position.
      if (!(txn.position > position_)) order_violations_.push_back(position_ + " then " + txn.position);
      if (txn.commit_time_ms == 0 && !txn.changes.empty()) order_violations_.push_back("no commit time");
    } else {
      snapshot_txns_++;
    }
    for (auto& [t, why] : txn.stopped_tables) stopped_[t] = why;
    for (auto& c : txn.changes) {
      if (c.table >= rows_.size()) return Status::error("bad table index");
      auto& m = rows_[c.table];
      if (c.op == Change::Op::kUpsert) {
        m[std::string(c.key.bytes())] = std::string(c.value.bytes());
        upserts_[c.table]++;
      } else {
        m.erase(std::string(c.key.bytes()));
      }
    }
    position_ = txn.position;
    applied_++;
    last_apply_ = Clock::now();
    cv_.notify_all();
    return Status::ok();
  }
  void report(const SourceStatus& s) override {
    std::lock_guard lock(mu_);
    status_ = s;
    states_.push_back(s.state + (s.last_error.empty() ? "" : ": " + s.last_error));
    cv_.notify_all();
  }

  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  int table(const std::string& name) {
    for (size_t i = 0; i < schemas_.size(); ++i) {
      if (schemas_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TableSchema> schemas_;
  std::vector<std::map<std::string, std::string>> rows_;
  std::vector<uint64_t> upserts_;
  std::string position_;
  std::vector<std::string> order_violations_;
  std::map<uint32_t, std::string> stopped_;  // tables whose capture stopped
  std::vector<std::string> states_;
  SourceStatus status_;
  uint64_t applied_ = 0;
  uint64_t snapshot_txns_ = 0;
  Clock::time_point last_apply_;
  int fail_streamed_at_ = 0;
  int streamed_seen_ = 0;
};

// The upstream table as the sink would hold it, read in the connector's text formats.
std::map<std::string, std::string> upstream_rows(PGconn* c, const TableSchema& t) {
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "\"" : ", \"") + col.name + "\"";
  std::string sql = "SELECT " + cols + " FROM \"" + t.upstream_schema + "\".\"" + t.upstream_name + "\"";
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  CapturedTable ct;
  ct.schema = t;
  std::map<std::string, std::string> out;
  Arena arena;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::optional<std::string_view>> vals;
    for (int j = 0; j < PQnfields(r); ++j) {
      if (PQgetisnull(r, i, j)) vals.emplace_back(std::nullopt);
      else vals.emplace_back(std::string_view(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))));
    }
    Row value, key;
    Status s = decode_row(ct, vals, arena, value, key);
    EXPECT_TRUE(s.is_ok()) << s.message();
    out[std::string(key.bytes())] = std::string(value.bytes());
  }
  PQclear(r);
  return out;
}

// ---- the fixture: one cluster for the whole suite ----

class PostgresSourceTest : public testing::Test {
 public:
  static void SetUpTestSuite() {
    const char* bin = std::getenv("PG_BIN");
    bin_ = bin ? bin : "/usr/lib/postgresql/15/bin";
    base_ = "/tmp/freshet_pgcdc_" + std::to_string(::getpid());
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
    cluster_ = std::make_unique<Cluster>(base_ + "/main", "logical");
    ASSERT_TRUE(cluster_->init(bin_)) << "initdb failed (is PostgreSQL 15 installed in " << bin_
                                      << " and does the pgtest user exist?); see " << base_ << "/main/initdb.log";
    replica_ = std::make_unique<Cluster>(base_ + "/replica", "replica");
    ASSERT_TRUE(replica_->copy_from(*cluster_, bin_));
    ASSERT_TRUE(cluster_->start()) << "PostgreSQL did not start: " << cluster_->log();
    Conn c = cluster_->admin();
    exec(c.get(), "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'secret'");
    exec(c.get(), "CREATE ROLE norepl LOGIN PASSWORD 'secret'");
    exec(c.get(), "CREATE DATABASE shop OWNER repl");
  }
  static void TearDownTestSuite() {
    if (cluster_) cluster_->stop("immediate");
    if (replica_) replica_->stop("immediate");
    cluster_.reset();
    replica_.reset();
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(base_);
  }

 protected:
  static PostgresSourceOptions options(const std::string& publication, const std::string& source_id) {
    PostgresSourceOptions o;
    o.host = "127.0.0.1";
    o.port = static_cast<uint16_t>(cluster_->port());
    o.database = "shop";
    o.user = "repl";
    o.password = "secret";
    o.sslmode = SslMode::kDisable;
    o.publication = publication;
    o.slot_name = slot_name_for_source(source_id);
    o.connect_timeout_s = 5;
    o.reconnect_backoff_initial_ms = 50;
    o.reconnect_backoff_max_ms = 1000;
    return o;
  }
  static Conn shop() { return cluster_->admin("shop"); }

  static std::string bin_;
  static std::string base_;
  static std::unique_ptr<Cluster> cluster_;
  static std::unique_ptr<Cluster> replica_;
};

std::string PostgresSourceTest::bin_;
std::string PostgresSourceTest::base_;
std::unique_ptr<Cluster> PostgresSourceTest::cluster_;
std::unique_ptr<Cluster> PostgresSourceTest::replica_;

// Random changes over the captured tables, as SQL.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  std::string random_txn() {
    int n = 1 + static_cast<int>(rng_() % 5);
    std::string sql = "BEGIN;";
    for (int i = 0; i < n; ++i) sql += statement() + ";";
    sql += (rng_() % 10 == 0) ? "ROLLBACK;" : "COMMIT;";
    return sql;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::string item_values(int id) {
    static const char* names[] = {"'apple'", "'pear'", "NULL", "'tab\there'", "'quote''s'", "'ünïcödé'", "''"};
    static const char* floats[] = {"1.5", "-0.25", "'NaN'", "'Infinity'", "1e300", "0.1", "NULL"};
    static const char* times[] = {"'2024-01-31 12:00:00+00'", "'1999-12-31 23:59:59.123456+05:30'", "'infinity'",
                                  "now()", "NULL"};
    static const char* json[] = {"'{\"a\": [1, 2, {\"b\": null}]}'", "'[]'", "'\"x\"'", "'{\"k\":1, \"k\":2}'", "NULL"};
    static const char* ivs[] = {"'1 year 2 mons 3 days 04:05:06'", "'-1 day'", "'00:00:00.5'", "NULL"};
    return std::to_string(id) + ", " + names[pick(7)] + ", " + std::to_string(pick(100000)) + "." +
           std::to_string(pick(100)) + ", " + std::to_string(static_cast<int64_t>(rng_())) + ", " + floats[pick(7)] +
           ", " + floats[pick(6)] + ", " + std::to_string(pick(60000) - 30000) + ", " + (pick(2) ? "true" : "false") +
           ", " + times[pick(5)] + ", '2020-02-" + std::to_string(1 + pick(28)) + "', '12:34:" +
           std::to_string(10 + pick(49)) + ".5', '2021-06-01 10:00:00.1239', " + ivs[pick(4)] +
           ", gen_random_uuid(), " + json[pick(5)] + ", " + json[pick(5)] + ", '\\x" + std::to_string(pick(1000000)) +
           "', 'vc" + std::to_string(pick(100)) + "', 'ab', " + std::to_string(pick(100000)) + ", '10.0.0." +
           std::to_string(pick(255)) + "'";
  }
  std::string statement() {
    switch (pick(12)) {
      case 0:
      case 1: {
        int id = 1 + pick(300);
        return "INSERT INTO items VALUES (" + item_values(id) + ") ON CONFLICT (id) DO NOTHING";
      }
      case 2: return "UPDATE items SET name = 'u" + std::to_string(pick(1000)) + "', price = price + 1 WHERE id = " +
                     std::to_string(1 + pick(300));
      case 3: return "DELETE FROM items WHERE id = " + std::to_string(1 + pick(300));
      case 4:  // a key change
        return "UPDATE items SET id = " + std::to_string(1000 + next_id_++) + " WHERE id = " +
               std::to_string(1 + pick(300));
      case 5: return "INSERT INTO pairs VALUES (" + std::to_string(pick(20)) + ", 'b" + std::to_string(pick(20)) +
                     "', 'v') ON CONFLICT DO NOTHING";
      case 6: return "UPDATE pairs SET b = b || 'x', v = 'moved' WHERE a = " + std::to_string(pick(20)) +
                     " AND length(b) < 6";
      case 7: return "DELETE FROM pairs WHERE a = " + std::to_string(pick(20));
      case 8: return "INSERT INTO fullt VALUES (" + std::to_string(next_id_++) + ", 'y')";
      case 9: return "UPDATE fullt SET y = y || 'z' WHERE x % 7 = " + std::to_string(pick(7));
      case 10:  // large values (TOASTed out of line), then updates that leave them unchanged
        return pick(2) ? "INSERT INTO docs VALUES (" + std::to_string(pick(30)) +
                             ", 0, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200))) "
                             "ON CONFLICT (id) DO UPDATE SET n = docs.n + 1"
                       : "UPDATE docs SET n = n + 1 WHERE id = " + std::to_string(pick(30));
      default: return "INSERT INTO log (v) VALUES (" + std::to_string(pick(1000)) + ")";
    }
  }
  std::mt19937_64 rng_;
  int next_id_ = 0;
};

void run_workload(Workload& w, PGconn* c, int txns) {
  for (int i = 0; i < txns; ++i) {
    std::string err;
    std::string sql = w.random_txn();
    if (!exec_ok(c, sql, &err)) {
      // A transaction can fail (e.g. a key change onto an existing key): roll it back.
      exec_ok(c, "ROLLBACK");
    }
  }
}

// Commits a marker and waits until the sink has it: then the sink is at the upstream's
// current point (the workload is quiescent) and the two must be equal.
void sync_and_compare(MapSink& sink, PGconn* c, int round) {
  exec(c, "UPDATE marker SET n = " + std::to_string(round) + " WHERE id = 1");
  int mt = sink.table("marker");
  ASSERT_GE(mt, 0);
  Conn ignore;
  auto expected = upstream_rows(c, sink.schemas_[static_cast<size_t>(mt)]);
  ASSERT_TRUE(sink.wait([&] { return sink.rows_[static_cast<size_t>(mt)] == expected; }, 30s))
      << "the sink did not catch up; last status: " << sink.status_.state << " " << sink.status_.last_error;
  std::lock_guard lock(sink.mu_);
  for (size_t t = 0; t < sink.schemas_.size(); ++t) {
    auto up = upstream_rows(c, sink.schemas_[t]);
    EXPECT_EQ(sink.rows_[t].size(), up.size()) << "table " << sink.schemas_[t].name << " round " << round;
    EXPECT_TRUE(sink.rows_[t] == up) << "table " << sink.schemas_[t].name << " differs in round " << round;
  }
  EXPECT_TRUE(sink.order_violations_.empty()) << sink.order_violations_.front();
}

TEST_F(PostgresSourceTest, SnapshotStreamingRestartsExactlyOnce) {
  Conn c = shop();
  exec(c.get(), R"(
    CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty int8, f8 float8, f4 real,
      s smallint, active bool, created timestamptz, d date, t time, ts timestamp(3), iv interval, u uuid,
      j jsonb, j2 json, b bytea, vc varchar(20), bc char(5), o oid, addr inet);
    CREATE TABLE pairs (a int, b text, v text, PRIMARY KEY (a, b));
    CREATE TABLE fullt (x int, y text);
    ALTER TABLE fullt REPLICA IDENTITY FULL;
    CREATE TABLE docs (id int PRIMARY KEY, n int, body text);
    ALTER TABLE docs REPLICA IDENTITY FULL;
    CREATE TABLE log (id bigserial PRIMARY KEY, v int);
    CREATE TABLE marker (id int PRIMARY KEY, n int);
    INSERT INTO marker VALUES (1, 0);
    CREATE TABLE not_published (id int PRIMARY KEY);
    CREATE PUBLICATION pub_main FOR TABLE items, pairs, fullt, docs, log, marker;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO repl;
  )");
  Workload w(42);
  run_workload(w, c.get(), 150);  // rows for the snapshot

  MapSink sink;
  PostgresSourceOptions o = options("pub_main", "main");
  o.snapshot_batch_rows = 64;
  o.status_interval_ms = 60'000;  // so that a crash leaves the slot behind: replays to skip
  auto src = std::make_unique<PostgresSource>(o);
  Status s = src->start(sink, std::nullopt);
  ASSERT_TRUE(s.is_ok()) << s.message();
  ASSERT_EQ(sink.schemas_.size(), 6u);
  EXPECT_EQ(sink.schemas_[static_cast<size_t>(sink.table("pairs"))].key, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(sink.schemas_[static_cast<size_t>(sink.table("fullt"))].key, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(sink.schemas_[static_cast<size_t>(sink.table("items"))].columns[20].type, Type(TypeId::kText));
  ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "running"; })) << sink.status_.last_error;
  EXPECT_GT(sink.snapshot_txns_, 1u);
  EXPECT_EQ(sink.status_.snapshot_rows_done, sink.status_.snapshot_rows_total);
  EXPECT_EQ(sink.position_.find(':'), std::string::npos);  // the last snapshot txn: a bare LSN
  sync_and_compare(sink, c.get(), 1);

  // Round 2: streaming.
  run_workload(w, c.get(), 150);
  sync_and_compare(sink, c.get(), 2);
  EXPECT_GT(src->stats().transactions_applied, 50u);

  // Round 3: a crash (apply fails before the transaction is durable), restart from the
  // durable position; the slot replays what was applied but not confirmed.
  sink.fail_streamed_at_ = 20;
  sink.streamed_seen_ = 0;
  run_workload(w, c.get(), 100);
  ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "error"; })) << sink.status_.state;
  EXPECT_NE(sink.status_.last_error.find("simulated crash"), std::string::npos);
  src->stop();
  src = std::make_unique<PostgresSource>(o);
  s = src->start(sink, sink.position_);
  ASSERT_TRUE(s.is_ok()) << s.message();
  sync_and_compare(sink, c.get(), 3);
  // START_REPLICATION asks for the durable position, so PostgreSQL itself resumes past what
  // is durable; the connector's own skip (unit-tested in pgoutput_test.cpp) is the guard for
  // a slot that sends from further back. Either way nothing arrives twice:
  EXPECT_TRUE(sink.order_violations_.empty());

  // Round 4: a clean stop while the upstream keeps writing, and a restart.
  src->stop();
  EXPECT_EQ(sink.status_.state, "stopped");
  run_workload(w, c.get(), 100);
  o.status_interval_ms = 500;
  src = std::make_unique<PostgresSource>(o);
  s = src->start(sink, sink.position_);
  ASSERT_TRUE(s.is_ok()) << s.message();
  sync_and_compare(sink, c.get(), 4);

  // Round 5: the upstream restarts under the connector.
  run_workload(w, c.get(), 50);
  c.reset();
  ASSERT_TRUE(cluster_->restart()) << cluster_->log();
  c = shop();
  run_workload(w, c.get(), 50);
  sync_and_compare(sink, c.get(), 5);
  EXPECT_GE(src->stats().reconnects, 1u);
  EXPECT_EQ(sink.status_.state, "running");

  // Exactly once: the insert-only log table got one upsert per row, over all the restarts.
  {
    int lt = sink.table("log");
    PGresult* r = PQexec(c.get(), "SELECT count(*) FROM log");
    uint64_t rows = std::stoull(PQgetvalue(r, 0, 0));
    PQclear(r);
    std::lock_guard lock(sink.mu_);
    EXPECT_EQ(sink.upserts_[static_cast<size_t>(lt)], rows);
  }
  // The slot is confirmed up to the durable position, never past it.
  std::this_thread::sleep_for(700ms);
  {
    PGresult* r = PQexec(c.get(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'freshet_main'");
    ASSERT_EQ(PQntuples(r), 1);
    auto confirmed = parse_lsn(PQgetvalue(r, 0, 0));
    PQclear(r);
    std::lock_guard lock(sink.mu_);
    EXPECT_EQ(confirmed, parse_lsn(sink.position_));
  }

  // Latency: commit upstream -> apply(), one row at a time under light load.
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) {
    uint64_t before;
    {
      std::lock_guard lock(sink.mu_);
      before = sink.applied_;
    }
    auto t0 = Clock::now();
    exec(c.get(), "INSERT INTO log (v) VALUES (" + std::to_string(i) + ")");
    ASSERT_TRUE(sink.wait([&] { return sink.applied_ > before; }, 5s));
    std::lock_guard lock(sink.mu_);
    ms.push_back(std::chrono::duration<double, std::milli>(sink.last_apply_ - t0).count());
    std::this_thread::sleep_for(10ms);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("commit -> apply latency over %zu single-row transactions: p50 %.2f ms, p90 %.2f ms, max %.2f ms\n",
              ms.size(), ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back());
  EXPECT_LT(ms[ms.size() / 2], 100.0);

  src->stop();
  { Status d = drop_replication_slot(o); ASSERT_TRUE(d.is_ok()) << d.message(); }
}

TEST_F(PostgresSourceTest, SchemaChangeAndTruncateAreReported) {
  Conn c = shop();
  exec(c.get(), R"(
    CREATE TABLE ddl1 (id int PRIMARY KEY, v text);
    CREATE TABLE trunc1 (id int PRIMARY KEY, v text);
    CREATE PUBLICATION pub_ddl FOR TABLE ddl1;
    CREATE PUBLICATION pub_trunc FOR TABLE trunc1;
    GRANT SELECT ON ddl1, trunc1 TO repl;
    INSERT INTO ddl1 VALUES (1, 'a');
    INSERT INTO trunc1 VALUES (1, 'a');
  )");
  {
    MapSink sink;
    PostgresSource src(options("pub_ddl", "ddl"));
    ASSERT_TRUE(src.start(sink, std::nullopt).is_ok());
    ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "running"; }));
    exec(c.get(), "INSERT INTO ddl1 VALUES (2, 'b')");
    ASSERT_TRUE(sink.wait([&] { return sink.rows_[0].size() == 2; }));
    exec(c.get(), "ALTER TABLE ddl1 ADD COLUMN extra int DEFAULT 7; INSERT INTO ddl1 VALUES (3, 'c', 8)");
    // Only that table stops; the source keeps running.
    ASSERT_TRUE(sink.wait([&] { return sink.stopped_.count(0) > 0; }));
    EXPECT_NE(sink.stopped_[0].find("schema of table public.ddl1 changed upstream"), std::string::npos) << sink.stopped_[0];
    EXPECT_EQ(sink.status_.state, "running");
    EXPECT_EQ(sink.rows_[0].size(), 2u);  // nothing mis-decoded was applied
    src.stop();
    { Status d = drop_replication_slot(options("pub_ddl", "ddl")); ASSERT_TRUE(d.is_ok()) << d.message(); }
  }
  {
    MapSink sink;
    PostgresSource src(options("pub_trunc", "trunc"));
    ASSERT_TRUE(src.start(sink, std::nullopt).is_ok());
    ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "running"; }));
    exec(c.get(), "TRUNCATE trunc1");
    ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "error"; }));
    EXPECT_NE(sink.status_.last_error.find("table public.trunc1 was truncated upstream"), std::string::npos)
        << sink.status_.last_error;
    src.stop();
    { Status d = drop_replication_slot(options("pub_trunc", "trunc")); ASSERT_TRUE(d.is_ok()) << d.message(); }
  }
}

TEST_F(PostgresSourceTest, ErrorsAtStart) {
  Conn c = shop();
  exec(c.get(), R"(
    CREATE TABLE nokey (a int, b text);
    CREATE TABLE secret (id int PRIMARY KEY);
    CREATE TABLE okt (id int PRIMARY KEY);
    CREATE PUBLICATION pub_nokey FOR TABLE nokey;
    CREATE PUBLICATION pub_secret FOR TABLE secret;
    CREATE PUBLICATION pub_ok FOR TABLE okt;
    GRANT SELECT ON nokey, okt TO repl;
    GRANT SELECT ON okt TO norepl;
  )");
  auto start_error = [](PostgresSourceOptions o, std::optional<std::string> pos = std::nullopt) {
    MapSink sink;
    PostgresSource src(std::move(o));
    Status s = src.start(sink, std::move(pos));
    src.stop();
    return s.is_ok() ? std::string("OK") : s.message();
  };
  auto expect_error = [&](PostgresSourceOptions o, const std::string& want,
                          std::optional<std::string> pos = std::nullopt) {
    std::string got = start_error(std::move(o), std::move(pos));
    EXPECT_NE(got.find(want), std::string::npos) << "want: " << want << "\ngot:  " << got;
  };

  expect_error(options("nope", "e1"), "publication \"nope\" does not exist");
  expect_error(options("pub_nokey", "e2"), "table public.nokey has no primary key and REPLICA IDENTITY is not FULL");
  expect_error(options("pub_secret", "e3"), "cannot SELECT from table public.secret");
  auto wrong = options("pub_ok", "e4");
  wrong.password = "wrong";
  expect_error(wrong, "password authentication failed for user \"repl\"");
  auto norepl = options("pub_ok", "e5");
  norepl.user = "norepl";
  expect_error(norepl, "user norepl may not use replication");
  auto unreachable = options("pub_ok", "e6");
  unreachable.port = static_cast<uint16_t>(free_port());
  expect_error(unreachable, "Connection refused");
  auto listed = options("pub_ok", "e7");
  listed.tables = {{"public", "nokey", ""}};
  expect_error(listed, "table public.nokey is not in publication \"pub_ok\"");
  expect_error(options("pub_ok", "e8"), "replication slot freshet_e8 does not exist upstream", "00000000/01000000");
  expect_error(options("pub_ok", "e9"), "snapshot of this source was interrupted", "00000000/01000000:snapshot");

  // A table listed with a new name.
  {
    auto o = options("pub_ok", "e10");
    o.tables = {{"public", "okt", "renamed"}};
    MapSink sink;
    PostgresSource src(o);
    ASSERT_TRUE(src.start(sink, std::nullopt).is_ok());
    EXPECT_EQ(sink.schemas_.at(0).name, "renamed");
    EXPECT_EQ(sink.schemas_.at(0).upstream_name, "okt");
    ASSERT_TRUE(sink.wait([&] { return sink.status_.state == "running"; }));
    src.stop();
    { Status d = drop_replication_slot(o); ASSERT_TRUE(d.is_ok()) << d.message(); }
  }

  // wal_level = replica, on a copy of the cluster.
  ASSERT_TRUE(replica_->start()) << replica_->log();
  auto o = options("pub_ok", "e11");
  o.port = static_cast<uint16_t>(replica_->port());
  o.database = "postgres";
  o.user = "postgres";
  o.host = replica_->sock();
  expect_error(o, "wal_level is 'replica'; set wal_level = logical in postgresql.conf and restart");
  replica_->stop();
}

}  // namespace
}  // namespace freshet::capture::postgres
