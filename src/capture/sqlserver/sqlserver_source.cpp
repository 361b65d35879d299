#include "capture/sqlserver/sqlserver_source.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace freshet::capture::sqlserver {

namespace {

// SQL Server error numbers the connector interprets.
constexpr int kErrPermissionDenied = 229;    // The SELECT permission was denied on the object ...
constexpr int kErrInvalidLsnRange = 313;     // fn_cdc_get_all_changes: LSN range outside the instance
constexpr int kErrInvalidObject = 208;       // Invalid object name (the documentation gives it for 313's case too)
constexpr int kErrInvalidColumn = 207;       // Invalid column name
constexpr int kErrLoginFailed = 18456;

int64_t to_int(const std::optional<std::string>& v, int64_t dflt = 0) {
  if (!v) return dflt;
  try {
    return std::stoll(*v);
  } catch (...) {
    return dflt;
  }
}

std::string table_label(const std::string& schema, const std::string& table) { return schema + "." + table; }

// The first result set has at least `ncols` columns in every row (a server that answers a
// catalog query in an unexpected shape gets an error, never an out-of-range read).
Status check_shape(const std::vector<ResultSet>& r, size_t ncols, const char* what) {
  if (r.empty()) return Status::error(std::string("sql server: no result for ") + what);
  for (const TextRow& row : r[0].rows)
    if (row.size() < ncols) return Status::error(std::string("sql server: unexpected result shape for ") + what);
  return Status::ok();
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace

std::string quote_name(std::string_view s) {
  std::string q = "[";
  for (char c : s) {
    q.push_back(c);
    if (c == ']') q.push_back(']');
  }
  q.push_back(']');
  return q;
}

std::string quote_literal(std::string_view s) {
  std::string q = "N'";
  for (char c : s) {
    q.push_back(c);
    if (c == '\'') q.push_back('\'');
  }
  q.push_back('\'');
  return q;
}

SqlServerSource::SqlServerSource(SqlServerOptions options) : options_(std::move(options)) {}

SqlServerSource::~SqlServerSource() { stop(); }

void SqlServerSource::stop() {
  stopping_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SqlServerSource::report(std::string state, std::string error) {
  status_.state = std::move(state);
  status_.last_error = std::move(error);
  if (sink_) sink_->report(status_);
}

void SqlServerSource::sleep_ms(uint32_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_.load(); });
}

Status SqlServerSource::check_agent(TdsConnection& c, bool& running) {
  running = true;
  auto r = c.run("SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'");
  if (!r) {
    // Without VIEW SERVER STATE the state is unknown: assume it runs (README.md).
    if (c.last_error().number != 0) return Status::ok();
    return r.status();
  }
  if (Status s = check_shape(*r, 1, "sys.dm_server_services"); !s) return s;
  if (!r->at(0).rows.empty()) {
    std::string st = r->at(0).rows[0][0].value_or("");
    running = st == "Running";
  }
  return Status::ok();
}

Status SqlServerSource::validate(bool& unreachable) {
  unreachable = false;
  tables_.clear();
  schemas_.clear();
  const TdsOptions& co = options_.connection;
  TdsConnection c;
  if (Status s = c.open(co); !s) {
    unreachable = c.last_error().number == 0;
    if (c.last_error().number == kErrLoginFailed)
      return Status::error("sql server: login failed for user '" + co.user + "' at " + co.host + ":" + std::to_string(co.port) +
                           " (wrong password or unknown login): " + s.message());
    return Status::error("sql server: cannot connect to " + co.host + ":" + std::to_string(co.port) + ": " + s.message());
  }
  // The database: CDC and SNAPSHOT isolation.
  auto db = c.run(
      "SELECT name, CAST(is_cdc_enabled AS int), CAST(snapshot_isolation_state AS int) FROM sys.databases "
      "WHERE name = DB_NAME()");
  if (!db) return Status::error("sql server: reading sys.databases: " + db.status().message());
  if (Status s = check_shape(*db, 3, "sys.databases"); !s) return s;
  if (db->at(0).rows.empty()) return Status::error("sql server: database " + co.database + " not found");
  const TextRow& d = db->at(0).rows[0];
  if (to_int(d[1]) != 1)
    return Status::error("sql server: change data capture is not enabled on database " + d[0].value_or(co.database) +
                         ": run EXEC sys.sp_cdc_enable_db in it (as sysadmin), then sys.sp_cdc_enable_table for each table");
  if (to_int(d[2]) != 1)
    return Status::error("sql server: SNAPSHOT isolation is not allowed in database " + d[0].value_or(co.database) +
                         " (the initial snapshot needs it): run ALTER DATABASE " + quote_name(d[0].value_or(co.database)) +
                         " SET ALLOW_SNAPSHOT_ISOLATION ON");

  // Capture instances.
  auto inst = c.run(
      "SELECT capture_instance, OBJECT_SCHEMA_NAME(source_object_id), OBJECT_NAME(source_object_id), role_name "
      "FROM cdc.change_tables ORDER BY create_date, capture_instance");
  if (!inst) {
    if (c.last_error().number == kErrPermissionDenied)
      return Status::error("sql server: user " + co.user + " may not read the CDC metadata (cdc.change_tables): " +
                           inst.status().message() + "; capturing needs membership in db_owner (or SELECT on the cdc schema) "
                           "and SELECT on the captured tables");
    return Status::error("sql server: reading cdc.change_tables: " + inst.status().message());
  }
  if (Status s = check_shape(*inst, 4, "cdc.change_tables"); !s) return s;
  std::map<std::string, std::vector<std::string>> instances;  // "schema.table" → capture instances
  std::map<std::string, std::string> gating_role;              // capture instance → its role_name
  std::vector<std::pair<std::string, std::string>> enabled;     // in order
  for (const auto& r : inst->at(0).rows) {
    if (!r[0] || !r[1] || !r[2]) continue;
    std::string key = *r[1] + "." + *r[2];
    if (!instances.count(key)) enabled.emplace_back(*r[1], *r[2]);
    instances[key].push_back(*r[0]);
    if (r[3]) gating_role[*r[0]] = *r[3];
  }
  std::vector<SqlServerTableSelection> selected = options_.tables;
  if (selected.empty()) {
    if (enabled.empty())
      return Status::error("sql server: no table of database " + co.database +
                           " has change data capture enabled: run EXEC sys.sp_cdc_enable_table for the tables to capture");
    for (const auto& [s, t] : enabled) selected.push_back({s, t, ""});
  }

  std::set<std::string> names;
  for (const auto& sel : selected) {
    std::string label = table_label(sel.schema, sel.table);
    std::string obj = quote_literal(quote_name(sel.schema) + "." + quote_name(sel.table));
    // Columns first: a missing table is named as such, before CDC is looked at.
    auto cols = c.run(
        "SELECT c.name, TYPE_NAME(c.system_type_id), c.max_length, c.precision, c.scale, CAST(c.is_nullable AS int) "
        "FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(" + obj + ") ORDER BY c.column_id");
    if (!cols) return Status::error("sql server: reading the columns of " + label + ": " + cols.status().message());
    if (Status s = check_shape(*cols, 6, "sys.columns"); !s) return s;
    if (cols->at(0).rows.empty())
      return Status::error("sql server: table " + label + " does not exist in database " + co.database);
    auto it = instances.find(sel.schema + "." + sel.table);
    if (it == instances.end())
      return Status::error("sql server: change data capture is not enabled on table " + label + ": run EXEC sys.sp_cdc_enable_table @source_schema = " +
                           quote_literal(sel.schema) + ", @source_name = " + quote_literal(sel.table) + ", @role_name = NULL");
    if (it->second.size() > 1)
      return Status::error("sql server: table " + label + " has two capture instances (" + it->second[0] + ", " + it->second[1] +
                           "): its schema is being changed; drop the old capture instance (sys.sp_cdc_disable_table) first");
    CapturedTable t;
    t.capture_instance = it->second[0];
    if (auto role = gating_role.find(t.capture_instance); role != gating_role.end()) {
      // A gating role: reading the change function needs membership in it (or db_owner).
      auto m = c.run("SELECT IS_ROLEMEMBER(" + quote_literal(role->second) + "), IS_ROLEMEMBER(N'db_owner')");
      if (!m) return Status::error("sql server: checking the gating role of " + t.capture_instance + ": " + m.status().message());
      if (Status s = check_shape(*m, 2, "IS_ROLEMEMBER"); !s) return s;
      if (m->at(0).rows.empty() || (to_int(m->at(0).rows[0][0]) != 1 && to_int(m->at(0).rows[0][1]) != 1))
        return Status::error("sql server: user " + co.user + " is not a member of " + role->second + ", the gating role of capture instance " +
                             t.capture_instance + " (" + label + "): run ALTER ROLE " + quote_name(role->second) + " ADD MEMBER " +
                             quote_name(co.user));
    }
    t.schema.upstream_schema = sel.schema;
    t.schema.upstream_name = sel.table;
    t.schema.name = sel.name.empty() ? sel.table : sel.name;
    if (!names.insert(t.schema.name).second)
      return Status::error("sql server: two captured tables would both be called " + t.schema.name + " in Freshet; rename one with AS");
    for (const auto& r : cols->at(0).rows) {
      RawColumn raw;
      raw.name = r[0].value_or("");
      raw.type_name = r[1].value_or("");
      raw.max_length = static_cast<int>(to_int(r[2]));
      raw.precision = static_cast<int>(to_int(r[3]));
      raw.scale = static_cast<int>(to_int(r[4]));
      raw.nullable = to_int(r[5], 1) != 0;
      auto type = map_type(raw, label);
      if (!type) return Status::error("sql server: " + type.status().message());
      t.schema.columns.push_back({raw.name, *type, raw.nullable});
    }
    auto pk = c.run(
        "SELECT c.name FROM sys.indexes AS i JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id "
        "JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
        "WHERE i.object_id = OBJECT_ID(" + obj + ") AND i.is_primary_key = 1 ORDER BY ic.key_ordinal");
    if (!pk) return Status::error("sql server: reading the primary key of " + label + ": " + pk.status().message());
    if (Status s = check_shape(*pk, 1, "sys.indexes"); !s) return s;
    for (const auto& r : pk->at(0).rows)
      for (uint32_t i = 0; i < t.schema.columns.size(); ++i)
        if (t.schema.columns[i].name == r[0].value_or("")) t.schema.key.push_back(i);
    if (t.schema.key.empty())
      return Status::error("sql server: table " + label + " has no primary key; a SQL Server source needs one to apply updates and deletes");
    auto perm = c.run("SELECT HAS_PERMS_BY_NAME(" + obj + ", N'OBJECT', N'SELECT')");
    if (!perm) return Status::error("sql server: checking permissions on " + label + ": " + perm.status().message());
    if (Status s = check_shape(*perm, 1, "HAS_PERMS_BY_NAME"); !s) return s;
    if (perm->at(0).rows.empty() || to_int(perm->at(0).rows[0][0]) != 1)
      return Status::error("sql server: user " + co.user + " lacks the SELECT permission on " + label +
                           " (needed for the snapshot and for cdc.fn_cdc_get_all_changes_" + t.capture_instance + "): GRANT SELECT ON " +
                           quote_name(sel.schema) + "." + quote_name(sel.table) + " TO the user, or add it to db_owner");
    schemas_.push_back(t.schema);
    tables_.push_back(std::move(t));
  }
  bool agent = true;
  if (Status s = check_agent(c, agent); !s) return Status::error("sql server: " + s.message());
  if (!agent)
    return Status::error("sql server: SQL Server Agent is not running on " + co.host +
                         ": the CDC capture job runs under it, so no change would reach the change tables (sys.fn_cdc_get_max_lsn() "
                         "does not advance); start SQL Server Agent");

  return Status::ok();
}

Status SqlServerSource::start(SourceSink& sink, std::optional<std::string> resume_position) {
  FRESHET_ASSERT(!thread_.joinable());
  const TdsOptions& co = options_.connection;
  if (co.database.empty()) return Status::error("sql server: no DATABASE given in the connection");
  if (co.user.empty()) return Status::error("sql server: no USER given in the connection");
  std::optional<Position> resume;
  if (resume_position && !resume_position->empty()) {
    auto p = Position::parse(*resume_position);
    if (!p) return p.status();
    resume = *p;
  }

  if (resume && resume->snapshot_in_progress)
    return Status::error("sql server: the initial snapshot of this source was interrupted; drop and recreate the source");

  sink_ = &sink;
  stopping_ = false;
  bool unreachable = false;
  if (Status v = validate(unreachable); !v) {
    if (!resume || !unreachable) return v;
    // Resuming while the server cannot be reached (Freshet restarted during an upstream
    // outage): the coordinator knows the tables already, so keep trying in the background
    // rather than leaving the source dead.
    report("starting", "waiting for the server: " + v.message());
    thread_ = std::thread([this, resume] {
      uint32_t backoff_ms = options_.reconnect_backoff_min_ms;
      while (!stopping_) {
        sleep_ms(backoff_ms);
        if (stopping_) break;
        backoff_ms = std::min(options_.reconnect_backoff_max_ms, std::max(backoff_ms * 2, options_.reconnect_backoff_min_ms));
        bool unr = false;
        Status s = validate(unr);
        if (s) {
          if (Status ss = sink_->set_schemas(schemas_); !ss) {
            report("error", ss.message());
            return;
          }
          run(resume);
          return;
        }
        if (!unr) {
          report("error", s.message());
          return;
        }
        report("starting", "reconnecting in " + std::to_string(backoff_ms) + " ms after: " + s.message());
      }
      report("stopped");
    });
    return Status::ok();
  }
  if (Status s = sink.set_schemas(schemas_); !s) return s;
  report("starting");
  thread_ = std::thread([this, resume] { run(resume); });
  return Status::ok();
}

void SqlServerSource::run(std::optional<Position> resume) {
  if (resume) {
    pos_ = *resume;
  } else if (!snapshot()) {
    if (stopping_) report("stopped");
    return;
  }
  uint32_t backoff_ms = options_.reconnect_backoff_min_ms;
  while (!stopping_) {
    uint64_t started = now_ms();
    PollError e = poll_session();
    if (stopping_) break;
    if (e.fatal) {
      report("error", e.status.message());
      return;
    }
    if (now_ms() - started > 5000) backoff_ms = options_.reconnect_backoff_min_ms;
    report("starting", "reconnecting in " + std::to_string(backoff_ms) + " ms after: " + e.status.message());
    sleep_ms(backoff_ms);
    backoff_ms = std::min(options_.reconnect_backoff_max_ms, std::max(backoff_ms * 2, options_.reconnect_backoff_min_ms));
  }
  report("stopped");
}

bool SqlServerSource::snapshot() {
  uint32_t backoff_ms = options_.reconnect_backoff_min_ms;
  while (!stopping_) {
    bool applied_any = false;
    std::string failure;
    [&] {
      TdsConnection c;
      if (Status s = c.open(options_.connection); !s) {
        failure = s.message();
        return;
      }
      // SNAPSHOT isolation: the transaction sees the database as of its first read, which is
      // sys.fn_cdc_get_max_lsn() (README.md, "Snapshot").
      auto head = c.run("SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRANSACTION; SELECT sys.fn_cdc_get_max_lsn()");
      if (!head) {
        failure = head.status().message();
        return;
      }
      if (head->empty() || head->back().rows.empty() || !head->back().rows[0][0]) {
        failure = "sys.fn_cdc_get_max_lsn() is NULL: the CDC capture job has not run yet (is SQL Server Agent running?)";
        return;
      }
      auto lsn = Lsn::parse(*head->back().rows[0][0]);
      if (!lsn) {
        failure = lsn.status().message();
        return;
      }
      status_.snapshot_rows_done = 0;
      status_.snapshot_rows_total = 0;
      for (const auto& t : tables_) {
        auto n = c.run("SELECT COUNT_BIG(*) FROM " + quote_name(t.schema.upstream_schema) + "." + quote_name(t.schema.upstream_name));
        if (!n || n->empty() || n->at(0).rows.empty()) {
          failure = n ? "COUNT_BIG returned nothing" : n.status().message();
          return;
        }
        status_.snapshot_rows_total += static_cast<uint64_t>(to_int(n->at(0).rows[0][0]));
      }
      report("snapshotting");
      Position snap;
      snap.commit_lsn = *lsn;
      snap.seqval = Lsn::max();  // every change at the snapshot's LSN is in the snapshot
      Position partial = snap;
      partial.snapshot_in_progress = true;
      Transaction batch;
      batch.snapshot = true;
      Arena arena;
      auto flush = [&](const Position& p) -> bool {
        batch.position = p.to_string();
        Status s = sink_->apply(std::move(batch));
        batch = Transaction();
        batch.snapshot = true;
        applied_any = true;
        if (!s) {
          failure = "apply failed: " + s.message();
          return false;
        }
        report("snapshotting");
        return true;
      };
      for (uint32_t ti = 0; ti < tables_.size(); ++ti) {
        const CapturedTable& t = tables_[ti];
        std::string sql = "SELECT ";
        for (size_t i = 0; i < t.schema.columns.size(); ++i) sql += (i ? ", " : "") + quote_name(t.schema.columns[i].name);
        sql += " FROM " + quote_name(t.schema.upstream_schema) + "." + quote_name(t.schema.upstream_name);
        // Streamed: one row in memory from the client, at most snapshot_batch_rows in a batch.
        bool apply_failed = false;
        Status st = c.run_each(
            sql, [](std::vector<std::string>) { return Status::ok(); },
            [&](TextRow& r) -> Status {
              if (stopping_) return Status::error("stopping");
              Change ch;
              ch.table = ti;
              if (Status s = decode_values(t, r, 0, arena, ch.value, ch.key); !s) return s;
              batch.changes.push_back(std::move(ch));
              arena.reset();
              ++status_.snapshot_rows_done;
              if (batch.changes.size() >= options_.snapshot_batch_rows && !flush(partial)) {
                apply_failed = true;
                return Status::error(failure);
              }
              return Status::ok();
            });
        if (stopping_ || apply_failed) return;
        if (!st) {
          failure = st.message();
          return;
        }
      }
      (void)c.run("COMMIT TRANSACTION");  // read-only: nothing is lost if the commit fails
      if (!flush(snap)) return;
      pos_ = snap;
    }();
    if (stopping_) return false;
    if (failure.empty()) return true;
    if (applied_any) {
      // Part of the snapshot is durable under a ":-snapshot" position; it cannot be completed.
      report("error", "sql server: the initial snapshot failed after it began to be stored (" + failure +
                          "); drop and recreate the source");
      return false;
    }
    report("starting", "snapshot failed, retrying in " + std::to_string(backoff_ms) + " ms: " + failure);
    sleep_ms(backoff_ms);
    backoff_ms = std::min(options_.reconnect_backoff_max_ms, std::max(backoff_ms * 2, options_.reconnect_backoff_min_ms));
  }
  return false;
}

Status SqlServerSource::check_instances(TdsConnection& c, bool& query_failed) {
  query_failed = false;
  auto inst = c.run(
      "SELECT capture_instance, OBJECT_SCHEMA_NAME(source_object_id), OBJECT_NAME(source_object_id), role_name "
      "FROM cdc.change_tables ORDER BY create_date, capture_instance");
  if (!inst) {
    query_failed = true;  // a lost connection or a restarting server: retried
    return inst.status();
  }
  if (Status s = check_shape(*inst, 4, "cdc.change_tables"); !s) return s;
  for (const auto& t : tables_) {
    bool ours = false;
    std::string other;
    for (const auto& r : inst->at(0).rows) {
      if (r[1] != t.schema.upstream_schema || r[2] != t.schema.upstream_name) continue;
      if (r[0] == t.capture_instance) ours = true;
      else other = r[0].value_or("");
    }
    std::string label = table_label(t.schema.upstream_schema, t.schema.upstream_name);
    if (!other.empty())
      return Status::error("sql server: the schema of " + label + " changed upstream: a new capture instance " + other +
                           " was created next to " + t.capture_instance + "; drop and recreate the source to capture the new schema");
    if (!ours)
      return Status::error("sql server: capture instance " + t.capture_instance + " of " + label +
                           " was dropped upstream (change data capture disabled on the table); drop and recreate the source");
  }
  return Status::ok();
}

SqlServerSource::PollError SqlServerSource::poll_session() {
  TdsConnection c;
  if (Status s = c.open(options_.connection); !s) return {s, false};
  report("running");
  uint64_t last_meta_ms = 0;
  bool agent_running = true;
  Arena arena;
  while (!stopping_) {
    uint64_t now = now_ms();
    if (now - last_meta_ms >= options_.metadata_interval_ms) {
      last_meta_ms = now;
      bool query_failed = false;
      if (Status s = check_instances(c, query_failed); !s) return {s, !query_failed};
      bool running = true;
      if (Status s = check_agent(c, running); !s) return {s, false};
      if (!running)
        report("error", "sql server: SQL Server Agent is not running: the CDC capture job is stopped and sys.fn_cdc_get_max_lsn() "
                        "does not advance, so changes wait upstream; start SQL Server Agent");
      else if (!agent_running)
        report("running");
      agent_running = running;
    }
    // Where the change tables end, and where each capture instance begins.
    std::string sql = "SELECT sys.fn_cdc_get_max_lsn()";
    for (const auto& t : tables_) sql += ", sys.fn_cdc_get_min_lsn(" + quote_literal(t.capture_instance) + ")";
    auto lim = c.run(sql);
    if (!lim) return {lim.status(), false};
    if (lim->empty() || lim->at(0).rows.empty()) return {Status::error("sql server: no answer to the LSN query"), false};
    const TextRow& lr = lim->at(0).rows[0];
    if (lr.size() != 1 + tables_.size()) return {Status::error("sql server: bad answer to the LSN query"), false};
    if (!lr[0]) {
      sleep_ms(options_.poll_interval_ms);
      continue;
    }
    auto max_lsn = Lsn::parse(*lr[0]);
    if (!max_lsn) return {max_lsn.status(), true};
    Lsn from = pos_.commit_lsn.increment();
    for (size_t i = 0; i < tables_.size(); ++i) {
      auto min_lsn = lr[1 + i] ? Lsn::parse(*lr[1 + i]) : Result<Lsn>(Lsn::zero());
      if (!min_lsn) return {min_lsn.status(), true};
      if (min_lsn->is_zero()) continue;  // checked by check_instances
      if (*min_lsn > from)
        return {Status::error("sql server: CDC cleanup removed changes this source has not read: capture instance " +
                              tables_[i].capture_instance + " now begins at LSN 0x" + min_lsn->hex() +
                              ", after the source's position 0x" + pos_.commit_lsn.hex() +
                              " (the retention period of the cleanup job is shorter than the source's downtime); "
                              "drop and recreate the source to take a new snapshot"),
                true};
    }
    if (*max_lsn <= pos_.commit_lsn) {
      sleep_ms(options_.poll_interval_ms);
      continue;
    }
    // Every change in (position, max]: one result set per capture instance, merged by LSN.
    std::string q = "DECLARE @from binary(10) = sys.fn_cdc_increment_lsn(" + pos_.commit_lsn.literal() +
                    "), @to binary(10) = " + max_lsn->literal() + ";";
    for (const auto& t : tables_) {
      q += " SELECT __$start_lsn, __$seqval, __$operation, "
           "DATEDIFF_BIG(millisecond, '1970-01-01', sys.fn_cdc_map_lsn_to_time(__$start_lsn))";
      for (const auto& col : t.schema.columns) q += ", " + quote_name(col.name);
      q += " FROM cdc." + quote_name("fn_cdc_get_all_changes_" + t.capture_instance) +
           "(@from, @to, N'all update old') ORDER BY __$start_lsn, __$seqval, __$operation;";
    }
    auto rs = c.run(q);
    if (!rs) {
      int n = c.last_error().number;
      if (n == kErrInvalidLsnRange)
        return {Status::error("sql server: the LSN range from the source's position 0x" + pos_.commit_lsn.hex() +
                              " is no longer available (SQL Server error 313: " + rs.status().message() +
                              "); CDC cleanup removed changes this source has not read; drop and recreate the source"),
                true};
      // 208 (invalid object: the change function of a dropped instance; also the number the
      // documentation gives for an LSN range out of bounds, which the min-LSN check above
      // already reports), 207 (invalid column: a column the instance does not capture), 229
      // (permission): retrying cannot help.
      if (n == kErrInvalidObject || n == kErrInvalidColumn || n == kErrPermissionDenied)
        return {Status::error("sql server: reading the change tables failed (SQL Server error " + std::to_string(n) + ": " +
                              rs.status().message() + "); drop and recreate the source"),
                true};
      return {rs.status(), false};
    }
    if (rs->size() != tables_.size()) return {Status::error("sql server: expected one result per capture instance"), false};
    std::vector<ChangeRow> rows;
    for (uint32_t ti = 0; ti < tables_.size(); ++ti) {
      for (const TextRow& r : rs->at(ti).rows) {
        auto cr = decode_change_row(tables_[ti], ti, r, arena);
        if (!cr) return {cr.status(), true};
        rows.push_back(std::move(*cr));
      }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ChangeRow& a, const ChangeRow& b) {
      if (a.start_lsn != b.start_lsn) return a.start_lsn < b.start_lsn;
      if (a.seqval != b.seqval) return a.seqval < b.seqval;
      return a.operation < b.operation;
    });
    ChangeAssembler asm_(pos_);
    for (auto& r : rows)
      if (Status s = asm_.add(std::move(r)); !s) return {s, true};
    arena.reset();
    if (Status s = asm_.finish(); !s) return {s, true};
    auto txns = asm_.take();
    for (auto& txn : txns) {
      if (stopping_) return {Status::ok(), false};
      auto p = Position::parse(txn.position);
      FRESHET_ASSERT(p.is_ok());
      Status s = sink_->apply(std::move(txn));
      if (!s) return {Status::error("apply failed: " + s.message()), true};
      pos_ = *p;
    }
    // Everything up to max has been read: the next poll starts after it. (Only in memory: the
    // durable position is the last applied transaction's, and a restart reads from there.)
    pos_.commit_lsn = *max_lsn;
    pos_.seqval = Lsn::max();
    if (txns.empty()) sleep_ms(options_.poll_interval_ms);
  }
  return {Status::ok(), false};
}

}  // namespace freshet::capture::sqlserver
