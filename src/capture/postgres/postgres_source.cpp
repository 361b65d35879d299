#include "capture/postgres/postgres_source.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>

#include "capture/postgres/change_decoder.hpp"
#include "capture/postgres/pgoutput.hpp"
#include "common/format.hpp"
#include "common/row.hpp"

namespace freshet::capture::postgres {

namespace {

constexpr std::string_view kSnapshotSuffix = ":snapshot";

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string quote_ident(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int64_t now_pg_us() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return us.count() - kUnixToPgEpochMicros;
}

// Every session gets the same text formats, so that snapshot rows (libpq text results) and
// streamed rows (pgoutput's text values, produced by the walsender's output functions) are
// byte-for-byte what parse_datum expects: ISO dates, UTC timestamps, shortest exact floats.
constexpr const char* kSessionOptions =
    "-c datestyle=ISO,MDY -c intervalstyle=postgres -c timezone=UTC -c extra_float_digits=3 -c bytea_output=hex";

Result<ConnPtr> connect(const PostgresSourceOptions& o, bool replication) {
  std::string port = std::to_string(o.port);
  std::string timeout = std::to_string(std::max(1, o.connect_timeout_s));
  const char* sslmode = o.sslmode == SslMode::kDisable ? "disable" : o.sslmode == SslMode::kRequire ? "require" : "prefer";
  std::vector<const char*> keys = {"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout",
                                   "application_name", "options", "client_encoding", "keepalives",
                                   "keepalives_idle", "keepalives_interval", "keepalives_count"};
  std::vector<const char*> values = {o.host.c_str(), port.c_str(), o.database.c_str(), o.user.c_str(),
                                     o.password.c_str(), sslmode, timeout.c_str(), "freshet",
                                     kSessionOptions, "UTF8", "1", "10", "5", "3"};
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  ConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!conn) return Status::error("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::error(fmt::format("cannot connect to PostgreSQL at {}:{}{}: {}", o.host, o.port,
                                     replication ? " (replication connection)" : "",
                                     trim(PQerrorMessage(conn.get()))));
  }
  return conn;
}

struct QueryError {
  std::string sqlstate;
  std::string message;
};

// Runs a statement (parameters in text format); nullopt error on success.
ResultPtr exec(PGconn* conn, const std::string& sql, const std::vector<std::string>& params, QueryError* err) {
  std::vector<const char*> p;
  for (const auto& s : params) p.push_back(s.c_str());
  ResultPtr r(params.empty() ? PQexec(conn, sql.c_str())
                             : PQexecParams(conn, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr,
                                            nullptr, 0));
  ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_BOTH) {
    err->message.clear();
    return r;
  }
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  err->sqlstate = state ? state : "";
  const char* msg = r ? PQresultErrorMessage(r.get()) : nullptr;
  err->message = trim(msg && *msg ? msg : PQerrorMessage(conn));
  return nullptr;
}

Result<ResultPtr> query(PGconn* conn, const std::string& sql, const std::vector<std::string>& params = {}) {
  QueryError err;
  ResultPtr r = exec(conn, sql, params, &err);
  if (!r) return Status::error(err.message);
  return r;
}

std::string value(PGresult* r, int row, int col) { return PQgetvalue(r, row, col); }
bool is_true(PGresult* r, int row, int col) { return !PQgetisnull(r, row, col) && value(r, row, col) == "t"; }

std::string label(const TableSchema& s) { return s.upstream_schema + "." + s.upstream_name; }

}  // namespace

std::optional<SslMode> parse_sslmode(std::string_view s) {
  if (s == "disable") return SslMode::kDisable;
  if (s == "prefer") return SslMode::kPrefer;
  if (s == "require") return SslMode::kRequire;
  return std::nullopt;
}

std::string slot_name_for_source(std::string_view source_id) {
  std::string name = "freshet_";
  for (char c : source_id) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    name += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_') ? l : '_';
  }
  if (name.size() > 63) {
    std::string hash = fmt::format("_{:016x}", hash_bytes(source_id));
    name = name.substr(0, 63 - hash.size()) + hash;
  }
  return name;
}

