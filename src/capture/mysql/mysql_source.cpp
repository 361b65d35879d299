#include "capture/mysql/mysql_source.hpp"

#include <mysql.h>
#include <mariadb_rpl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <unordered_map>

#include "common/row.hpp"

namespace freshet::capture::mysql {

namespace {

// MariaDB error codes the stream treats as final (retrying cannot help).
constexpr unsigned kErAccessDenied = 1045;
constexpr unsigned kErSpecificAccessDenied = 1227;
constexpr unsigned kErMasterFatalReadingBinlog = 1236;

std::string quote_ident(std::string_view s) {
  std::string q = "`";
  for (char ch : s) {
    if (ch == '`') q.push_back('`');
    q.push_back(ch);
  }
  q.push_back('`');
  return q;
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return u;
}

using SqlRow = std::vector<std::optional<std::string>>;

Row pack_key(const std::vector<Datum>& row, const std::vector<uint32_t>& key) {
  std::vector<Datum> k;
  k.reserve(key.size());
  for (uint32_t i : key) k.push_back(row[i]);
  return Row::pack(k);
}

}  // namespace

// One client connection (libmariadb). Owned by one thread at a time.
class MySqlSource::Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    if (m_) mysql_close(m_);
  }

  Status open(const MySqlOptions& o, uint32_t read_timeout_s) {
    m_ = mysql_init(nullptr);
    if (!m_) return Status::error("mysql: out of memory");
    unsigned timeout = o.connect_timeout_s;
    mysql_options(m_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    unsigned rt = read_timeout_s;
    mysql_options(m_, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(m_, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(m_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (o.ssl_mode != SslMode::kDisabled) {
      my_bool on = 1;
      mysql_options(m_, MYSQL_OPT_SSL_ENFORCE, &on);
      if (o.ssl_mode != SslMode::kRequired) {
        mysql_options(m_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
        if (!o.ssl_ca.empty()) mysql_options(m_, MYSQL_OPT_SSL_CA, o.ssl_ca.c_str());
      }
    }
    if (!mysql_real_connect(m_, o.host.c_str(), o.user.c_str(), o.password.c_str(), nullptr, o.port, nullptr, 0))
      return Status::error("mysql: cannot connect to " + o.host + ":" + std::to_string(o.port) + " as " + o.user +
                           ": " + mysql_error(m_));
    return Status::ok();
  }

  MYSQL* get() { return m_; }
  unsigned err_no() { return mysql_errno(m_); }
  std::string error() { return mysql_error(m_); }

  Status exec(const std::string& sql) {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) return Status::error("mysql: " + error() + " (in: " + sql + ")");
    if (MYSQL_RES* res = mysql_store_result(m_)) mysql_free_result(res);
    return Status::ok();
  }

  // A small result, all rows.
  Result<std::vector<SqlRow>> query(const std::string& sql) {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) return Status::error("mysql: " + error() + " (in: " + sql + ")");
    MYSQL_RES* res = mysql_store_result(m_);
    if (!res) {
      if (mysql_field_count(m_) == 0) return std::vector<SqlRow>{};
      return Status::error("mysql: " + error());
    }
    std::vector<SqlRow> rows;
    unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* len = mysql_fetch_lengths(res);
      SqlRow r(n);
      for (unsigned i = 0; i < n; ++i)
        if (row[i]) r[i] = std::string(row[i], len[i]);
      rows.push_back(std::move(r));
    }
    mysql_free_result(res);
    return rows;
  }

 private:
  MYSQL* m_ = nullptr;
};

uint32_t derive_server_id(uint64_t source_id) {
  uint64_t h = source_id * 0x9E3779B97F4A7C15ULL;
  return static_cast<uint32_t>(h >> 33) | 0x80000000u;
}

bool ddl_touches(std::string_view query, std::string_view default_db, std::string_view database,
                 const std::vector<std::string>& tables) {
  // Tokens: identifiers (bare or `quoted`) and the dots between them; comments skipped.
  std::vector<std::string> tok;
  std::vector<bool> quoted;
  size_t i = 0;
  while (i < query.size() && tok.size() < 4096) {
    char ch = query[i];
    if (ch == '/' && i + 1 < query.size() && query[i + 1] == '*') {
      size_t e = query.find("*/", i + 2);
      i = e == std::string_view::npos ? query.size() : e + 2;
    } else if (ch == '#' || (ch == '-' && i + 2 < query.size() && query[i + 1] == '-' && query[i + 2] == ' ')) {
      size_t e = query.find('\n', i);
      i = e == std::string_view::npos ? query.size() : e + 1;
    } else if (ch == '`') {
      std::string id;
      ++i;
      while (i < query.size()) {
        if (query[i] == '`' && i + 1 < query.size() && query[i + 1] == '`') {
          id.push_back('`');
          i += 2;
        } else if (query[i] == '`') {
          ++i;
          break;
        } else {
          id.push_back(query[i++]);
        }
      }
      tok.push_back(std::move(id));
      quoted.push_back(true);
    } else if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '$') {
      size_t s = i;
      while (i < query.size() &&
             (std::isalnum(static_cast<unsigned char>(query[i])) || query[i] == '_' || query[i] == '$'))
        ++i;
      tok.emplace_back(query.substr(s, i - s));
      quoted.push_back(false);
    } else if (ch == '.' || ch == ',' || ch == '(' || ch == ';') {
      tok.emplace_back(1, ch);
      quoted.push_back(true);  // punctuation never matches a keyword
      ++i;
    } else {
      ++i;
    }
  }
  auto kw = [&](size_t k, std::string_view w) { return k < tok.size() && !quoted[k] && upper(tok[k]) == w; };
  if (tok.empty()) return false;
  if (kw(0, "DROP") && (kw(1, "DATABASE") || kw(1, "SCHEMA"))) {
    size_t k = kw(2, "IF") ? 4 : 2;
    return k < tok.size() && tok[k] == database;
  }
  bool ddl = kw(0, "ALTER") || kw(0, "TRUNCATE") || kw(0, "DROP") || kw(0, "RENAME") ||
             (kw(0, "CREATE") && kw(1, "OR") && kw(2, "REPLACE"));
  if (!ddl) return false;
  for (size_t k = 1; k < tok.size(); ++k) {
    if (tok[k] == ".") continue;
    bool qualified_next = k + 2 < tok.size() && tok[k + 1] == ".";
    bool after_dot = k >= 2 && tok[k - 1] == ".";
    std::string_view db = after_dot ? std::string_view(tok[k - 2]) : default_db;
    if (qualified_next) continue;  // tok[k] is a database name
    if (db != database) continue;
    if (std::find(tables.begin(), tables.end(), tok[k]) != tables.end()) return true;
  }
  return false;
}

