// slt_runner: a sqllogictest runner over libpq.
//
// Runs SQLite-format sqllogictest files (and Freshet's own test/sql/*.slt) against any server
// that speaks the PostgreSQL wire protocol. See tools/slt/README.md for the format, the
// extensions and the reference numbers of PostgreSQL 15.
//
// Single-threaded; one connection at a time. Each query runs with a client-side deadline
// (--timeout-ms) after which it is cancelled, so a hung server fails a record instead of the run.

#include "mz_runner.hpp"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::slt {
namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "6875";
  std::string user = "freshet";
  std::string db = "freshet";
  std::string engine = "postgresql";
  // More names the target answers to in skipif/onlyif (--engine-alias freshet): a record
  // where Freshet deliberately differs from PostgreSQL is `skipif freshet` for PostgreSQL's
  // answer and `onlyif freshet` for Freshet's.
  std::vector<std::string> engine_aliases;
  bool fresh_db_per_file = false;
  bool stop_on_fail = false;
  bool verbose = false;
  bool rewrite = false;  // Write the actual results back into the file (to author tests).
  bool no_cleanup = false;
  int failures_shown_max = 5;
  int timeout_ms = 30000;
  // Per-record cost limits (issue 9): with --server-pid the runner reads the server's
  // /proc/<pid>/status around every record. A record over --max-query-ms or whose peak
  // memory growth is over --max-query-mb is an offender: listed, and the run's exit status is
  // 1, without changing the pass/fail counts. --query-stats-out appends one TSV line per record.
  int server_pid = 0;
  long max_query_ms = 0;  // 0: no limit
  long max_query_mb = 0;  // 0: no limit
  std::string query_stats_out;
  std::vector<std::string> files;
};

enum class RecordKind { kStatement, kQuery, kHashThreshold, kHalt };
enum class SortMode { kNoSort, kRowSort, kValueSort };

struct Record {
  RecordKind kind = RecordKind::kStatement;
  int line = 0;                 // 1-based line of the command line.
  int first_line_index = 0;     // 0-based index of the record's first line (conditions).
  int result_begin_index = -1;  // 0-based index of the first line after "----".
  int end_index = 0;            // 0-based index one past the record's last line.
  std::vector<std::string> skipif;
  std::vector<std::string> onlyif;
  // statement
  bool expect_error = false;
  std::string error_pattern;  // SQLSTATE (5 chars) or a regex over the message.
  // query
  std::string types;
  SortMode sort = SortMode::kNoSort;
  std::string label;
  std::vector<std::string> expected_lines;
  std::string sql;
  long hash_threshold = 0;
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string tok;
  while (in >> tok) out.push_back(tok);
  return out;
}

bool is_blank(const std::string& line) { return trim(line).empty(); }