Status drop_replication_slot(const PostgresSourceOptions& o) {
  auto conn = connect(o, false);
  if (!conn) return conn.status();
  // Right after stop() the upstream's walsender may still hold the slot for a moment.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, o.connect_timeout_s));
  for (;;) {
    auto r = query(conn->get(), "SELECT active FROM pg_replication_slots WHERE slot_name = $1", {o.slot_name});
    if (!r) return Status::error(fmt::format("cannot drop replication slot {}: {}", o.slot_name, r.status().message()));
    if (PQntuples(r->get()) == 0) return Status::ok();
    if (!is_true(r->get(), 0, 0) || std::chrono::steady_clock::now() > deadline) {
      auto d = query(conn->get(), "SELECT pg_drop_replication_slot($1)", {o.slot_name});
      if (!d) return Status::error(fmt::format("cannot drop replication slot {}: {}", o.slot_name, d.status().message()));
      return Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// ---------------------------------------------------------------------------------------

struct PostgresSource::Impl {
  explicit Impl(PostgresSourceOptions o) : options(std::move(o)) {}

  // Constant after start().
  const PostgresSourceOptions options;
  SourceSink* sink = nullptr;
  std::vector<CapturedTable> tables;
  std::optional<Lsn> resume_lsn;
  bool slot_exists = false;
  int wake_pipe[2] = {-1, -1};

  // Owned by the connector thread after start().
  ConnPtr catalog;      // catalog queries and the snapshot
  ConnPtr replication;  // replication=database
  Lsn durable_lsn = 0;  // the last position apply() made durable
  SourceStatus status;

  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};

  // Written by the connector thread, read by stats().
  std::atomic<uint64_t> stat_applied{0}, stat_skipped{0}, stat_snapshot_rows{0}, stat_reconnects{0},
      stat_durable_lsn{0};

  // start()
  Status validate_and_describe();
  Status describe_table(CapturedTable& t, const std::string& attnames);
  Status check_slot();

  // connector thread
  void run();
  Status snapshot();
  Status flush_snapshot_batch(Transaction& batch, size_t& batch_bytes, bool last, Lsn consistent_point);
  enum class SessionEnd { kStopped, kRetry, kFatal };
  SessionEnd stream_session(ChangeDecoder& decoder, std::string& error);
  bool send_status(bool reply_requested);
  // fatal: the slot is gone, so retrying cannot help.
  Status reconnect(bool& fatal);
  bool session_started = false;  // the last stream_session got as far as streaming
  void set_state(std::string state, std::string error = "") {
    status.state = std::move(state);
    status.last_error = std::move(error);
    sink->report(status);
  }
  // Sleeps up to ms, or until stop(). Returns false when stopping.
  bool sleep_ms(int ms) {
    pollfd p{wake_pipe[0], POLLIN, 0};
    (void)poll(&p, 1, ms);
    return !stopping.load();
  }
};

Status PostgresSource::Impl::validate_and_describe() {
  PGconn* c = catalog.get();
  auto st = query(c, fmt::format("SET statement_timeout = {}", std::max(0, options.query_timeout_ms)));
  if (!st) return st.status();
  auto r = query(c,
                 "SELECT current_setting('wal_level'), current_setting('server_version_num')::int, "
                 "current_setting('server_encoding'), "
                 "(SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), current_user, "
                 "current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)");
  if (!r) return Status::error("cannot read the server settings: " + r.status().message());
  PGresult* s = r->get();
  std::string wal_level = value(s, 0, 0);
  int version = std::stoi(value(s, 0, 1));
  if (wal_level != "logical") {
    return Status::error(fmt::format(
        "wal_level is '{}'; set wal_level = logical in postgresql.conf and restart PostgreSQL", wal_level));
  }
  if (version < 100000) return Status::error("PostgreSQL 10 or later is needed for logical replication (pgoutput)");
  if (value(s, 0, 2) != "UTF8") {
    return Status::error(fmt::format("the database's encoding is {}; Freshet captures only UTF8 databases", value(s, 0, 2)));
  }
  std::string user = value(s, 0, 4);
  if (!is_true(s, 0, 3)) {
    return Status::error(fmt::format(
        "user {} may not use replication; ALTER ROLE {} REPLICATION (or connect as a superuser)", user, user));
  }
  int max_slots = std::stoi(value(s, 0, 5));
  int used_slots = std::stoi(value(s, 0, 6));

  // The publication.
  auto p = query(c, "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication WHERE pubname = $1",
                 {options.publication});
  if (!p) return p.status();
  if (PQntuples(p->get()) == 0) {
    return Status::error(fmt::format(
        "publication \"{}\" does not exist in database {}; create it upstream: CREATE PUBLICATION {} FOR ALL TABLES "
        "(or FOR TABLE ...)",
        options.publication, options.database, quote_ident(options.publication)));
  }
  const char* ops[] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE"};
  for (int i = 0; i < 4; ++i) {
    if (!is_true(p->get(), 0, i + 1)) {
      return Status::error(fmt::format(
          "publication \"{}\" does not publish {}; Freshet needs every change (ALTER PUBLICATION {} SET (publish = "
          "'insert, update, delete, truncate'))",
          options.publication, ops[i], quote_ident(options.publication)));
    }
  }

  // Its tables.
  bool v15 = version >= 150000;
  std::string sql = fmt::format(
      "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relreplident, c.reltuples, {} "
      "FROM pg_publication_tables pt JOIN pg_namespace n ON n.nspname = pt.schemaname "
      "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
      "WHERE pt.pubname = $1 ORDER BY n.nspname, c.relname",
      v15 ? "pt.attnames::text, coalesce(pt.rowfilter, '')" : "NULL::text, ''");
  auto t = query(c, sql, {options.publication});
  if (!t) return t.status();
  struct Found {
    CapturedTable table;
    std::string attnames;
    bool used = false;
  };
  std::vector<Found> found;
  for (int i = 0; i < PQntuples(t->get()); ++i) {
    Found f;
    f.table.relid = static_cast<uint32_t>(std::stoul(value(t->get(), i, 0)));
    f.table.schema.upstream_schema = value(t->get(), i, 1);
    f.table.schema.upstream_name = value(t->get(), i, 2);
    f.table.schema.name = f.table.schema.upstream_name;
    f.table.relkind = value(t->get(), i, 3)[0];
    f.table.reltuples = std::stod(value(t->get(), i, 5));
    f.attnames = PQgetisnull(t->get(), i, 6) ? "" : value(t->get(), i, 6);
    f.table.rowfilter = value(t->get(), i, 7);
    found.push_back(std::move(f));
  }
  if (found.empty()) return Status::error(fmt::format("publication \"{}\" has no tables", options.publication));
  std::vector<Found*> chosen;
  if (options.tables.empty()) {
    for (auto& f : found) chosen.push_back(&f);
  } else {
    for (const auto& sel : options.tables) {
      auto it = std::find_if(found.begin(), found.end(), [&](const Found& f) {
        return f.table.schema.upstream_schema == sel.schema && f.table.schema.upstream_name == sel.table;
      });
      if (it == found.end()) {
        return Status::error(
            fmt::format("table {}.{} is not in publication \"{}\"", sel.schema, sel.table, options.publication));
      }
      if (it->used) return Status::error(fmt::format("table {}.{} is listed twice", sel.schema, sel.table));
      it->used = true;
      if (!sel.name.empty()) it->table.schema.name = sel.name;
      chosen.push_back(&*it);
    }
  }
  std::unordered_set<std::string> names;
  for (Found* f : chosen) {
    if (!names.insert(f->table.schema.name).second) {
      return Status::error(fmt::format(
          "two captured tables are both named {} in Freshet; list the tables with FOR TABLES (schema.table AS name)",
          f->table.schema.name));
    }
    Status d = describe_table(f->table, f->attnames);
    if (!d) return d;
    tables.push_back(std::move(f->table));
  }

  // The slot.
  Status slot = check_slot();
  if (!slot) return slot;
  if (!slot_exists && used_slots >= max_slots) {
    return Status::error(fmt::format(
        "all {} replication slots of the upstream are in use; raise max_replication_slots in postgresql.conf", max_slots));
  }
  return Status::ok();
}

Status PostgresSource::Impl::describe_table(CapturedTable& t, const std::string& attnames) {
  PGconn* c = catalog.get();
  std::string oid = std::to_string(t.relid);
  std::string lbl = label(t.schema);
  auto priv = query(c, "SELECT has_table_privilege($1::oid, 'SELECT')", {oid});
  if (!priv) return priv.status();
  if (!is_true(priv->get(), 0, 0)) {
    return Status::error(fmt::format("permission denied: the user cannot SELECT from table {}; GRANT SELECT ON {} TO {}",
                                     lbl, quote_ident(t.schema.upstream_schema) + "." + quote_ident(t.schema.upstream_name),
                                     quote_ident(options.user)));
  }
  // The columns pgoutput sends: not dropped, not generated, and in the column list if any.
  auto cols = query(c,
                    "SELECT a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, ty.typtype, ty.typbasetype, "
                    "ty.typtypmod, ($2 = '' OR a.attname = ANY($2::name[])) "
                    "FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid "
                    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
                    "ORDER BY a.attnum",
                    {oid, attnames});
  if (!cols) return cols.status();
  std::vector<int> attnums;
  for (int i = 0; i < PQntuples(cols->get()); ++i) {
    PGresult* r = cols->get();
    if (!is_true(r, i, 8)) continue;
    attnums.push_back(std::stoi(value(r, i, 0)));
    ColumnSchema col;
    col.name = value(r, i, 1);
    uint32_t typid = static_cast<uint32_t>(std::stoul(value(r, i, 2)));
    int32_t typmod = std::stoi(value(r, i, 3));
    col.nullable = !is_true(r, i, 4);
    uint32_t base = typid;
    int32_t base_typmod = typmod;
    if (value(r, i, 5) == "d") {  // a domain: its base type
      base = static_cast<uint32_t>(std::stoul(value(r, i, 6)));
      base_typmod = std::stoi(value(r, i, 7));
    }
    col.type = map_pg_type(base, base_typmod);
    t.schema.columns.push_back(std::move(col));
    t.type_oids.push_back(typid);
    t.typmods.push_back(typmod);
  }
  if (t.schema.columns.empty()) return Status::error(fmt::format("table {} has no columns to capture", lbl));
  if (t.schema.columns.size() > kMaxColumns) return Status::error(fmt::format("table {} has too many columns", lbl));

  // The key: the replica identity.
  char ident = 'd';
  {
    auto r = query(c, "SELECT relreplident FROM pg_class WHERE oid = $1::oid", {oid});
    if (!r) return r.status();
    ident = value(r->get(), 0, 0)[0];
  }
  auto idx = query(c,
                   "SELECT indisprimary, indisreplident, indkey::text FROM pg_index WHERE indrelid = $1::oid "
                   "AND (indisprimary OR indisreplident)",
                   {oid});
  if (!idx) return idx.status();
  std::string key_attnums;
  for (int i = 0; i < PQntuples(idx->get()); ++i) {
    bool primary = is_true(idx->get(), i, 0);
    bool replident = is_true(idx->get(), i, 1);
    if ((ident == 'i' && replident) || (ident != 'i' && primary)) key_attnums = value(idx->get(), i, 2);
  }
  if (ident == 'n') {
    return Status::error(fmt::format(
        "table {} has REPLICA IDENTITY NOTHING, so PostgreSQL does not say which row an UPDATE or DELETE changes; "
        "ALTER TABLE {} REPLICA IDENTITY DEFAULT (with a primary key) or FULL",
        lbl, lbl));
  }
  if (key_attnums.empty() && ident != 'f') {
    return Status::error(fmt::format(
        "table {} has no primary key and REPLICA IDENTITY is not FULL; add a primary key or run ALTER TABLE {} "
        "REPLICA IDENTITY FULL upstream",
        lbl, lbl));
  }
  if (key_attnums.empty()) {
    // FULL without a key: the whole row is the key (identical rows collapse into one).
    for (uint32_t i = 0; i < t.schema.columns.size(); ++i) t.schema.key.push_back(i);
  } else {
    size_t pos = 0;
    while (pos < key_attnums.size()) {
      size_t end = key_attnums.find(' ', pos);
      if (end == std::string::npos) end = key_attnums.size();
      int attnum = std::stoi(key_attnums.substr(pos, end - pos));
      auto it = std::find(attnums.begin(), attnums.end(), attnum);
      if (it == attnums.end()) {
        return Status::error(fmt::format("table {}: a key column is not in the publication's column list", lbl));
      }
      t.schema.key.push_back(static_cast<uint32_t>(it - attnums.begin()));
      pos = end + 1;
    }
  }
  return Status::ok();
}

Status PostgresSource::Impl::check_slot() {
  auto r = query(catalog.get(),
                 "SELECT plugin, database, confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = $1",
                 {options.slot_name});
  if (!r) return r.status();
  slot_exists = PQntuples(r->get()) > 0;
  if (!resume_lsn) {
    if (slot_exists && is_true(r->get(), 0, 3)) {
      return Status::error(fmt::format("replication slot {} is in use by another connection", options.slot_name));
    }
    return Status::ok();
  }
  if (!slot_exists) {
    return Status::error(fmt::format(
        "replication slot {} does not exist upstream, so the changes after position {} are gone; drop and recreate "
        "the source",
        options.slot_name, format_lsn(*resume_lsn)));
  }
  if (value(r->get(), 0, 0) != "pgoutput" || value(r->get(), 0, 1) != options.database) {
    return Status::error(fmt::format("replication slot {} belongs to plugin {} in database {}, not pgoutput in {}",
                                     options.slot_name, value(r->get(), 0, 0), value(r->get(), 0, 1), options.database));
  }
  auto confirmed = parse_lsn(value(r->get(), 0, 2));
  if (confirmed && *confirmed > *resume_lsn) {
    return Status::error(fmt::format(
        "replication slot {} was advanced to {}, past Freshet's position {} (another consumer?); the changes in "
        "between are gone: drop and recreate the source",
        options.slot_name, format_lsn(*confirmed), format_lsn(*resume_lsn)));
  }
  return Status::ok();
}

// ---- the connector thread ----

void PostgresSource::Impl::run() {
  if (!resume_lsn) {
    set_state("snapshotting");
    Status s = snapshot();
    if (!s) {
      if (stopping) {
        set_state("stopped", "stopped during the initial snapshot; the source must be recreated");
      } else {
        set_state("error", "initial snapshot failed: " + s.message());
      }
      return;
    }
  } else {
    durable_lsn = *resume_lsn;
  }
  stat_durable_lsn = durable_lsn;

  ChangeDecoder decoder(tables, durable_lsn, options.max_transaction_bytes);
  int failures = 0;
  int backoff_ms = options.reconnect_backoff_initial_ms;
  for (;;) {
    std::string error;
    session_started = false;
    SessionEnd end = stream_session(decoder, error);
    if (session_started) failures = 0;
    if (end == SessionEnd::kStopped) break;
    if (end == SessionEnd::kFatal) {
      set_state("error", error);
      return;
    }
    replication.reset();
    for (;;) {
      ++failures;
      if (options.max_reconnect_attempts > 0 && failures > options.max_reconnect_attempts) {
        set_state("error", fmt::format("gave up after {} reconnection attempts: {}", failures - 1, error));
        return;
      }
      set_state("error", fmt::format("{}; reconnecting in {} ms", error.empty() ? "connection lost" : error, backoff_ms));
      if (!sleep_ms(backoff_ms)) break;
      backoff_ms = std::min(options.reconnect_backoff_max_ms, backoff_ms * 2);
      bool fatal = false;
      Status r = reconnect(fatal);
      if (r) break;
      if (fatal) {
        set_state("error", r.message());
        return;
      }
      error = r.message();
    }
    if (stopping) break;
    ++stat_reconnects;
    backoff_ms = options.reconnect_backoff_initial_ms;
    decoder.reset_session(durable_lsn);
  }
  if (replication) (void)send_status(false);
  set_state("stopped");
}

Status PostgresSource::Impl::reconnect(bool& fatal) {
  fatal = false;
  auto cat = connect(options, false);
  if (!cat) return cat.status();
  auto r = query(cat->get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {options.slot_name});
  if (!r) return r.status();
  if (PQntuples(r->get()) == 0) {
    fatal = true;
    return Status::error(fmt::format(
        "replication slot {} does not exist upstream any more; the changes after {} are gone: drop and recreate the "
        "source",
        options.slot_name, format_lsn(durable_lsn)));
  }
  auto rep = connect(options, true);
  if (!rep) return rep.status();
  catalog = std::move(*cat);
  replication = std::move(*rep);
  return Status::ok();
}

Status PostgresSource::Impl::flush_snapshot_batch(Transaction& batch, size_t& batch_bytes, bool last,
                                                  Lsn consistent_point) {
  uint64_t rows = batch.changes.size();
  batch.snapshot = true;
  batch.position = format_lsn(consistent_point);
  if (!last) batch.position += kSnapshotSuffix;
  Status s = sink->apply(std::move(batch));
  batch = Transaction{};
  batch_bytes = 0;
  if (!s) return Status::error("could not store the snapshot: " + s.message());
  stat_snapshot_rows += rows;
  status.snapshot_rows_done += rows;
  status.snapshot_rows_total = std::max(status.snapshot_rows_total, status.snapshot_rows_done);
  sink->report(status);
  return Status::ok();
}

Status PostgresSource::Impl::snapshot() {
  PGconn* rep = replication.get();
  PGconn* cat = catalog.get();
  if (slot_exists) {
    // Left by an earlier attempt at this source's snapshot that never completed.
    auto d = query(rep, "DROP_REPLICATION_SLOT " + quote_ident(options.slot_name));
    if (!d) return d.status();
  }
  auto created = query(rep, fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput EXPORT_SNAPSHOT",
                                        quote_ident(options.slot_name)));
  if (!created) return Status::error("cannot create the replication slot: " + created.status().message());
  auto cp = parse_lsn(value(created->get(), 0, 1));
  std::string snapshot_name = value(created->get(), 0, 2);
  if (!cp) return Status::error("CREATE_REPLICATION_SLOT returned a malformed consistent point");
  auto fail = [&](Status s) {
    // Best effort: the slot would only hold WAL back; the next attempt creates it again.
    (void)query(cat, "ROLLBACK");
    return s;
  };
  // The exported snapshot lives while the replication connection stays idle: import it now.
  auto begin = query(cat, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!begin) return fail(begin.status());
  auto imp = query(cat, "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_name));
  if (!imp) return fail(imp.status());
  auto nt = query(cat, "SET LOCAL statement_timeout = 0");
  if (!nt) return fail(nt.status());

  std::vector<std::string> selects;
  status.snapshot_rows_total = 0;
  status.snapshot_rows_done = 0;
  for (const auto& t : tables) {
    std::string cols;
    for (const auto& c : t.schema.columns) cols += (cols.empty() ? "" : ", ") + quote_ident(c.name);
    std::string from = fmt::format("{}{}.{}", t.relkind == 'p' ? "" : "ONLY ", quote_ident(t.schema.upstream_schema),
                                   quote_ident(t.schema.upstream_name));
    std::string where = t.rowfilter.empty() ? "" : " WHERE (" + t.rowfilter + ")";
    selects.push_back(fmt::format("SELECT {} FROM {}{}", cols, from, where));
    if (t.reltuples >= 0) {
      status.snapshot_rows_total += static_cast<uint64_t>(t.reltuples);
    } else {  // never analyzed: count
      auto n = query(cat, fmt::format("SELECT count(*) FROM {}{}", from, where));
      if (!n) return fail(n.status());
      status.snapshot_rows_total += std::stoull(value(n->get(), 0, 0));
    }
  }
  sink->report(status);

  Transaction batch;
  size_t batch_bytes = 0;
  Arena arena;
  std::vector<std::optional<std::string_view>> values;
  for (size_t ti = 0; ti < tables.size(); ++ti) {
    const CapturedTable& t = tables[ti];
    auto d = query(cat, "DECLARE freshet_snapshot NO SCROLL CURSOR FOR " + selects[ti]);
    if (!d) return fail(d.status());
    std::string fetch = fmt::format("FETCH FORWARD {} FROM freshet_snapshot", std::max<size_t>(1, options.snapshot_batch_rows));
    for (;;) {
      if (stopping) return fail(Status::error("stopped"));
      auto rows = query(cat, fetch);
      if (!rows) return fail(Status::error(fmt::format("reading table {}: {}", label(t.schema), rows.status().message())));
      PGresult* r = rows->get();
      int n = PQntuples(r);
      if (n == 0) break;
      int ncols = PQnfields(r);
      for (int i = 0; i < n; ++i) {
        values.clear();
        for (int j = 0; j < ncols; ++j) {
          if (PQgetisnull(r, i, j)) values.emplace_back(std::nullopt);
          else values.emplace_back(std::string_view(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))));
        }
        arena.reset();
        Change ch;
        ch.table = static_cast<uint32_t>(ti);
        Status s = decode_row(t, values, arena, ch.value, ch.key);
        if (!s) return fail(s);
        batch_bytes += ch.key.size_bytes() + ch.value.size_bytes();
        batch.changes.push_back(std::move(ch));
        if (batch.changes.size() >= options.snapshot_batch_rows || batch_bytes >= options.snapshot_batch_bytes) {
          Status f = flush_snapshot_batch(batch, batch_bytes, false, *cp);
          if (!f) return fail(f);
        }
      }
    }
    auto cl = query(cat, "CLOSE freshet_snapshot");
    if (!cl) return fail(cl.status());
  }
  auto commit = query(cat, "COMMIT");
  if (!commit) return fail(commit.status());
  // The last snapshot transaction (possibly empty) carries the bare consistent point: with it
  // durable, a restart resumes streaming instead of finding an interrupted snapshot.
  status.snapshot_rows_total = status.snapshot_rows_done + batch.changes.size();
  Status f = flush_snapshot_batch(batch, batch_bytes, true, *cp);
  if (!f) return f;
  durable_lsn = *cp;
  return Status::ok();
}