MySqlSource::MySqlSource(MySqlOptions options) : options_(std::move(options)) {}

MySqlSource::~MySqlSource() { stop(); }

void MySqlSource::set_active(Conn* conn) {
  std::lock_guard<std::mutex> lock(mu_);
  active_fd_ = conn ? static_cast<int>(mysql_get_socket(conn->get())) : -1;
  if (conn && stopping_) ::shutdown(active_fd_, SHUT_RDWR);
}

void MySqlSource::stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_fd_ >= 0) ::shutdown(active_fd_, SHUT_RDWR);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MySqlSource::report(std::string state, std::string error) {
  status_.state = std::move(state);
  status_.last_error = std::move(error);
  if (sink_) sink_->report(status_);
}

void MySqlSource::sleep_backoff(uint32_t& backoff_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stopping_.load(); });
  backoff_ms = std::min(options_.reconnect_backoff_max_ms, std::max(backoff_ms * 2, options_.reconnect_backoff_min_ms));
}

Status MySqlSource::apply(Transaction txn) { return sink_->apply(std::move(txn)); }

Status MySqlSource::start(SourceSink& sink, std::optional<std::string> resume_position) {
  FRESHET_ASSERT(!thread_.joinable());
  const MySqlOptions& o = options_;
  if (o.database.empty()) return Status::error("mysql: no database given");
  if (o.user.empty()) return Status::error("mysql: no user given");
  std::optional<GtidPosition> resume;
  if (resume_position && !resume_position->empty()) {
    auto p = GtidPosition::parse(*resume_position);
    if (!p) return p.status();
    resume = *p;
  }

  Conn c;
  if (Status s = c.open(o, o.read_timeout_s); !s) return s;

  // Binlog settings.
  auto vars = c.query("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@version, @@log_bin_compress");
  if (!vars) return vars.status();
  const SqlRow& v = vars->at(0);
  if (v[3].value_or("").find("MariaDB") == std::string::npos)
    return Status::error("mysql: the server is " + v[3].value_or("?") +
                         "; only MariaDB is supported (positions are MariaDB GTIDs)");
  if (v[0].value_or("0") != "1")
    return Status::error("mysql: the binary log is disabled on the server: start it with --log-bin "
                         "--binlog-format=ROW --binlog-row-image=FULL");
  if (upper(v[1].value_or("")) != "ROW")
    return Status::error("mysql: binlog_format is " + v[1].value_or("NULL") +
                         ": set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in the server's configuration)");
  if (upper(v[2].value_or("")) != "FULL")
    return Status::error("mysql: binlog_row_image is " + v[2].value_or("NULL") +
                         ": set binlog_row_image=FULL (SET GLOBAL binlog_row_image=FULL and in the configuration)");
  if (v[4].value_or("0") != "0")
    return Status::error("mysql: log_bin_compress is on: compressed binlog events are not supported; set it OFF");

  // Privileges. SELECT and REPLICATION CLIENT (BINLOG MONITOR) are probed by using them;
  // REPLICATION SLAVE cannot be probed without starting a dump, so SHOW GRANTS is read.
  {
    auto grants = c.query("SHOW GRANTS FOR CURRENT_USER()");
    if (!grants) return grants.status();
    bool repl_slave = false;
    for (const auto& g : *grants) {
      std::string line = upper(g[0].value_or(""));
      size_t on = line.find(" ON *.* TO ");
      if (on == std::string::npos) continue;
      if (line.find("ALL PRIVILEGES") < on || line.find("REPLICATION SLAVE") < on ||
          line.find("REPLICATION REPLICA") < on)
        repl_slave = true;
    }
    if (!repl_slave)
      return Status::error("mysql: user " + o.user +
                           " lacks the REPLICATION SLAVE privilege: GRANT REPLICATION SLAVE, REPLICATION CLIENT, "
                           "SELECT ON *.* TO the user");
    if (auto r = c.query("SHOW BINARY LOGS"); !r)
      return Status::error("mysql: user " + o.user +
                           " lacks the REPLICATION CLIENT (BINLOG MONITOR) privilege: " + r.status().message());
  }

  // Tables.
  std::string db_lit = "'";
  for (char ch : o.database) {
    if (ch == '\'' || ch == '\\') db_lit.push_back('\\');
    db_lit.push_back(ch);
  }
  db_lit.push_back('\'');
  auto base = c.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + db_lit +
                      " AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME");
  if (!base) return base.status();
  std::set<std::string> existing;
  for (const auto& r : *base) existing.insert(r[0].value_or(""));
  std::vector<MySqlTableSelection> selected = o.tables;
  if (selected.empty()) {
    if (existing.empty()) return Status::error("mysql: database " + o.database + " has no tables (or does not exist)");
    for (const auto& t : existing) selected.push_back({t, ""});
  }
  auto cols = c.query(
      "SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, ''), IS_NULLABLE, "
      "IFNULL(NUMERIC_PRECISION, 0), IFNULL(NUMERIC_SCALE, 0), IFNULL(DATETIME_PRECISION, 0), "
      "IFNULL(CHARACTER_MAXIMUM_LENGTH, 0), COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
      db_lit + " ORDER BY TABLE_NAME, ORDINAL_POSITION");
  if (!cols) return cols.status();
  auto keys = c.query(
      "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = " + db_lit +
      " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION");
  if (!keys) return keys.status();
  auto checks = c.query("SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE "
                        "CONSTRAINT_SCHEMA = " + db_lit);
  if (!checks) return checks.status();

  std::vector<std::string> no_key;
  for (const auto& sel : selected) {
    if (!existing.count(sel.name))
      return Status::error("mysql: table " + o.database + "." + sel.name + " does not exist");
    Table t;
    t.upstream_name = sel.name;
    TableSchema schema;
    schema.upstream_schema = o.database;
    schema.upstream_name = sel.name;
    schema.name = sel.rename.empty() ? sel.name : sel.rename;
    for (const auto& r : *cols) {
      if (r[0] != sel.name) continue;
      RawColumn raw;
      raw.name = r[1].value_or("");
      raw.data_type = r[2].value_or("");
      raw.column_type = r[3].value_or("");
      raw.charset = r[4].value_or("");
      raw.nullable = r[5].value_or("YES") == "YES";
      raw.numeric_precision = std::stoll(r[6].value_or("0"));
      raw.numeric_scale = std::stoll(r[7].value_or("0"));
      raw.datetime_precision = std::stoll(r[8].value_or("0"));
      raw.char_max_length = std::stoull(r[9].value_or("0"));
      for (const auto& ck : *checks)
        if (ck[0] == sel.name && ck[1] == "json_valid(" + quote_ident(raw.name) + ")") raw.is_json = true;
      auto ci = map_column(raw, o.database + "." + sel.name);
      if (!ci) return Status::error("mysql: " + ci.status().message());
      schema.columns.push_back({ci->name, ci->type, ci->nullable});
      t.columns.push_back(std::move(*ci));
    }
    for (const auto& k : *keys) {
      if (k[0] != sel.name) continue;
      for (uint32_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i].name == k[1]) t.key.push_back(i);
    }
    if (t.key.empty()) no_key.push_back(o.database + "." + sel.name);
    schema.key = t.key;
    tables_.push_back(std::move(t));
    schemas_.push_back(std::move(schema));
  }
  if (!no_key.empty()) {
    std::string list;
    for (const auto& n : no_key) list += (list.empty() ? "" : ", ") + n;
    return Status::error("mysql: tables without a primary key cannot be captured: " + list);
  }
  for (const auto& t : tables_) {
    if (auto r = c.query("SELECT 1 FROM " + quote_ident(o.database) + "." + quote_ident(t.upstream_name) + " LIMIT 0");
        !r)
      return Status::error("mysql: user " + o.user + " cannot read " + o.database + "." + t.upstream_name +
                           " (GRANT SELECT): " + r.status().message());
  }

  sink_ = &sink;
  if (Status s = sink.set_schemas(schemas_); !s) return s;
  report("starting");
  stopping_ = false;
  thread_ = std::thread([this, resume] { run(resume); });
  return Status::ok();
}

