// libpq_e2e: end-to-end checks of a PostgreSQL-protocol server with libpq and raw sockets.
//
//   libpq_e2e --host H --port P [--user U] [--db D] MODE
//
// MODE:
//   protocol     PQexecParams with text and binary parameters and results, prepared statements,
//                PQdescribePrepared, an error's SQLSTATE and statement position.
//   concurrency  N connections (--connections, default 200) opened at once, each running
//                queries concurrently; every query must succeed.
//   malformed    raw-socket garbage, an oversized length in the startup packet and in a
//                message after startup, an unknown message type: each closes only its own
//                connection while an established libpq connection keeps working.
//
// Prints one `ok ...`/`FAIL ...` line per check and exits non-zero if any check failed.

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "6875";
  std::string user = "freshet";
  std::string db = "freshet";
  int connections = 200;
  int queries_per_connection = 20;
  std::string mode;
};

Options g_opt;
std::atomic<int> g_failures{0};
std::mutex g_print_mu;

void check(bool cond, const std::string& what, const std::string& detail = "") {
  std::lock_guard<std::mutex> lock(g_print_mu);
  if (cond) {
    std::printf("ok   %s\n", what.c_str());
  } else {
    ++g_failures;
    std::printf("FAIL %s%s%s\n", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  }
  std::fflush(stdout);
}

PGconn* connect_db() {
  const char* keys[] = {"host", "port", "user", "dbname", "connect_timeout", "application_name",
                        nullptr};
  const char* vals[] = {g_opt.host.c_str(), g_opt.port.c_str(), g_opt.user.c_str(),
                        g_opt.db.c_str(),   "15",               "libpq_e2e",
                        nullptr};
  PGconn* c = PQconnectdbParams(keys, vals, 0);
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return c;
}

struct Result {
  PGresult* res = nullptr;
  explicit Result(PGresult* r) : res(r) {}
  ~Result() { PQclear(res); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ExecStatusType status() const { return PQresultStatus(res); }
  std::string value(int r, int c) const {
    if (!res || r >= PQntuples(res) || c >= PQnfields(res)) return "<none>";
    if (PQgetisnull(res, r, c)) return "<null>";
    return PQgetvalue(res, r, c);
  }
  std::string error() const {
    const char* m = PQresultErrorMessage(res);
    return m ? m : "";
  }
  std::string field(int code) const {
    const char* f = PQresultErrorField(res, code);
    return f ? f : "";
  }
};

bool ok_status(const Result& r) {
  return r.status() == PGRES_TUPLES_OK || r.status() == PGRES_COMMAND_OK;
}

uint32_t be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

uint64_t be64(const char* p) {
  uint64_t hi = be32(p), lo = be32(p + 4);
  return (hi << 32) | lo;
}

// ---------------------------------------------------------------- protocol

void run_protocol() {
  PGconn* c = connect_db();
  check(PQstatus(c) == CONNECTION_OK, "connect", PQerrorMessage(c));
  if (PQstatus(c) != CONNECTION_OK) return;

  {
    Result r(PQexec(c, "DROP TABLE IF EXISTS e2e_items"));
    Result r2(PQexec(c, "CREATE TABLE e2e_items (id int, name text, price numeric(10,2))"));
    check(ok_status(r2), "create table", r2.error());
  }

  // Text parameters, text results.
  {
    const char* params[] = {"41", "héllo"};
    Result r(PQexecParams(c, "SELECT $1::int + 1, upper($2::text), $1::int IS NULL", 2, nullptr,
                          params, nullptr, nullptr, 0));
    check(r.status() == PGRES_TUPLES_OK && r.value(0, 0) == "42" && r.value(0, 2) == "f",
          "PQexecParams text params/results", r.error() + r.value(0, 0));
    check(PQnfields(r.res) == 3 && PQftype(r.res, 0) == 23, "result column type int4 (oid 23)",
          std::to_string(PQftype(r.res, 0)));
  }
  // NULL parameter.
  {
    const char* params[] = {nullptr};
    Result r(PQexecParams(c, "SELECT $1::text IS NULL", 1, nullptr, params, nullptr, nullptr, 0));
    check(r.value(0, 0) == "t", "NULL parameter", r.error() + r.value(0, 0));
  }
  // Binary results.
  {
    Result r(PQexecParams(c, "SELECT 42::int4, 'abc'::text, 7000000000::int8, true, -5::int2",
                          0, nullptr, nullptr, nullptr, nullptr, 1));
    bool good = r.status() == PGRES_TUPLES_OK && PQnfields(r.res) == 5 && PQfformat(r.res, 0) == 1;
    if (good) {
      good = PQgetlength(r.res, 0, 0) == 4 && be32(PQgetvalue(r.res, 0, 0)) == 42 &&
             PQgetlength(r.res, 0, 1) == 3 && std::memcmp(PQgetvalue(r.res, 0, 1), "abc", 3) == 0 &&
             PQgetlength(r.res, 0, 2) == 8 && be64(PQgetvalue(r.res, 0, 2)) == 7000000000ULL &&
             PQgetlength(r.res, 0, 3) == 1 && PQgetvalue(r.res, 0, 3)[0] == 1 &&
             PQgetlength(r.res, 0, 4) == 2;
    }
    check(good, "PQexecParams binary results (int4, text, int8, bool, int2)", r.error());
  }
  // Binary parameters.
  {
    uint32_t v = htonl(20);
    const char* params[] = {reinterpret_cast<const char*>(&v)};
    Oid types[] = {23};
    int lengths[] = {4};
    int formats[] = {1};
    Result r(PQexecParams(c, "SELECT $1 * 2", 1, types, params, lengths, formats, 0));
    check(r.value(0, 0) == "40", "PQexecParams binary int4 parameter", r.error() + r.value(0, 0));
  }
  // Prepared statements.
  {
    Result p(PQprepare(c, "ins", "INSERT INTO e2e_items VALUES ($1, $2, $3)", 3, nullptr));
    check(p.status() == PGRES_COMMAND_OK, "PQprepare insert", p.error());
    bool all = true;
    std::string err;
    for (int i = 1; i <= 5; ++i) {
      std::string id = std::to_string(i), name = "item" + id, price = id + ".25";
      const char* params[] = {id.c_str(), name.c_str(), price.c_str()};
      Result r(PQexecPrepared(c, "ins", 3, params, nullptr, nullptr, 0));
      if (r.status() != PGRES_COMMAND_OK) {
        all = false;
        err = r.error();
      } else if (std::string(PQcmdTuples(r.res)) != "1") {
        all = false;
        err = std::string("command tag rows ") + PQcmdTuples(r.res);
      }
    }
    check(all, "PQexecPrepared insert x5", err);

    Result q(PQprepare(c, "sel", "SELECT name, price FROM e2e_items WHERE id > $1 ORDER BY id", 1,
                       nullptr));
    check(q.status() == PGRES_COMMAND_OK, "PQprepare select", q.error());
    Result d(PQdescribePrepared(c, "sel"));
    check(d.status() == PGRES_COMMAND_OK && PQnparams(d.res) == 1 && PQnfields(d.res) == 2,
          "PQdescribePrepared: 1 param, 2 columns",
          d.error() + " nparams=" + std::to_string(PQnparams(d.res)) +
              " nfields=" + std::to_string(PQnfields(d.res)));
    const char* params[] = {"3"};
    Result r(PQexecPrepared(c, "sel", 1, params, nullptr, nullptr, 0));
    check(r.status() == PGRES_TUPLES_OK && PQntuples(r.res) == 2 && r.value(0, 0) == "item4" &&
              r.value(1, 1) == "5.25",
          "PQexecPrepared select", r.error() + " " + r.value(0, 0) + " " + r.value(1, 1));
    const char* params2[] = {"0"};
    Result r2(PQexecPrepared(c, "sel", 1, params2, nullptr, nullptr, 0));
    check(r2.status() == PGRES_TUPLES_OK && PQntuples(r2.res) == 5, "prepared statement reused",
          r2.error());
  }
  // Errors: SQLSTATE and position.
  {
    Result r(PQexec(c, "SELECT * FROM no_such_table"));
    check(r.status() == PGRES_FATAL_ERROR && r.field(PG_DIAG_SQLSTATE) == "42P01",
          "error SQLSTATE 42P01", r.field(PG_DIAG_SQLSTATE) + " " + r.error());
    check(r.field(PG_DIAG_STATEMENT_POSITION) == "15", "error statement position 15",
          "got '" + r.field(PG_DIAG_STATEMENT_POSITION) + "'");
    check(r.field(PG_DIAG_SEVERITY) == "ERROR", "error severity ERROR", r.field(PG_DIAG_SEVERITY));
  }
  {
    Result r(PQexec(c, "SELECT name, nope FROM e2e_items"));
    check(r.field(PG_DIAG_SQLSTATE) == "42703" && r.field(PG_DIAG_STATEMENT_POSITION) == "14",
          "error 42703 at position 14",
          r.field(PG_DIAG_SQLSTATE) + " pos " + r.field(PG_DIAG_STATEMENT_POSITION));
  }
  {
    const char* params[] = {"0"};
    Result r(PQexecParams(c, "SELECT 1 / $1::int", 1, nullptr, params, nullptr, nullptr, 0));
    check(r.field(PG_DIAG_SQLSTATE) == "22012", "extended-protocol error 22012",
          r.field(PG_DIAG_SQLSTATE) + " " + r.error());
  }
  {
    Result r(PQexec(c, "SELECT count(*) FROM e2e_items"));
    check(r.value(0, 0) == "5", "session usable after errors", r.error() + r.value(0, 0));
  }
  {
    Result r(PQexec(c, "DROP TABLE e2e_items"));
    check(r.status() == PGRES_COMMAND_OK, "drop table", r.error());
  }
  PQfinish(c);
}

// ---------------------------------------------------------------- concurrency

void run_concurrency() {
  const int n = g_opt.connections;
  std::vector<PGconn*> conns(n, nullptr);
  std::atomic<int> connect_failures{0}, query_failures{0};
  std::string first_error;
  std::mutex err_mu;
  auto note = [&](const std::string& e) {
    std::lock_guard<std::mutex> lock(err_mu);
    if (first_error.empty()) first_error = e;
  };
  {
    PGconn* c = connect_db();
    Result a(PQexec(c, "DROP TABLE IF EXISTS e2e_conc"));
    Result b(PQexec(c, "CREATE TABLE e2e_conc (k int, v int)"));
    Result d(PQexec(c, "INSERT INTO e2e_conc VALUES (1, 10), (2, 20), (3, 30)"));
    check(ok_status(d), "setup table", d.error());
    PQfinish(c);
  }
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      PGconn* c = connect_db();
      conns[i] = c;
      if (PQstatus(c) != CONNECTION_OK) {
        ++connect_failures;
        note(std::string("connect: ") + PQerrorMessage(c));
        ++ready;
        return;
      }
      ++ready;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      for (int q = 0; q < g_opt.queries_per_connection; ++q) {
        std::string want;
        PGresult* res = nullptr;
        switch (q % 3) {
          case 0: {
            std::string sql = "SELECT " + std::to_string(i) + " + " + std::to_string(q);
            res = PQexec(c, sql.c_str());
            want = std::to_string(i + q);
            break;
          }
          case 1:
            res = PQexec(c, "SELECT sum(v) FROM e2e_conc");
            want = "60";
            break;
          default: {
            std::string k = std::to_string(q % 3 + 1);
            const char* params[] = {k.c_str()};
            res = PQexecParams(c, "SELECT v FROM e2e_conc WHERE k = $1", 1, nullptr, params,
                               nullptr, nullptr, 0);
            want = "30";
            break;
          }
        }
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
            want != PQgetvalue(res, 0, 0)) {
          ++query_failures;
          note("query: " + std::string(PQresultErrorMessage(res)) +
               (PQntuples(res) > 0 ? std::string(" got ") + PQgetvalue(res, 0, 0) : "") +
               " want " + want);
        }
        PQclear(res);
      }
    });
  }
  while (ready.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto t_connected = std::chrono::steady_clock::now();
  go = true;
  for (auto& t : threads) t.join();
  auto t1 = std::chrono::steady_clock::now();
  auto ms = [](auto a, auto b) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
  };
  check(connect_failures == 0,
        std::to_string(n) + " concurrent connections (" + ms(t0, t_connected) + " ms)",
        std::to_string(connect_failures.load()) + " failed; first: " + first_error);
  check(query_failures == 0,
        std::to_string(n * g_opt.queries_per_connection) + " concurrent queries (" +
            ms(t_connected, t1) + " ms)",
        std::to_string(query_failures.load()) + " failed; first: " + first_error);
  for (PGconn* c : conns)
    if (c) PQfinish(c);
  PGconn* c = connect_db();
  Result r(PQexec(c, "DROP TABLE e2e_conc"));
  check(ok_status(r), "server fine after the burst", r.error());
  PQfinish(c);
}