bool PostgresSource::Impl::send_status(bool reply_requested) {
  std::string msg = encode_standby_status(durable_lsn, durable_lsn, durable_lsn, now_pg_us(), reply_requested);
  if (PQputCopyData(replication.get(), msg.data(), static_cast<int>(msg.size())) != 1) return false;
  return PQflush(replication.get()) != -1;  // 1: the rest goes out with the next flush
}

PostgresSource::Impl::SessionEnd PostgresSource::Impl::stream_session(ChangeDecoder& decoder, std::string& error) {
  PGconn* conn = replication.get();
  std::string pubs = quote_literal(quote_ident(options.publication));
  std::string sql = fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                                quote_ident(options.slot_name), format_lsn(durable_lsn), pubs);
  QueryError err;
  ResultPtr r = exec(conn, sql, {}, &err);
  if (!r) {
    error = "START_REPLICATION failed: " + err.message;
    // A missing slot is final; anything else (slot still active after an upstream restart,
    // a connection error) is worth retrying.
    return err.sqlstate == sqlstate::kUndefinedObject ? SessionEnd::kFatal : SessionEnd::kRetry;
  }
  if (PQsetnonblocking(conn, 1) != 0) {
    error = "cannot make the replication connection non-blocking";
    return SessionEnd::kRetry;
  }
  session_started = true;
  set_state("running");
  auto interval = std::chrono::milliseconds(std::max(10, options.status_interval_ms));
  auto next_status = std::chrono::steady_clock::now();
  for (;;) {
    if (stopping) return SessionEnd::kStopped;
    for (;;) {
      char* raw = nullptr;
      int n = PQgetCopyData(conn, &raw, 1);
      if (n == 0) break;
      if (n < 0) {
        // -1: the server ended the stream; -2: the connection failed.
        std::string why = trim(PQerrorMessage(conn));
        while (ResultPtr res{PQgetResult(conn)}) {
          const char* m = PQresultErrorMessage(res.get());
          if (m && *m) why = trim(m);
        }
        error = "replication stream ended: " + (why.empty() ? std::string("connection closed") : why);
        return SessionEnd::kRetry;
      }
      std::unique_ptr<char, decltype(&PQfreemem)> buf(raw, &PQfreemem);
      StreamMessage msg;
      try {
        msg = decode_stream_message(std::string_view(buf.get(), static_cast<size_t>(n)));
      } catch (const SqlError& e) {
        error = e.message();
        return SessionEnd::kFatal;
      }
      if (const auto* k = std::get_if<Keepalive>(&msg)) {
        // Idle and caught up (no transaction open): everything up to the server's WAL end is
        // either captured and durable or not ours. Make that position durable in Freshet (an
        // empty transaction), then confirm it, so the slot does not hold WAL back and a fast
        // shutdown of the server, which waits for its replication clients to confirm the end
        // of WAL, does not wait for us.
        if (!decoder.in_transaction() && k->wal_end > durable_lsn) {
          Transaction idle;
          idle.position = format_lsn(k->wal_end);
          Status s = sink->apply(std::move(idle));
          if (!s) {
            error = "could not store the source's position: " + s.message();
            return SessionEnd::kFatal;
          }
          durable_lsn = k->wal_end;
          stat_durable_lsn = durable_lsn;
          if (!send_status(false)) {
            error = "cannot send a standby status update: " + trim(PQerrorMessage(conn));
            return SessionEnd::kRetry;
          }
          continue;
        }
        if (k->reply_requested && !send_status(false)) {
          error = "cannot send a standby status update: " + trim(PQerrorMessage(conn));
          return SessionEnd::kRetry;
        }
        continue;
      }
      auto txn = decoder.feed(std::get<XLogData>(msg).payload);
      if (!txn) {
        error = txn.status().message();
        return SessionEnd::kFatal;
      }
      stat_skipped = decoder.stats().skipped_transactions;
      if (!txn->has_value()) continue;
      Lsn lsn = *parse_lsn((*txn)->position);
      Status s = sink->apply(std::move(**txn));
      if (!s) {
        error = "could not store a transaction: " + s.message();
        return SessionEnd::kFatal;
      }
      durable_lsn = lsn;
      stat_durable_lsn = lsn;
      ++stat_applied;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_status) {
      if (!send_status(false)) {
        error = "cannot send a standby status update: " + trim(PQerrorMessage(conn));
        return SessionEnd::kRetry;
      }
      next_status = now + interval;
    }
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
    if (PQflush(conn) == 1) fds[0].events |= POLLOUT;
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_status - now).count() + 1);
    (void)poll(fds, 2, std::max(1, wait_ms));
    if (!PQconsumeInput(conn)) {
      error = "connection to PostgreSQL lost: " + trim(PQerrorMessage(conn));
      return SessionEnd::kRetry;
    }
  }
}