void MySqlSource::run(std::optional<GtidPosition> resume) {
  if (resume) {
    pos_ = *resume;
  } else {
    auto p = snapshot();
    if (!p) {
      if (!stopping_ && status_.state != "error") report("error", "snapshot failed");
      if (stopping_) report("stopped");
      return;
    }
    pos_ = *p;
  }
  uint32_t backoff_ms = options_.reconnect_backoff_min_ms;
  while (!stopping_) {
    StreamError e = stream();
    if (stopping_) break;
    if (e.fatal) {
      report("error", e.status.message());
      return;  // stop() joins; the owner sees the error state
    }
    if (e.streamed) backoff_ms = options_.reconnect_backoff_min_ms;
    report("starting", "reconnecting in " + std::to_string(backoff_ms) + " ms after: " + e.status.message());
    sleep_backoff(backoff_ms);
  }
  report("stopped");
}

std::optional<GtidPosition> MySqlSource::snapshot() {
  uint32_t backoff_ms = options_.reconnect_backoff_min_ms;
  while (!stopping_) {
    std::string failure;
    [&] {
      Conn c;
      if (Status s = c.open(options_, options_.read_timeout_s); !s) {
        failure = s.message();
        return;
      }
      set_active(&c);
      struct Unset {
        MySqlSource* self;
        ~Unset() { self->set_active(nullptr); }
      } unset{this};
      // InnoDB's consistent read view and the binlog position of the same instant: MariaDB
      // reports the position as Binlog_snapshot_file/_position (README.md, "Snapshot").
      for (const char* sql : {"SET SESSION time_zone = '+00:00'",
                              "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                              "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"}) {
        if (Status s = c.exec(sql); !s) {
          failure = s.message();
          return;
        }
      }
      auto st = c.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
      if (!st) {
        failure = st.status().message();
        return;
      }
      std::string file, offset;
      for (const auto& r : *st) {
        if (r[0] == "Binlog_snapshot_file") file = r[1].value_or("");
        if (r[0] == "Binlog_snapshot_position") offset = r[1].value_or("");
      }
      if (file.empty() || offset.empty()) {
        failure = "the server reports no Binlog_snapshot_file/position";
        return;
      }
      std::string file_lit = "'";
      for (char ch : file) {
        if (ch == '\'' || ch == '\\') file_lit.push_back('\\');
        file_lit.push_back(ch);
      }
      file_lit.push_back('\'');
      auto g = c.query("SELECT BINLOG_GTID_POS(" + file_lit + ", " + std::to_string(std::stoull(offset)) + ")");
      if (!g || g->empty() || !g->at(0)[0]) {
        failure = g ? "BINLOG_GTID_POS returned NULL" : g.status().message();
        return;
      }
      auto gtid = GtidPosition::parse(*g->at(0)[0]);
      if (!gtid) {
        failure = gtid.status().message();
        return;
      }
      status_.snapshot_rows_done = 0;
      status_.snapshot_rows_total = 0;
      for (const auto& t : tables_) {
        auto n = c.query("SELECT COUNT(*) FROM " + quote_ident(options_.database) + "." + quote_ident(t.upstream_name));
        if (!n) {
          failure = n.status().message();
          return;
        }
        status_.snapshot_rows_total += std::stoull(n->at(0)[0].value_or("0"));
      }
      report("snapshotting");

      Transaction batch;
      batch.snapshot = true;
      size_t batch_bytes = 0;
      auto flush = [&](std::string position) -> bool {
        batch.position = std::move(position);
        Status s = apply(std::move(batch));
        batch = Transaction();
        batch.snapshot = true;
        batch_bytes = 0;
        if (!s) {
          report("error", "apply failed: " + s.message());
          return false;
        }
        report("snapshotting");
        return true;
      };
      Arena arena;
      std::vector<Datum> datums;
      for (uint32_t ti = 0; ti < tables_.size(); ++ti) {
        const Table& t = tables_[ti];
        std::string sql = "SELECT ";
        for (size_t i = 0; i < t.columns.size(); ++i) sql += (i ? ", " : "") + snapshot_select_expr(t.columns[i]);
        sql += " FROM " + quote_ident(options_.database) + "." + quote_ident(t.upstream_name);
        if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
          failure = c.error();
          return;
        }
        MYSQL_RES* res = mysql_use_result(c.get());
        if (!res) {
          failure = c.error();
          return;
        }
        struct FreeRes {
          MYSQL_RES* r;
          ~FreeRes() { mysql_free_result(r); }
        } free_res{res};
        while (MYSQL_ROW row = mysql_fetch_row(res)) {
          if (stopping_) return;
          unsigned long* len = mysql_fetch_lengths(res);
          datums.assign(t.columns.size(), Datum::null());
          for (size_t i = 0; i < t.columns.size(); ++i) {
            if (!row[i]) continue;
            auto d = parse_text_value(std::string_view(row[i], len[i]), t.columns[i], arena);
            if (!d) {
              failure = d.status().message();
              return;
            }
            datums[i] = *d;
          }
          Change ch;
          ch.op = Change::Op::kUpsert;
          ch.table = ti;
          ch.key = pack_key(datums, t.key);
          ch.value = Row::pack(datums);
          batch_bytes += ch.key.size_bytes() + ch.value.size_bytes();
          batch.changes.push_back(std::move(ch));
          arena.reset();
          ++status_.snapshot_rows_done;
          if (batch.changes.size() >= options_.snapshot_batch_rows || batch_bytes >= options_.snapshot_batch_bytes) {
            // Mid-snapshot batches carry no position: a restart before the last one snapshots again.
            if (!flush("")) {
              failure = "apply failed";
              return;
            }
          }
        }
        if (mysql_errno(c.get()) != 0) {
          failure = c.error();
          return;
        }
      }
      (void)c.exec("COMMIT");
      // The last batch carries the snapshot's GTID position: streaming starts after it.
      if (!flush(gtid->to_string())) {
        failure = "apply failed";
        return;
      }
      pos_ = *gtid;
    }();
    if (stopping_) return std::nullopt;
    if (failure.empty()) return pos_;
    if (status_.state == "error") return std::nullopt;  // the sink refused: final
    report("starting", "snapshot failed, retrying in " + std::to_string(backoff_ms) + " ms: " + failure);
    sleep_backoff(backoff_ms);
  }
  return std::nullopt;
}