// Parses a whole file into records. Unknown commands are reported and skipped.
std::vector<Record> parse(const std::vector<std::string>& lines, const std::string& path) {
  std::vector<Record> records;
  size_t i = 0;
  while (i < lines.size()) {
    if (is_blank(lines[i]) || lines[i][0] == '#') {
      ++i;
      continue;
    }
    Record r;
    r.first_line_index = static_cast<int>(i);
    // Conditions.
    while (i < lines.size()) {
      auto toks = split_ws(lines[i]);
      if (toks.size() >= 2 && toks[0] == "skipif") {
        r.skipif.push_back(toks[1]);
      } else if (toks.size() >= 2 && toks[0] == "onlyif") {
        r.onlyif.push_back(toks[1]);
      } else {
        break;
      }
      ++i;
    }
    if (i >= lines.size()) break;
    r.line = static_cast<int>(i) + 1;
    auto toks = split_ws(lines[i]);
    ++i;
    auto body_until_blank = [&](bool stop_at_dashes) {
      std::string sql;
      while (i < lines.size() && !is_blank(lines[i])) {
        if (stop_at_dashes && trim(lines[i]) == "----") break;
        if (!sql.empty()) sql += '\n';
        sql += lines[i];
        ++i;
      }
      return sql;
    };
    if (toks.empty()) continue;
    if (toks[0] == "statement") {
      r.kind = RecordKind::kStatement;
      if (toks.size() >= 2 && toks[1] == "error") {
        r.expect_error = true;
        // The rest of the header line, verbatim, is the pattern.
        const std::string& hdr = lines[r.line - 1];
        size_t pos = hdr.find("error");
        r.error_pattern = trim(std::string_view(hdr).substr(pos + 5));
      } else if (toks.size() < 2 || toks[1] != "ok") {
        std::cerr << path << ":" << r.line << ": unknown statement mode, treated as ok\n";
      }
      r.sql = body_until_blank(false);
    } else if (toks[0] == "query") {
      r.kind = RecordKind::kQuery;
      if (toks.size() >= 2) r.types = toks[1];
      if (toks.size() >= 3) {
        if (toks[2] == "rowsort") r.sort = SortMode::kRowSort;
        else if (toks[2] == "valuesort") r.sort = SortMode::kValueSort;
        else if (toks[2] == "nosort") r.sort = SortMode::kNoSort;
        else r.label = toks[2];
      }
      if (toks.size() >= 4) r.label = toks[3];
      r.sql = body_until_blank(true);
      if (i < lines.size() && trim(lines[i]) == "----") {
        ++i;
        r.result_begin_index = static_cast<int>(i);
        while (i < lines.size() && !is_blank(lines[i])) {
          r.expected_lines.push_back(trim(lines[i]));
          ++i;
        }
      }
    } else if (toks[0] == "hash-threshold") {
      r.kind = RecordKind::kHashThreshold;
      r.hash_threshold = toks.size() >= 2 ? std::atol(toks[1].c_str()) : 0;
      body_until_blank(false);
    } else if (toks[0] == "halt") {
      r.kind = RecordKind::kHalt;
      body_until_blank(false);
    } else {
      std::cerr << path << ":" << r.line << ": unknown record '" << toks[0] << "', skipped\n";
      body_until_blank(false);
      continue;
    }
    r.end_index = static_cast<int>(i);
    records.push_back(std::move(r));
  }
  return records;
}

// ---- value formatting (sqllogictest rules) ----

std::string format_text(const char* v) {
  if (*v == '\0') return "(empty)";
  std::string out(v);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) c = '@';
  }
  return out;
}

// A value of an I column. PostgreSQL may send numeric/float text ("12.000", "1.5e3") or
// booleans for such columns; SQLite would convert them to an integer, so we do too.
std::string format_int(const char* v) {
  if (*v == '\0') return "0";
  if (std::strcmp(v, "t") == 0 || std::strcmp(v, "true") == 0) return "1";
  if (std::strcmp(v, "f") == 0 || std::strcmp(v, "false") == 0) return "0";
  char* end = nullptr;
  errno = 0;
  long long ll = std::strtoll(v, &end, 10);
  if (*end == '\0' && errno == 0) return std::to_string(ll);
  double d = std::strtod(v, &end);
  if (end == v) return "0";
  if (d >= 9.2e18) return "9223372036854775807";
  if (d <= -9.2e18) return "-9223372036854775808";
  return std::to_string(static_cast<long long>(d));
}

std::string format_real(const char* v) {
  if (std::strcmp(v, "t") == 0) return "1.000";
  if (std::strcmp(v, "f") == 0) return "0.000";
  double d = std::strtod(v, nullptr);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", d);
  return buf;
}

std::string md5_hex(const std::vector<std::string>& values) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  for (const auto& v : values) {
    EVP_DigestUpdate(ctx, v.data(), v.size());
    EVP_DigestUpdate(ctx, "\n", 1);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int k = 0; k < len; ++k) {
    out += kHex[digest[k] >> 4];
    out += kHex[digest[k] & 15];
  }
  return out;
}

// ---- connection ----

struct ExecResult {
  bool ok = false;
  bool connection_lost = false;
  bool timed_out = false;
  std::string sqlstate;
  std::string message;
  int ncols = 0;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class Connection {
 public:
  explicit Connection(const Options& opt) : opt_(opt) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open(const std::string& db, std::string* err) {
    close();
    const char* keys[] = {"host", "port", "user", "dbname", "connect_timeout", "application_name",
                          nullptr};
    const char* vals[] = {opt_.host.c_str(), opt_.port.c_str(), opt_.user.c_str(),
                          db.c_str(),        "10",              "slt_runner",
                          nullptr};
    conn_ = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(conn_) != CONNECTION_OK) {
      *err = PQerrorMessage(conn_);
      close();
      return false;
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    db_ = db;
    return true;
  }
  void close() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }
  bool is_open() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  const std::string& db() const { return db_; }