// ---------------------------------------------------------------- malformed input

int raw_connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(g_opt.host.c_str(), g_opt.port.c_str(), &hints, &ai) != 0) return -1;
  int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes (true) or timeout_ms passes (false). Appends what arrived.
bool wait_closed(int fd, int timeout_ms, std::string* got) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset: closed.
    if (got->size() < 65536) got->append(buf, static_cast<size_t>(n));
  }
}

std::string be32s(uint32_t v) {
  v = htonl(v);
  return std::string(reinterpret_cast<const char*>(&v), 4);
}

std::string startup_packet() {
  std::string body = be32s(196608);  // protocol 3.0
  body += std::string("user") + '\0' + g_opt.user + '\0';
  body += std::string("database") + '\0' + g_opt.db + '\0';
  body += '\0';
  return be32s(static_cast<uint32_t>(body.size() + 4)) + body;
}

// Completes a startup on a raw socket: reads until ReadyForQuery ('Z').
bool raw_startup(int fd) {
  if (!send_all(fd, startup_packet())) return false;
  std::string buf;
  char tmp[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    size_t off = 0;
    while (buf.size() - off >= 5) {
      char type = buf[off];
      uint32_t len = be32(buf.data() + off + 1);
      if (buf.size() - off < 1 + len) break;
      if (type == 'E') return false;
      if (type == 'Z') return true;
      off += 1 + len;
    }
  }
  return false;
}