MySqlSource::StreamError MySqlSource::stream() {
  const MySqlOptions& o = options_;
  Conn c;
  uint32_t read_timeout_s = std::max<uint32_t>(3, 3 * o.heartbeat_ms / 1000 + 1);
  if (Status s = c.open(o, read_timeout_s); !s) return {s, false};
  set_active(&c);
  struct Unset {
    MySqlSource* self;
    ~Unset() { self->set_active(nullptr); }
  } unset{this};
  auto fail = [&](std::string what) -> StreamError {
    unsigned e = c.err_no();
    bool fatal = e == kErAccessDenied || e == kErSpecificAccessDenied || e == kErMasterFatalReadingBinlog;
    return {Status::error("mysql: " + what + ": " + c.error()), fatal};
  };

  auto cs = c.query("SELECT @@global.binlog_checksum");
  if (!cs) return {cs.status(), false};
  std::string checksum = cs->empty() || !cs->at(0)[0] ? "NONE" : upper(*cs->at(0)[0]);
  EventDecoder decoder;
  decoder.set_checksum(checksum == "CRC32");
  std::string pos_text = pos_.to_string();
  for (const std::string& sql : std::vector<std::string>{"SET @master_binlog_checksum = @@global.binlog_checksum",
                          std::string("SET @mariadb_slave_capability = 4"),  // MARIA_SLAVE_CAPABILITY_GTID
                          "SET @slave_connect_state = '" + pos_text + "'", std::string("SET @slave_gtid_strict_mode = 0"),
                          std::string("SET @slave_gtid_ignore_duplicates = 0"),
                          "SET @master_heartbeat_period = " + std::to_string(uint64_t{o.heartbeat_ms} * 1000000)}) {
    if (Status s = c.exec(sql); !s) return {s, false};
  }
  // COM_BINLOG_DUMP through Connector/C's replication API; with @slave_connect_state set the
  // server ignores file and offset and starts after the GTID position. The events are read
  // and decoded here, not by mariadb_rpl_fetch (README.md, "Why our own decoder").
  MARIADB_RPL* rpl = mariadb_rpl_init(c.get());
  if (!rpl) return fail("mariadb_rpl_init");
  struct CloseRpl {
    MARIADB_RPL* r;
    ~CloseRpl() { mariadb_rpl_close(r); }
  } close_rpl{rpl};
  uint32_t server_id = o.server_id ? o.server_id : derive_server_id(o.source_id);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, 4UL);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, "", size_t{0});
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, 0u);
  if (mariadb_rpl_open(rpl) != 0) return fail("COM_BINLOG_DUMP");
  report("running");
  // From here on every return is after streaming began.
  auto streamed = [](StreamError e) {
    e.streamed = true;
    return e;
  };

  std::vector<std::string> captured;
  for (const auto& t : tables_) captured.push_back(t.upstream_name);
  struct MappedTable {
    TableMapEvent map;
    int table = -1;  // index into tables_, -1 when not captured
  };
  std::unordered_map<uint64_t, MappedTable> table_maps;
  bool in_txn = false;
  Gtid gtid;
  Transaction txn;
  Arena arena;
  std::vector<RowImage> images;

  auto commit = [&](uint32_t commit_time_s) -> Status {
    in_txn = false;
    if (pos_.includes(gtid)) {  // already durable: exactly once
      txn = Transaction();
      return Status::ok();
    }
    pos_.advance(gtid);
    if (txn.changes.empty()) return Status::ok();  // nothing of ours; position kept in memory
    txn.position = pos_.to_string();
    txn.commit_time_ms = uint64_t{commit_time_s} * 1000;
    Status s = apply(std::move(txn));
    txn = Transaction();
    return s;
  };

  while (!stopping_) {
    unsigned long len = mysql_net_read_packet(c.get());
    if (len == packet_error || len == 0) return streamed(fail("reading the binlog"));
    const unsigned char* p = c.get()->net.read_pos;
    if (p[0] == 0xFE && len < 9) return streamed(StreamError{Status::error("mysql: the server ended the binlog stream"), false});
    if (p[0] != 0) return streamed(StreamError{Status::error("mysql: unexpected binlog packet"), false});
    auto ev = decoder.decode(std::string_view(reinterpret_cast<const char*>(p) + 1, len - 1));
    if (!ev) return streamed(StreamError{ev.status(), false});
    const EventHeader& h = ev->header;
    if (auto* g = std::get_if<GtidEvent>(&ev->body)) {
      in_txn = true;
      gtid = g->gtid;
      txn = Transaction();
      table_maps.clear();
      if (g->standalone()) {
        // A standalone event group (DDL): its one QUERY event follows and ends it.
      }
    } else if (auto* q = std::get_if<QueryEvent>(&ev->body)) {
      std::string_view sql = q->query;
      std::string head = upper(sql.substr(0, 8));
      if (head.rfind("BEGIN", 0) == 0) continue;
      if (head.rfind("COMMIT", 0) == 0 || head.rfind("XA END", 0) == 0) {
        if (in_txn) {
          if (Status s = commit(h.timestamp); !s) return streamed(StreamError{Status::error("apply failed: " + s.message()), true});
        }
        continue;
      }
      if (ddl_touches(sql, q->db, o.database, captured))
        return streamed(StreamError{Status::error("mysql: DDL on a captured table (" + std::string(sql.substr(0, 200)) +
                              "): the captured schema no longer matches; drop and re-create the source"),
                true});
      // Other statements (DDL elsewhere, a standalone group's statement) end their group.
      if (in_txn) {
        txn.changes.clear();  // a standalone statement never carries our row changes
        if (Status s = commit(h.timestamp); !s) return streamed(StreamError{Status::error("apply failed: " + s.message()), true});
      }
    } else if (std::get_if<XidEvent>(&ev->body)) {
      if (in_txn) {
        if (Status s = commit(h.timestamp); !s) return streamed(StreamError{Status::error("apply failed: " + s.message()), true});
      }
    } else if (auto* tm = std::get_if<TableMapEvent>(&ev->body)) {
      MappedTable mt;
      if (tm->db == o.database) {
        for (size_t i = 0; i < tables_.size(); ++i)
          if (tables_[i].upstream_name == tm->table) mt.table = static_cast<int>(i);
      }
      if (mt.table >= 0) {
        if (Status s = check_table_map(*tm, tables_[static_cast<size_t>(mt.table)].columns); !s) return streamed(StreamError{s, true});
      }
      mt.map = std::move(*tm);
      table_maps[mt.map.table_id] = std::move(mt);
    } else if (auto* rows = std::get_if<RowsEvent>(&ev->body)) {
      auto it = table_maps.find(rows->table_id);
      if (it == table_maps.end()) return streamed(StreamError{Status::error("binlog: rows event for an unknown table id"), false});
      if (it->second.table < 0) continue;
      if (!in_txn || pos_.includes(gtid)) continue;  // will be skipped at commit anyway
      uint32_t ti = static_cast<uint32_t>(it->second.table);
      const Table& t = tables_[ti];
      images.clear();
      arena.reset();
      if (Status s = decode_rows(*rows, it->second.map, t.columns, arena, images); !s) return streamed(StreamError{s, false});
      for (const RowImage& img : images) {
        if (!img.before.empty()) {
          Row old_key = pack_key(img.before, t.key);
          if (img.after.empty() || pack_key(img.after, t.key) != old_key) {
            Change ch;
            ch.op = Change::Op::kDelete;
            ch.table = ti;
            ch.key = std::move(old_key);
            txn.changes.push_back(std::move(ch));
          }
        }
        if (!img.after.empty()) {
          Change ch;
          ch.op = Change::Op::kUpsert;
          ch.table = ti;
          ch.key = pack_key(img.after, t.key);
          ch.value = Row::pack(img.after);
          txn.changes.push_back(std::move(ch));
        }
      }
    } else if (std::get_if<OtherEvent>(&ev->body)) {
      uint8_t type = h.type;
      if (type == event_type::kQueryCompressed ||
          (type >= event_type::kWriteRowsCompressedV1 && type <= event_type::kDeleteRowsCompressedV2))
        return streamed(StreamError{Status::error("mysql: compressed binlog events are not supported: set log_bin_compress=OFF"), true});
      if (type == event_type::kStartEncryption)
        return streamed(StreamError{Status::error("mysql: encrypted binlogs are not supported"), true});
    }
  }
  return streamed(StreamError{Status::ok(), false});
}

}  // namespace freshet::capture::mysql