// ---------------------------------------------------------------------------------------

PostgresSource::PostgresSource(PostgresSourceOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

PostgresSource::~PostgresSource() {
  stop();
  if (impl_->wake_pipe[0] >= 0) {
    ::close(impl_->wake_pipe[0]);
    ::close(impl_->wake_pipe[1]);
  }
}

Status PostgresSource::start(SourceSink& sink, std::optional<std::string> resume_position) {
  Impl& m = *impl_;
  FRESHET_ASSERT(!m.started.load());
  FRESHET_ASSERT(!m.options.slot_name.empty());
  m.sink = &sink;
  if (resume_position) {
    std::string_view pos = *resume_position;
    if (pos.ends_with(kSnapshotSuffix)) {
      return Status::error(
          "the initial snapshot of this source was interrupted before it completed; drop and recreate the source");
    }
    m.resume_lsn = parse_lsn(pos);
    if (!m.resume_lsn) return Status::error(fmt::format("malformed PostgreSQL source position '{}'", pos));
  }
  if (m.options.publication.empty()) return Status::error("a PostgreSQL source needs a PUBLICATION");
  m.status.state = "starting";
  sink.report(m.status);
  auto cat = connect(m.options, false);
  if (!cat) return cat.status();
  m.catalog = std::move(*cat);
  Status v = m.validate_and_describe();
  if (!v) return v;
  auto rep = connect(m.options, true);
  if (!rep) return rep.status();
  m.replication = std::move(*rep);
  std::vector<TableSchema> schemas;
  for (const auto& t : m.tables) schemas.push_back(t.schema);
  Status s = sink.set_schemas(schemas);
  if (!s) return s;
  if (::pipe2(m.wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return Status::error("cannot create a pipe");
  m.started = true;
  m.thread = std::thread([&m] { m.run(); });
  return Status::ok();
}

void PostgresSource::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  m.stopping = true;
  char c = 1;
  (void)!::write(m.wake_pipe[1], &c, 1);
  m.thread.join();
  m.replication.reset();
  m.catalog.reset();
}

PostgresSource::Stats PostgresSource::stats() const {
  const Impl& m = *impl_;
  Stats s;
  s.transactions_applied = m.stat_applied;
  s.transactions_skipped = m.stat_skipped;
  s.snapshot_rows = m.stat_snapshot_rows;
  s.reconnects = m.stat_reconnects;
  s.durable_lsn = m.stat_durable_lsn;
  return s;
}

}  // namespace freshet::capture::postgres