  ExecResult exec(const std::string& sql) {
    ExecResult out;
    if (!is_open()) {
      out.connection_lost = true;
      out.message = "not connected";
      return out;
    }
    if (!PQsendQuery(conn_, sql.c_str())) {
      out.connection_lost = PQstatus(conn_) != CONNECTION_OK;
      out.message = PQerrorMessage(conn_);
      return out;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.timeout_ms);
    bool have_result = false;
    bool have_error = false;
    for (;;) {
      while (PQisBusy(conn_)) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
          if (!out.timed_out) {
            cancel();
            out.timed_out = true;
            deadline = now + std::chrono::seconds(5);  // Give the cancel a chance, then drop.
          } else {
            out.connection_lost = true;
            out.message = "query timed out and the server did not answer the cancel";
            close();
            return out;
          }
        }
        pollfd pfd{PQsocket(conn_), POLLIN, 0};
        auto left_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int rc = poll(&pfd, 1, static_cast<int>(std::max<long long>(1, left_ms)));
        if (rc < 0 && errno != EINTR) break;
        if (!PQconsumeInput(conn_)) {
          out.connection_lost = true;
          out.message = PQerrorMessage(conn_);
          close();
          return out;
        }
      }
      PGresult* res = PQgetResult(conn_);
      if (!res) break;
      ExecStatusType st = PQresultStatus(res);
      if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
        if (!have_error) {
          const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
          out.sqlstate = state ? state : "";
          const char* msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
          out.message = msg ? msg : PQresultErrorMessage(res);
          have_error = true;
        }
      } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
        have_error = true;
        out.message = "COPY is not supported by slt_runner";
        PQclear(res);
        close();
        out.connection_lost = true;
        return out;
      } else {
        have_result = true;
        out.ncols = PQnfields(res);
        int n = PQntuples(res);
        out.rows.clear();
        out.rows.reserve(n);
        for (int r = 0; r < n; ++r) {
          std::vector<std::optional<std::string>> row;
          row.reserve(out.ncols);
          for (int c = 0; c < out.ncols; ++c) {
            if (PQgetisnull(res, r, c)) row.emplace_back(std::nullopt);
            else row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
          }
          out.rows.push_back(std::move(row));
        }
      }
      PQclear(res);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      out.connection_lost = true;
      if (out.message.empty()) out.message = PQerrorMessage(conn_);
      close();
    }
    if (out.timed_out) {
      out.ok = false;
      out.message = "timed out after " + std::to_string(opt_.timeout_ms) + " ms";
      return out;
    }
    out.ok = !have_error && !out.connection_lost;
    if (!have_error && !have_result && !out.connection_lost) out.ok = true;
    return out;
  }

 private:
  void cancel() {
    PGcancel* c = PQgetCancel(conn_);
    if (!c) return;
    char err[256];
    PQcancel(c, err, sizeof err);
    PQfreeCancel(c);
  }

  const Options& opt_;
  PGconn* conn_ = nullptr;
  std::string db_;
};

// ---- running ----

struct FileStats {
  long passed = 0;
  long failed = 0;
  long skipped = 0;
  long over_limits = 0;  // records over --max-query-ms / --max-query-mb
};

// The server's memory, from /proc/<pid>/status (kB; -1 when unreadable).
struct ServerMemory {
  long rss_kb = -1;
  long hwm_kb = -1;
};

ServerMemory read_server_memory(int pid) {
  ServerMemory m;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atol(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atol(line.c_str() + 6);
  }
  return m;
}

