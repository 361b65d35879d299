// Integration test of SqlServerSource against the TDS emulator (test/sqlserver_emulator/),
// which the test starts itself on free loopback ports; FreeTDS is the real client. Fails,
// never skips, when the emulator cannot start. Its path is the first argument (CMake passes
// it).
//
// What it proves, at the connector's own seam (no coordinator): the sink sees every upstream
// transaction exactly once — an insert-only audit table gets each id exactly once across
// simulated crashes (apply fails before durability, then a new source resumes from the last
// durable position) and emulator restarts (kill -9, journal replayed) — positions strictly
// increase, every transaction is one __$start_lsn, and the sink's copy of dbo.sales equals the
// emulator's at the same LSN.

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "capture/sqlserver/sqlserver_source.hpp"
#include "common/format.hpp"

namespace freshet::capture::sqlserver {
namespace {

std::string g_emulator;
namespace fs = std::filesystem;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class Emulator {
 public:
  Emulator() : dir_(fs::temp_directory_path() / ("freshet_sqlserver_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
    do ctl_port_ = free_port();
    while (ctl_port_ == port_);
  }
  ~Emulator() {
    kill9();
    fs::remove_all(dir_);
  }
  bool start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string log = (dir_ / "emulator.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      std::string p = std::to_string(port_), c = std::to_string(ctl_port_), s = (dir_ / "journal").string();
      ::execl(g_emulator.c_str(), g_emulator.c_str(), "--port", p.c_str(), "--control-port", c.c_str(), "--state", s.c_str(),
              "--database", "shop", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 600; ++i) {
      int fd = connect_ctl();
      if (fd >= 0) {
        ::close(fd);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void kill9() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // Runs a control command; the reply lines before OK. A failed command fails the test.
  std::vector<std::string> ctl(const std::string& cmd) {
    int fd = connect_ctl();
    EXPECT_GE(fd, 0) << "control port";
    if (fd < 0) return {};
    std::string line = cmd + "\n";
    EXPECT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
    std::string buf;
    char chunk[65536];
    std::vector<std::string> out;
    while (true) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      if (buf.size() >= 3 && (buf.compare(buf.size() - 3, 3, "OK\n") == 0 || buf.rfind("\nERR", 0) != std::string::npos)) {
        size_t last = buf.rfind('\n', buf.size() - 2);
        std::string tail = buf.substr(last == std::string::npos ? 0 : last + 1);
        if (tail == "OK\n") break;
      }
      if (buf.find("ERR ") != std::string::npos && buf.back() == '\n') break;
    }
    ::close(fd);
    std::istringstream in(buf);
    std::string l;
    while (std::getline(in, l)) {
      if (l == "OK") break;
      EXPECT_NE(l.rfind("ERR", 0), 0u) << cmd << ": " << l;
      out.push_back(l);
    }
    return out;
  }
  TdsOptions options() const {
    TdsOptions o;
    o.port = static_cast<uint16_t>(port_);
    o.database = "shop";
    o.user = "freshet";
    o.password = "Fr3shet_pw";
    o.query_timeout_s = 10;
    return o;
  }

 private:
  int connect_ctl() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(ctl_port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  fs::path dir_;
  int port_ = 0, ctl_port_ = 0;
  pid_t pid_ = -1;
};

// A sink that keeps the tables, counts every applied change, and can "crash": refuse an apply
// (nothing of it becomes durable) once armed.
class RecordingSink : public SourceSink {
 public:
  Status set_schemas(const std::vector<TableSchema>& tables) override {
    std::lock_guard<std::mutex> g(mu_);
    schemas_ = tables;
    return Status::ok();
  }
  Status apply(Transaction txn) override {
    std::lock_guard<std::mutex> g(mu_);
    if (crash_armed_) {
      crashed_ = true;
      return Status::error("simulated crash before durability");
    }
    if (!durable_.empty()) {
      if (txn.snapshot) {
        EXPECT_GE(txn.position, durable_) << "snapshot batches share their position";
      } else {
        EXPECT_GT(txn.position, durable_) << "positions must increase";
      }
    }
    if (txn.snapshot) ++snapshot_batches_;
    if (!txn.snapshot) {  // NOLINT
      // One __$start_lsn per transaction: the position's LSN is new.
      std::string lsn = txn.position.substr(0, 20);
      EXPECT_TRUE(lsns_.insert(lsn).second) << "LSN " << lsn << " applied twice";
    }
    for (const Change& c : txn.changes) {
      std::vector<Datum> k;
      c.key.unpack_into(k);
      std::string key = std::to_string(c.table) + ":" + format_datum(k[0], schemas_[c.table].columns[schemas_[c.table].key[0]].type);
      if (c.op == Change::Op::kUpsert) rows_[c.table][key] = c.value;
      else rows_[c.table].erase(key);
      if (schemas_[c.table].name == "audit") {
        EXPECT_EQ(c.op, Change::Op::kUpsert);
        ++audit_applied_[k[0].as_int()];
      }
    }
    durable_ = txn.position;
    ++txns_;
    return Status::ok();
  }
  void report(const SourceStatus& s) override {
    std::lock_guard<std::mutex> g(mu_);
    status_ = s;
  }
  std::string durable() {
    std::lock_guard<std::mutex> g(mu_);
    return durable_;
  }
  void arm_crash(bool on) {
    std::lock_guard<std::mutex> g(mu_);
    crash_armed_ = on;
    crashed_ = false;
  }
  bool crashed() {
    std::lock_guard<std::mutex> g(mu_);
    return crashed_;
  }
  SourceStatus status() {
    std::lock_guard<std::mutex> g(mu_);
    return status_;
  }
  // The table as the emulator's DUMP prints it (PostgreSQL text, tab separated, sorted).
  std::multiset<std::string> dump(uint32_t table) {
    std::lock_guard<std::mutex> g(mu_);
    std::multiset<std::string> out;
    for (const auto& [k, row] : rows_[table]) {
      std::vector<Datum> d;
      row.unpack_into(d);
      std::string line;
      for (size_t i = 0; i < d.size(); ++i) {
        if (i) line += '\t';
        line += d[i].is_null() ? "\\N" : format_datum(d[i], schemas_[table].columns[i].type);
      }
      out.insert(line);
    }
    return out;
  }
  std::map<int64_t, int> audit_applied() {
    std::lock_guard<std::mutex> g(mu_);
    return audit_applied_;
  }
  size_t txns() {
    std::lock_guard<std::mutex> g(mu_);
    return txns_;
  }

 private:
  std::mutex mu_;
  std::vector<TableSchema> schemas_;
  std::map<uint32_t, std::map<std::string, Row>> rows_;
  std::map<int64_t, int> audit_applied_;
  std::set<std::string> lsns_;
  std::string durable_;
  SourceStatus status_;
  bool crash_armed_ = false, crashed_ = false;
  size_t txns_ = 0;

 public:
  size_t snapshot_batches_ = 0;
};

bool wait_for(const std::function<bool()>& f, int timeout_ms) {
  for (int i = 0; i < timeout_ms / 20; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

TEST(SqlServerSource, ExactlyOnceAcrossCrashesAndUpstreamRestarts) {
  ASSERT_FALSE(g_emulator.empty()) << "usage: capture_sqlserver_integration_test <path of sqlserver_emulator>";
  Emulator em;
  ASSERT_TRUE(em.start()) << "the emulator did not start";
  em.ctl("CREATE TABLE dbo.sales (sale_id int NOT NULL PRIMARY KEY, product_id int, customer_id int, sale_date datetime2(3), "
         "quantity int, unit_price decimal(10,2), total_price decimal(10,2))");
  em.ctl("CREATE TABLE dbo.audit (id bigint NOT NULL PRIMARY KEY, ops int)");
  em.ctl("CREATE LOGIN freshet Fr3shet_pw db_owner");
  em.ctl("EXEC sys.sp_cdc_enable_db");
  em.ctl("EXEC sys.sp_cdc_enable_table dbo.sales");
  em.ctl("EXEC sys.sp_cdc_enable_table dbo.audit");
  em.ctl("LOAD START 7 300");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  RecordingSink sink;
  SqlServerOptions o;
  o.connection = em.options();
  o.tables = {{"dbo", "sales", ""}, {"dbo", "audit", ""}};
  o.poll_interval_ms = 20;
  o.reconnect_backoff_max_ms = 500;
  o.snapshot_batch_rows = 1u << 20;
  std::optional<std::string> resume;
  int crashes = 0, restarts = 0;
  for (int round = 0; round < 6; ++round) {
    auto src = std::make_unique<SqlServerSource>(o);
    Status s = src->start(sink, resume);
    ASSERT_TRUE(s.is_ok()) << s.message();
    ASSERT_EQ(src->schemas().size(), 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    if (round % 3 == 2) {
      // The emulator dies under load and comes back from its journal; the source reconnects.
      em.kill9();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ASSERT_TRUE(em.start()) << "the emulator did not restart";
      em.ctl("LOAD START " + std::to_string(100 + round) + " 300");
      ++restarts;
      size_t before = sink.txns();
      ASSERT_TRUE(wait_for([&] { return sink.txns() > before + 5; }, 15000)) << "no progress after the emulator restart: "
                                                                           << sink.status().last_error;
    }
    // A crash: the next apply fails before it is durable; the source stops with an error.
    sink.arm_crash(true);
    ASSERT_TRUE(wait_for([&] { return sink.crashed() && sink.status().state == "error"; }, 10000)) << sink.status().state;
    src->stop();
    sink.arm_crash(false);
    ++crashes;
    resume = sink.durable();
  }
  // The last run: no crash; the load stops and the source catches up to the max LSN.
  auto src = std::make_unique<SqlServerSource>(o);
  ASSERT_TRUE(src->start(sink, resume).is_ok());
  em.ctl("LOAD STOP");
  std::string max = em.ctl("MAXLSN").at(0).substr(4);
  ASSERT_TRUE(wait_for([&] { return sink.durable() >= max; }, 20000)) << sink.durable() << " vs " << max;
  src->stop();

  // dbo.sales equals the emulator's at that LSN.
  std::vector<std::string> up = em.ctl("DUMP dbo.sales");
  ASSERT_FALSE(up.empty());
  EXPECT_EQ(up[0], "LSN " + max);
  std::multiset<std::string> want(up.begin() + 1, up.end());
  EXPECT_EQ(sink.dump(0), want);
  // Every audit id exactly once, none missing.
  std::vector<std::string> audit = em.ctl("DUMP dbo.audit");
  auto applied = sink.audit_applied();
  EXPECT_EQ(applied.size(), audit.size() - 1);
  int doubles = 0;
  for (const auto& [id, n] : applied) doubles += n != 1;
  EXPECT_EQ(doubles, 0);
  EXPECT_EQ(applied.rbegin()->first, static_cast<int64_t>(applied.size()));
  std::printf("sqlserver: %zu transactions, %zu audit ids each applied once, %zu sales rows; %d simulated crashes, %d emulator restarts\n",
              sink.txns(), applied.size(), want.size(), crashes, restarts);
}

TEST(SqlServerSource, SnapshotInBatchesWhileWritesGoOn) {
  Emulator em;
  ASSERT_TRUE(em.start());
  em.ctl("CREATE TABLE dbo.sales (sale_id int NOT NULL PRIMARY KEY, product_id int, customer_id int, sale_date datetime2(3), "
         "quantity int, unit_price decimal(10,2), total_price decimal(10,2))");
  em.ctl("CREATE LOGIN freshet Fr3shet_pw db_owner");
  em.ctl("EXEC sys.sp_cdc_enable_db");
  em.ctl("EXEC sys.sp_cdc_enable_table dbo.sales");
  em.ctl("LOAD START 3 2000");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  RecordingSink sink;
  SqlServerOptions o;
  o.connection = em.options();
  o.tables = {{"dbo", "sales", "sales"}};
  o.poll_interval_ms = 20;
  o.snapshot_batch_rows = 100;
  SqlServerSource src(o);
  ASSERT_TRUE(src.start(sink, std::nullopt).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  em.ctl("LOAD STOP");
  std::string max = em.ctl("MAXLSN").at(0).substr(4);
  ASSERT_TRUE(wait_for([&] { return sink.durable() >= max; }, 20000)) << sink.durable() << " vs " << max;
  src.stop();
  SourceStatus st = sink.status();
  EXPECT_GT(st.snapshot_rows_total, 500u);
  EXPECT_EQ(st.snapshot_rows_done, st.snapshot_rows_total);
  EXPECT_GT(sink.snapshot_batches_, 5u);
  std::vector<std::string> up = em.ctl("DUMP dbo.sales");
  std::multiset<std::string> want(up.begin() + 1, up.end());
  EXPECT_EQ(sink.dump(0), want);
}

TEST(SqlServerSource, StartErrorsAreClear) {
  Emulator em;
  ASSERT_TRUE(em.start());
  em.ctl("CREATE LOGIN freshet Fr3shet_pw db_owner");
  em.ctl("CREATE TABLE dbo.t (id int PRIMARY KEY, v varchar(10))");
  RecordingSink sink;
  auto try_start = [&](SqlServerOptions o) {
    RecordingSink fresh;  // each successful start snapshots again
    SqlServerSource src(std::move(o));
    Status s = src.start(fresh, std::nullopt);
    src.stop();
    return s.is_ok() ? std::string("ok") : s.message();
  };
  SqlServerOptions o;
  o.connection = em.options();
  EXPECT_NE(try_start(o).find("change data capture is not enabled on database shop"), std::string::npos);
  em.ctl("EXEC sys.sp_cdc_enable_db");
  o.tables = {{"dbo", "t", ""}};
  EXPECT_NE(try_start(o).find("change data capture is not enabled on table dbo.t"), std::string::npos);
  em.ctl("EXEC sys.sp_cdc_enable_table dbo.t");
  EXPECT_EQ(try_start(o), "ok");
  SqlServerOptions bad = o;
  bad.connection.password = "wrong";
  EXPECT_NE(try_start(bad).find("login failed for user 'freshet'"), std::string::npos);
  EXPECT_NE(try_start(o).find("ok"), std::string::npos);
  SqlServerSource src(o);
  Status s = src.start(sink, std::string("0000002A000000010001:-snapshot"));
  EXPECT_NE(s.message().find("initial snapshot of this source was interrupted"), std::string::npos) << s.message();
  SqlServerSource src2(o);
  Status s2 = src2.start(sink, std::string("garbage"));
  EXPECT_FALSE(s2.is_ok());
}

}  // namespace
}  // namespace freshet::capture::sqlserver

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) freshet::capture::sqlserver::g_emulator = argv[1];
  return RUN_ALL_TESTS();
}