void run_malformed() {
  PGconn* keeper = connect_db();
  check(PQstatus(keeper) == CONNECTION_OK, "bystander connection", PQerrorMessage(keeper));
  if (PQstatus(keeper) != CONNECTION_OK) return;
  auto bystander_ok = [&](const std::string& after) {
    Result r(PQexec(keeper, "SELECT 6 * 7"));
    check(r.value(0, 0) == "42", "bystander still works after " + after, r.error());
    PGconn* fresh = connect_db();
    Result r2(PQexec(fresh, "SELECT 1"));
    check(PQstatus(fresh) == CONNECTION_OK && r2.value(0, 0) == "1",
          "new connection works after " + after, PQerrorMessage(fresh));
    PQfinish(fresh);
  };

  struct Case {
    std::string name;
    bool startup_first;
    std::string bytes;
  };
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += static_cast<char>((i * 131 + 7) & 0xff);
  std::vector<Case> cases = {
      {"random garbage before startup", false, garbage},
      {"oversized startup length (0x7fffffff)", false, be32s(0x7fffffff) + be32s(196608)},
      {"startup length below minimum (4)", false, be32s(4)},
      {"unknown protocol version", false, be32s(8) + be32s(0x00090009)},
      {"oversized Query length after startup", true, std::string("Q") + be32s(0x7ffffff0) + "SEL"},
      {"negative/short message length after startup", true, std::string("Q") + be32s(2)},
      {"unknown message type after startup", true, std::string("\x01") + be32s(4)},
      {"Bind to a missing statement, then garbage", true,
       std::string("B") + be32s(4 + 1 + 6 + 2 + 2 + 2) + std::string("\0nope\0", 6) +
           std::string("\0\0\0\0\0\0", 6) + garbage.substr(0, 64)},
  };
  for (const auto& cs : cases) {
    int fd = raw_connect();
    if (fd < 0) {
      check(false, cs.name, "cannot open a socket");
      continue;
    }
    if (cs.startup_first && !raw_startup(fd)) {
      check(false, cs.name, "raw startup failed");
      close(fd);
      continue;
    }
    send_all(fd, cs.bytes);
    std::string got;
    bool closed = wait_closed(fd, 10000, &got);
    check(closed, cs.name + ": server closed the connection",
          "still open after 10 s; received " + std::to_string(got.size()) + " bytes");
    close(fd);
    bystander_ok(cs.name);
  }
  // A client that vanishes mid-message.
  {
    int fd = raw_connect();
    if (fd >= 0 && raw_startup(fd)) {
      send_all(fd, std::string("Q") + be32s(100) + "SELECT");
      close(fd);
      bystander_ok("a client closing mid-message");
    } else {
      check(false, "client closing mid-message", "raw startup failed");
      if (fd >= 0) close(fd);
    }
  }
  PQfinish(keeper);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") g_opt.host = need();
    else if (a == "--port") g_opt.port = need();
    else if (a == "--user") g_opt.user = need();
    else if (a == "--db") g_opt.db = need();
    else if (a == "--connections") g_opt.connections = std::atoi(need().c_str());
    else if (a == "--queries") g_opt.queries_per_connection = std::atoi(need().c_str());
    else g_opt.mode = a;
  }
  if (g_opt.mode == "protocol") run_protocol();
  else if (g_opt.mode == "concurrency") run_concurrency();
  else if (g_opt.mode == "malformed") run_malformed();
  else {
    std::fprintf(stderr,
                 "usage: libpq_e2e --host H --port P [--user U] [--db D] "
                 "protocol|concurrency|malformed\n");
    return 2;
  }
  std::printf("%s: %d check(s) failed\n", g_opt.mode.c_str(), g_failures.load());
  return g_failures == 0 ? 0 : 1;
}