// Resets the server's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs "5"), so that
// VmHWM after a record is that record's peak. False when not permitted (then the growth of
// VmHWM past its old peak is all that is seen).
bool reset_server_peak(int pid) {
  std::ofstream f("/proc/" + std::to_string(pid) + "/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// One record's cost, for the offenders list and the slowest records.
struct RecordCost {
  std::string where;  // file:line
  long ms = 0;
  long growth_kb = 0;  // peak RSS during the record minus RSS before it
  std::string sql;
};

std::string quote_ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class Runner {
 public:
  explicit Runner(const Options& opt) : opt_(opt), conn_(opt) {}

  // Returns false when --stop-on-fail fired.
  bool run_file(const std::string& path, FileStats* stats) {
    std::ifstream in(path);
    if (!in) {
      std::cout << path << ": cannot open\n";
      ++stats->failed;
      return !opt_.stop_on_fail;
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
    }
    auto records = parse(lines, path);

    std::string fresh_db;
    if (!prepare_connection(path, &fresh_db)) {
      // Count every runnable record as failed: the server is not there.
      stats->failed += static_cast<long>(records.size());
      std::cout << path << ": cannot connect: " << last_connect_error_ << "\n";
      return !opt_.stop_on_fail;
    }

    long hash_threshold = 0;
    int failures_shown = 0;
    int consecutive_timeouts = 0;
    constexpr int kTimeoutsBeforeGivingUp = 3;
    bool keep_going = true;
    std::vector<std::pair<const Record*, ExecResult>> rewrites;
    for (const Record& r : records) {
      if (!applies(r)) {
        if (r.kind == RecordKind::kStatement || r.kind == RecordKind::kQuery) ++stats->skipped;
        continue;
      }
      if (r.kind == RecordKind::kHalt) break;
      if (r.kind == RecordKind::kHashThreshold) {
        hash_threshold = r.hash_threshold;
        continue;
      }
      if (!conn_.is_open()) {
        std::string err;
        if (!conn_.open(fresh_db.empty() ? opt_.db : fresh_db, &err)) {
          ++stats->failed;
          report(path, r, "cannot reconnect: " + err, "", "", &failures_shown);
          continue;
        }
      }
      if (consecutive_timeouts >= kTimeoutsBeforeGivingUp) {
        // The server is stuck: fail the rest of the file without waiting on each record.
        ++stats->failed;
        if (consecutive_timeouts++ == kTimeoutsBeforeGivingUp)
          report(path, r, "not run: the previous records timed out, giving up on this file", "",
                 "", &failures_shown);
        continue;
      }
      ServerMemory mem0;
      if (opt_.server_pid > 0) {
        reset_server_peak(opt_.server_pid);
        mem0 = read_server_memory(opt_.server_pid);
      }
      auto t0 = std::chrono::steady_clock::now();
      ExecResult res = conn_.exec(r.sql);
      consecutive_timeouts = res.timed_out ? consecutive_timeouts + 1 : 0;
      note_cost(path, r, t0, mem0, stats);
      if (opt_.verbose) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
        std::cout << path << ":" << r.line << ": " << (res.ok ? "ok" : "error") << " (" << ms
                  << " ms)\n";
      }
      std::string why, expected, actual;
      bool pass = r.kind == RecordKind::kStatement ? check_statement(r, res, &why)
                                                   : check_query(r, res, hash_threshold, &why,
                                                                 &expected, &actual);
      if (opt_.rewrite && r.kind == RecordKind::kQuery && res.ok) rewrites.emplace_back(&r, res);
      if (pass) {
        ++stats->passed;
      } else {
        ++stats->failed;
        report(path, r, why, expected, actual, &failures_shown);
        if (opt_.stop_on_fail) {
          keep_going = false;
          break;
        }
      }
    }
    if (opt_.rewrite) write_back(path, lines, rewrites);
    finish_file(fresh_db);
    return keep_going;
  }

  const std::vector<RecordCost>& offenders() const { return offenders_; }
  // The slowest records of the run, slowest first (at most kSlowestKept).
  std::vector<RecordCost> slowest() const {
    std::vector<RecordCost> v = slowest_;
    std::sort(v.begin(), v.end(), [](const RecordCost& a, const RecordCost& b) { return a.ms > b.ms; });
    return v;
  }
  // The records with the largest memory growth, largest first (at most kSlowestKept).
  std::vector<RecordCost> hungriest() const {
    std::vector<RecordCost> v = hungriest_;
    std::sort(v.begin(), v.end(), [](const RecordCost& a, const RecordCost& b) { return a.growth_kb > b.growth_kb; });
    return v;
  }

 private:
  static constexpr size_t kSlowestKept = 10;

  // Times (and with --server-pid, measures the memory of) the record just run.
  void note_cost(const std::string& path, const Record& r, std::chrono::steady_clock::time_point t0,
                 const ServerMemory& mem0, FileStats* stats) {
    RecordCost c;
    c.ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    if (opt_.server_pid > 0 && mem0.rss_kb >= 0) {
      ServerMemory m = read_server_memory(opt_.server_pid);
      if (m.hwm_kb >= 0) c.growth_kb = std::max(0L, m.hwm_kb - mem0.rss_kb);
    }
    c.where = path + ":" + std::to_string(r.line);
    c.sql = r.sql.size() > 200 ? r.sql.substr(0, 200) + "..." : r.sql;
    for (char& ch : c.sql)
      if (ch == '\n' || ch == '\t') ch = ' ';
    if (!opt_.query_stats_out.empty()) {
      std::ofstream out(opt_.query_stats_out, std::ios::app);
      out << c.where << '\t' << c.ms << '\t' << c.growth_kb << '\t' << c.sql << '\n';
    }
    auto keep = [&](std::vector<RecordCost>& v, auto key) {
      if (v.size() < kSlowestKept) {
        v.push_back(c);
        return;
      }
      auto least = std::min_element(v.begin(), v.end(), [&](const RecordCost& a, const RecordCost& b) { return key(a) < key(b); });
      if (key(c) > key(*least)) *least = c;
    };
    keep(slowest_, [](const RecordCost& x) { return x.ms; });
    keep(hungriest_, [](const RecordCost& x) { return x.growth_kb; });
    const bool slow = opt_.max_query_ms > 0 && c.ms > opt_.max_query_ms;
    const bool big = opt_.max_query_mb > 0 && c.growth_kb > opt_.max_query_mb * 1024;
    if (slow || big) {
      ++stats->over_limits;
      std::cout << "OVER-LIMIT " << c.where << ": " << c.ms << " ms, +" << c.growth_kb / 1024 << " MB: " << c.sql << "\n";
      offenders_.push_back(std::move(c));
    }
  }

  bool applies(const Record& r) const {
    auto is_target = [&](const std::string& e) {
      return e == opt_.engine || std::find(opt_.engine_aliases.begin(), opt_.engine_aliases.end(), e) != opt_.engine_aliases.end();
    };
    for (const auto& e : r.skipif)
      if (is_target(e)) return false;
    for (const auto& e : r.onlyif)
      if (!is_target(e)) return false;
    return true;
  }

  bool prepare_connection(const std::string& path, std::string* fresh_db) {
    std::string err;
    if (opt_.fresh_db_per_file) {
      if (!admin_.is_open() && !admin_.open(opt_.db, &err)) {
        last_connect_error_ = err;
        return false;
      }
      *fresh_db = "slt_" + std::to_string(getpid()) + "_" + std::to_string(++db_counter_);
      admin_.exec("DROP DATABASE IF EXISTS " + quote_ident(*fresh_db));
      ExecResult cr = admin_.exec("CREATE DATABASE " + quote_ident(*fresh_db));
      if (!cr.ok) {
        last_connect_error_ = "CREATE DATABASE failed: " + cr.message;
        return false;
      }
      if (!conn_.open(*fresh_db, &err)) {
        last_connect_error_ = err;
        return false;
      }
      return true;
    }
    if (!conn_.is_open() && !conn_.open(opt_.db, &err)) {
      last_connect_error_ = err;
      return false;
    }
    if (!opt_.no_cleanup) drop_user_objects();
    return true;
  }

  void drop_user_objects() {
    // A transaction left open by the previous file would swallow the drops.
    conn_.exec("ROLLBACK");
    ExecResult r = conn_.exec(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'public'");
    if (!r.ok) {
      if (!warned_cleanup_) {
        std::cerr << "warning: cannot list user tables for cleanup: " << r.message << "\n";
        warned_cleanup_ = true;
      }
      return;
    }
    // Views first, so that dropping a table does not race a dependent view on engines
    // without CASCADE.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& row : r.rows) {
        if (!row[0] || !row[1]) continue;
        bool is_view = row[1]->find("VIEW") != std::string::npos;
        if ((pass == 0) != is_view) continue;
        conn_.exec(std::string(is_view ? "DROP VIEW IF EXISTS " : "DROP TABLE IF EXISTS ") +
                   quote_ident(*row[0]) + " CASCADE");
      }
    }
  }

  void finish_file(const std::string& fresh_db) {
    if (fresh_db.empty()) return;
    conn_.close();
    admin_.exec("DROP DATABASE IF EXISTS " + quote_ident(fresh_db));
  }

  static bool check_statement(const Record& r, const ExecResult& res, std::string* why) {
    if (res.timed_out) {
      *why = res.message;
      return false;
    }
    if (!r.expect_error) {
      if (res.ok) return true;
      *why = "expected success, got error " + res.sqlstate + ": " + res.message;
      return false;
    }
    if (res.ok) {
      *why = "expected an error, statement succeeded";
      return false;
    }
    if (res.connection_lost) {
      *why = "expected an error, the connection was lost: " + res.message;
      return false;
    }
    if (r.error_pattern.empty()) return true;
    static const std::regex kSqlState("^[0-9A-Z]{5}$");
    if (std::regex_match(r.error_pattern, kSqlState)) {
      if (res.sqlstate == r.error_pattern) return true;
      *why = "expected SQLSTATE " + r.error_pattern + ", got " + res.sqlstate + ": " + res.message;
      return false;
    }
    try {
      if (std::regex_search(res.message, std::regex(r.error_pattern))) return true;
    } catch (const std::regex_error&) {
      if (res.message.find(r.error_pattern) != std::string::npos) return true;
    }
    *why = "error message does not match /" + r.error_pattern + "/: " + res.sqlstate + ": " +
           res.message;
    return false;
  }

  static std::vector<std::vector<std::string>> format_rows(const Record& r, const ExecResult& res) {
    std::vector<std::vector<std::string>> rows;
    rows.reserve(res.rows.size());
    for (const auto& raw : res.rows) {
      std::vector<std::string> row;
      row.reserve(raw.size());
      for (size_t c = 0; c < raw.size(); ++c) {
        char t = c < r.types.size() ? r.types[c] : 'T';
        if (!raw[c]) row.emplace_back("NULL");
        else if (t == 'I') row.push_back(format_int(raw[c]->c_str()));
        else if (t == 'R') row.push_back(format_real(raw[c]->c_str()));
        else row.push_back(format_text(raw[c]->c_str()));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Values in result order after the record's sort mode.
  static std::vector<std::string> sorted_values(const Record& r,
                                                std::vector<std::vector<std::string>>* rows) {
    if (r.sort == SortMode::kRowSort) std::sort(rows->begin(), rows->end());
    std::vector<std::string> values;
    for (auto& row : *rows)
      for (auto& v : row) values.push_back(v);
    if (r.sort == SortMode::kValueSort) std::sort(values.begin(), values.end());
    return values;
  }

  static std::string join_lines(const std::vector<std::string>& v, size_t max_lines = 40) {
    std::string out;
    for (size_t k = 0; k < v.size() && k < max_lines; ++k) out += "    " + v[k] + "\n";
    if (v.size() > max_lines) out += "    ... (" + std::to_string(v.size() - max_lines) + " more)\n";
    return out;
  }

  static bool check_query(const Record& r, const ExecResult& res, long hash_threshold,
                          std::string* why, std::string* expected, std::string* actual) {
    if (!res.ok) {
      *why = "query failed: " + res.sqlstate + ": " + res.message;
      *expected = join_lines(r.expected_lines);
      return false;
    }
    if (!r.types.empty() && res.ncols != static_cast<int>(r.types.size())) {
      *why = "expected " + std::to_string(r.types.size()) + " columns, got " +
             std::to_string(res.ncols);
      return false;
    }
    auto rows = format_rows(r, res);
    size_t nrows = rows.size();
    auto values = sorted_values(r, &rows);

    static const std::regex kHashLine(R"(^(\d+) values hashing to ([0-9a-f]{32})$)");
    std::smatch m;
    if (r.expected_lines.size() == 1 && std::regex_match(r.expected_lines[0], m, kHashLine)) {
      std::string h = md5_hex(values);
      std::string got = std::to_string(values.size()) + " values hashing to " + h;
      if (std::stoul(m[1].str()) == values.size() && m[2].str() == h) return true;
      *why = "result hash differs";
      *expected = "    " + r.expected_lines[0] + "\n";
      *actual = "    " + got + "\n" + join_lines(values, 20);
      return false;
    }
    (void)hash_threshold;
    // One value per line (SQLite style) or one row per line, values separated by spaces.
    bool pass = false;
    if (r.expected_lines.size() == values.size()) {
      pass = std::equal(values.begin(), values.end(), r.expected_lines.begin());
    }
    std::vector<std::string> row_lines;
    if (!pass && r.expected_lines.size() == nrows) {
      for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) line += (c ? " " : "") + row[c];
        row_lines.push_back(line);
      }
      // valuesort with a row per line: compare the sorted values instead.
      if (r.sort == SortMode::kValueSort) {
        std::vector<std::string> exp_values;
        for (const auto& l : r.expected_lines)
          for (auto& t : split_ws(l)) exp_values.push_back(t);
        std::sort(exp_values.begin(), exp_values.end());
        pass = exp_values == values;
      } else {
        pass = row_lines == r.expected_lines;
      }
    }
    if (pass) return true;
    *why = "results differ";
    *expected = join_lines(r.expected_lines);
    if (row_lines.empty()) {
      for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) line += (c ? " " : "") + row[c];
        row_lines.push_back(line);
      }
    }
    *actual = join_lines(row_lines);
    return false;
  }

  void report(const std::string& path, const Record& r, const std::string& why,
              const std::string& expected, const std::string& actual, int* shown) {
    if (*shown >= opt_.failures_shown_max && !opt_.verbose) return;
    ++*shown;
    std::cout << "FAIL " << path << ":" << r.line << ": " << why << "\n";
    std::string sql = r.sql.size() > 2000 ? r.sql.substr(0, 2000) + " ..." : r.sql;
    std::cout << "  sql:\n    " << sql << "\n";
    if (!expected.empty()) std::cout << "  expected:\n" << expected;
    if (!actual.empty()) std::cout << "  actual:\n" << actual;
  }

  // --rewrite: replace each query's expected block with the actual result, one row per line.
  void write_back(const std::string& path, const std::vector<std::string>& lines,
                  const std::vector<std::pair<const Record*, ExecResult>>& rewrites) {
    std::vector<std::string> out;
    size_t next = 0;
    size_t k = 0;
    for (const auto& [rec, res] : rewrites) {
      size_t copy_until = rec->result_begin_index >= 0 ? rec->result_begin_index : rec->end_index;
      // Fix the header's type letters when the column count changed (extra columns as T).
      Record fixed = *rec;
      if (static_cast<int>(fixed.types.size()) != res.ncols) {
        fixed.types.resize(res.ncols, 'T');
        if (fixed.types.empty()) fixed.types = "T";
      }
      for (k = next; k < copy_until; ++k) {
        if (static_cast<int>(k) == rec->line - 1 && fixed.types != rec->types) {
          auto toks = split_ws(lines[k]);
          toks[1] = fixed.types;
          std::string hdr;
          for (size_t t = 0; t < toks.size(); ++t) hdr += (t ? " " : "") + toks[t];
          out.push_back(hdr);
        } else {
          out.push_back(lines[k]);
        }
      }
      if (rec->result_begin_index < 0) out.push_back("----");
      auto rows = format_rows(fixed, res);
      if (rec->sort == SortMode::kRowSort) std::sort(rows.begin(), rows.end());
      if (rec->sort == SortMode::kValueSort) {
        auto values = sorted_values(fixed, &rows);
        for (auto& v : values) out.push_back(v);
      } else {
        for (const auto& row : rows) {
          std::string line;
          for (size_t c = 0; c < row.size(); ++c) line += (c ? " " : "") + row[c];
          out.push_back(line);
        }
      }
      next = rec->end_index;
    }
    for (k = next; k < lines.size(); ++k) out.push_back(lines[k]);
    std::ofstream f(path, std::ios::trunc);
    for (const auto& l : out) f << l << "\n";
  }

  const Options& opt_;
  Connection conn_;
  Connection admin_{opt_};
  int db_counter_ = 0;
  bool warned_cleanup_ = false;
  std::string last_connect_error_;
  std::vector<RecordCost> offenders_, slowest_, hungriest_;
};

void usage() {
  std::cerr << "usage: slt_runner --host H --port P [--user U] [--db D] [--engine postgresql] [--engine-alias NAME]\n"
               "                  [--fresh-db-per-file] [--stop-on-fail] [--verbose]\n"
               "                  [--timeout-ms N] [--show-failures N] [--rewrite]\n"
               "                  [--dialect sqlite|materialize] [--records-out FILE]\n"
               "                  [--reset-command CMD]  (materialize: what reset-server runs)\n"
               "                  [--server-pid PID] [--max-query-ms N] [--max-query-mb N] [--query-stats-out FILE] FILES...\n";
}

}  // namespace
}  // namespace freshet::slt

int main(int argc, char** argv) {
  using namespace freshet::slt;
  Options opt;
  std::string dialect = "sqlite";
  std::string records_out;
  std::string reset_command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << name << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") opt.host = need("--host");
    else if (a == "--port") opt.port = need("--port");
    else if (a == "--user") opt.user = need("--user");
    else if (a == "--db") opt.db = need("--db");
    else if (a == "--engine") opt.engine = need("--engine");
    else if (a == "--engine-alias") opt.engine_aliases.push_back(need("--engine-alias"));
    else if (a == "--timeout-ms") opt.timeout_ms = std::atoi(need("--timeout-ms").c_str());
    else if (a == "--show-failures") opt.failures_shown_max = std::atoi(need("--show-failures").c_str());
    else if (a == "--fresh-db-per-file") opt.fresh_db_per_file = true;
    else if (a == "--stop-on-fail") opt.stop_on_fail = true;
    else if (a == "--verbose" || a == "-v") opt.verbose = true;
    else if (a == "--rewrite") opt.rewrite = true;
    else if (a == "--dialect") dialect = need("--dialect");
    else if (a == "--records-out") records_out = need("--records-out");
    else if (a == "--reset-command") reset_command = need("--reset-command");
    else if (a == "--no-cleanup") opt.no_cleanup = true;
    else if (a == "--server-pid") opt.server_pid = std::atoi(need("--server-pid").c_str());
    else if (a == "--max-query-ms") opt.max_query_ms = std::atol(need("--max-query-ms").c_str());
    else if (a == "--max-query-mb") opt.max_query_mb = std::atol(need("--max-query-mb").c_str());
    else if (a == "--query-stats-out") opt.query_stats_out = need("--query-stats-out");
    else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "unknown option " << a << "\n";
      usage();
      return 2;
    } else {
      opt.files.push_back(a);
    }
  }
  if (opt.files.empty()) {
    usage();
    return 2;
  }
  if (dialect == "materialize") {
    MzOptions mz;
    mz.host = opt.host;
    mz.port = opt.port;
    mz.user = opt.user;
    mz.db = opt.db;
    mz.engine = opt.engine;
    mz.engine_aliases = opt.engine_aliases;
    mz.timeout_ms = opt.timeout_ms;
    mz.failures_shown_max = opt.failures_shown_max;
    mz.verbose = opt.verbose;
    mz.records_out = records_out;
    mz.reset_command = reset_command;
    mz.files = opt.files;
    return run_materialize(mz);
  }
  if (dialect != "sqlite") {
    std::cerr << "unknown dialect " << dialect << " (sqlite or materialize)\n";
    return 2;
  }
  std::cout.setf(std::ios::unitbuf);
  Runner runner(opt);
  FileStats total;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : opt.files) {
    FileStats s;
    auto f0 = std::chrono::steady_clock::now();
    bool go_on = runner.run_file(f, &s);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - f0)
                  .count();
    std::cout << f << ": " << s.passed << " passed, " << s.failed << " failed, " << s.skipped
              << " skipped (" << ms << " ms)\n";
    if (opt.max_query_ms > 0 || opt.max_query_mb > 0) std::cout << f << ": " << s.over_limits << " over limits\n";
    total.over_limits += s.over_limits;
    total.passed += s.passed;
    total.failed += s.failed;
    total.skipped += s.skipped;
    if (!go_on) break;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  std::cout << "total: " << total.skipped << " skipped, " << ms << " ms\n";
  if (opt.server_pid > 0 || opt.max_query_ms > 0) {
    std::cout << "slowest records:\n";
    for (const RecordCost& c : runner.slowest())
      std::cout << "  " << c.ms << " ms, +" << c.growth_kb / 1024 << " MB  " << c.where << "  " << c.sql << "\n";
  }
  if (opt.server_pid > 0) {
    std::cout << "largest memory growth:\n";
    for (const RecordCost& c : runner.hungriest())
      std::cout << "  +" << c.growth_kb / 1024 << " MB, " << c.ms << " ms  " << c.where << "  " << c.sql << "\n";
  }
  if (opt.max_query_ms > 0 || opt.max_query_mb > 0)
    std::cout << total.over_limits << " records over limits (" << opt.max_query_ms << " ms, " << opt.max_query_mb << " MB)\n";
  std::cout << total.passed << " passed, " << total.failed << " failed\n";
  return total.failed == 0 && total.over_limits == 0 ? 0 : 1;
}
