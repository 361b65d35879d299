// The protocol state machine end to end over TCP: a PgServer with fake sessions, driven by a
// raw protocol client (to see every message) and by libpq (a real client: SCRAM, extended
// query, binary results).

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "common/error.hpp"
#include "common/row.hpp"
#include "pgwire/pg_server.hpp"

namespace freshet::pgwire {
namespace {

using server::Column;

// ---- A fake session ------------------------------------------------------------------------

struct CancelFlag {
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
};

class FakeExecution : public server::Execution {
 public:
  std::vector<Column> cols;
  std::vector<Row> rows;
  std::string tag = "OK";
  bool fail = false;
  bool block = false;
  CancelFlag* cancel = nullptr;
  size_t pos = 0;
  std::optional<server::CopySpec> copy_spec;  // a COPY statement ("copyin", "copyout")
  size_t copied_in = 0;

  const server::CopySpec* copy() const override { return copy_spec ? &*copy_spec : nullptr; }
  void copy_in(std::vector<Row>& in) override {
    for (const Row& r : in) rows.push_back(r);
    copied_in += in.size();
    in.clear();
  }

  const std::vector<Column>& columns() const override { return cols; }
  bool fetch(std::vector<Row>& out, size_t max_rows) override {
    if (fail) throw SqlError(sqlstate::kDivisionByZero, "division by zero");
    if (block) {
      std::unique_lock lock(cancel->mu);
      cancel->cv.wait(lock, [&] { return cancel->cancelled; });
      cancel->cancelled = false;
      throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
    }
    size_t n = max_rows == 0 ? rows.size() - pos : std::min(max_rows, rows.size() - pos);
    for (size_t i = 0; i < n; ++i) out.push_back(rows[pos++]);
    return pos < rows.size();
  }
  std::string command_tag() const override {
    return copy_spec && copy_spec->from ? "COPY " + std::to_string(copied_in) : tag;
  }
};

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\n");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t\n");
  return std::string(s.substr(a, b - a + 1));
}

class FakeSession : public SessionApi {
 public:
  explicit FakeSession(server::SessionOptions o) : options_(std::move(o)) {
    if (options_.database == "nosuchdb") {
      throw SqlError("3D000", "database \"nosuchdb\" does not exist");
    }
  }
  std::vector<std::string> split(std::string_view sql) override {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= sql.size()) {
      size_t semi = sql.find(';', start);
      std::string s = trim(sql.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
      if (s == "syntaxerr") throw SqlError(sqlstate::kSyntaxError, "syntax error at or near \"syntaxerr\"", 1);
      if (!s.empty()) out.push_back(s);
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    return out;
  }
  server::PreparedStatement prepare(std::string_view sql, std::span<const Type> hints) override {
    server::PreparedStatement p;
    p.sql = std::string(sql);
    if (sql == "bad") throw SqlError(sqlstate::kSyntaxError, "syntax error at or near \"bad\"", 1);
    if (sql.substr(0, 4) == "echo") {
      size_t n = static_cast<size_t>(std::count(sql.begin(), sql.end(), '$'));
      for (size_t i = 0; i < n; ++i) {
        Type t = i < hints.size() && hints[i].id != TypeId::kUnknown ? hints[i] : Type(TypeId::kText);
        p.param_types.push_back(t);
        p.columns.push_back(Column{"p" + std::to_string(i + 1), t});
      }
      p.returns_rows = true;
    } else if (sql.substr(0, 3) == "gen" || sql.substr(0, 6) == "select") {
      p.columns.push_back(Column{sql[0] == 'g' ? "n" : "?column?", Type(TypeId::kInt8)});
      p.returns_rows = true;
    } else if (sql == "types") {
      for (TypeId t : {TypeId::kBool, TypeId::kNumeric, TypeId::kText, TypeId::kTimestampTz, TypeId::kFloat8}) {
        p.columns.push_back(Column{std::string(type_internal_name(t)), Type(t)});
      }
      p.columns[1].type.typmod = (10 << 16) | 2;
      p.returns_rows = true;
    }
    return p;
  }
  std::unique_ptr<server::Execution> execute(const server::PreparedStatement& stmt,
                                             std::span<const Datum> params) override {
    auto e = std::make_unique<FakeExecution>();
    e->cols = stmt.columns;
    const std::string& sql = stmt.sql;
    if (sql.substr(0, 3) == "gen") {
      int n = std::stoi(sql.substr(4));
      for (int i = 0; i < n; ++i) {
        Datum d = Datum::from_int(i);
        e->rows.push_back(Row::pack(std::span<const Datum>(&d, 1)));
      }
      e->tag = "SELECT " + std::to_string(n);
    } else if (sql.substr(0, 6) == "select") {
      Datum d = Datum::from_int(std::stoll(sql.substr(7)));
      e->rows.push_back(Row::pack(std::span<const Datum>(&d, 1)));
      e->tag = "SELECT 1";
    } else if (sql.substr(0, 4) == "echo") {
      e->rows.push_back(Row::pack(params));
      e->tag = "SELECT 1";
    } else if (sql == "types") {
      Datum ds[5] = {Datum::from_bool(true), Datum::from_numeric(Numeric{-12345, 2}), Datum::from_string("hi"),
                     Datum::from_timestamp(0), Datum::null()};
      e->rows.push_back(Row::pack(ds));
      e->tag = "SELECT 1";
    } else if (sql == "copyin" || sql == "copyout") {
      e->cols = {Column{"a", Type(TypeId::kInt4)}, Column{"b", Type(TypeId::kText)}};
      server::CopySpec spec;
      spec.from = sql == "copyin";
      spec.relation = "t";
      spec.options.format = server::CopyFormat::kCsv;
      spec.options.delimiter = ',';
      spec.options.null_string = "";
      e->copy_spec = spec;
      if (!spec.from) {
        for (int i = 1; i <= 2; ++i) {
          Datum ds[2] = {Datum::from_int(i), i == 2 ? Datum::null() : Datum::from_string("x,y")};
          e->rows.push_back(Row::pack(ds));
        }
        e->tag = "COPY 2";
      } else {
      }
    } else if (sql == "fail") {
      e->fail = true;
    } else if (sql == "sleep") {
      e->block = true;
      e->cancel = &cancel_;
    } else if (sql == "begin") {
      status_ = server::TransactionStatus::kInBlock;
      e->tag = "BEGIN";
    } else if (sql == "commit") {
      status_ = server::TransactionStatus::kIdle;
      e->tag = "COMMIT";
    } else if (sql.substr(0, 4) == "set ") {
      changed_.emplace_back("application_name", sql.substr(4));
      e->tag = "SET";
    }
    return e;
  }
  server::TransactionStatus transaction_status() const override { return status_; }
  std::vector<std::pair<std::string, std::string>> reported_settings() const override {
    return {{"server_version", "15.0"}, {"client_encoding", "UTF8"}, {"integer_datetimes", "on"}};
  }
  std::vector<std::pair<std::string, std::string>> take_changed_settings() override { return std::move(changed_); }
  void cancel() override {
    std::lock_guard lock(cancel_.mu);
    cancel_.cancelled = true;
    cancel_.cv.notify_all();
  }
  void close() override {}

 private:
  server::SessionOptions options_;
  server::TransactionStatus status_ = server::TransactionStatus::kIdle;
  std::vector<std::pair<std::string, std::string>> changed_;
  CancelFlag cancel_;
};

std::unique_ptr<PgServer> make_server(PgServerOptions o = {}, server::AuthConfig auth = {}) {
  o.port = 0;
  auto s = std::make_unique<PgServer>(
      [](server::SessionOptions opts) -> std::unique_ptr<SessionApi> { return std::make_unique<FakeSession>(opts); },
      auth, o);
  EXPECT_TRUE(s->start().is_ok());
  return s;
}

// ---- A raw protocol client -----------------------------------------------------------------

struct Msg {
  char type = 0;
  std::string body;
  std::string field(char code) const {  // an ErrorResponse field
    size_t i = 0;
    while (i < body.size() && body[i] != '\0') {
      char c = body[i++];
      size_t end = body.find('\0', i);
      if (c == code) return body.substr(i, end - i);
      i = end + 1;
    }
    return "";
  }
};

class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~RawClient() { ::close(fd_); }
  // Reads give up (type 0, as at EOF) after ms without data.
  void set_read_timeout_ms(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  }
  void send(std::string_view bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }
  void send_msg(char type, std::string_view body) { send(frame_message(type, body)); }
  // One byte (SSLRequest answer); -1 on EOF.
  int read_byte() {
    char c;
    return read_exact(&c, 1) ? static_cast<uint8_t>(c) : -1;
  }
  // The next message; type 0 on EOF or timeout.
  Msg read() {
    Msg m;
    char h[5];
    if (!read_exact(h, 5)) return m;
    uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(h[1])) << 24) | (static_cast<uint8_t>(h[2]) << 16) |
                   (static_cast<uint8_t>(h[3]) << 8) | static_cast<uint8_t>(h[4]);
    m.body.resize(len - 4);
    if (!read_exact(m.body.data(), len - 4)) return m;
    m.type = h[0];
    return m;
  }
  // Messages up to and including ReadyForQuery (or EOF).
  std::string read_types_until_ready(std::vector<Msg>* msgs = nullptr) {
    std::string types;
    while (true) {
      Msg m = read();
      if (msgs) msgs->push_back(m);
      if (m.type == 0) return types + "<EOF>";
      types.push_back(m.type);
      if (m.type == 'Z') return types;
    }
  }
  std::string startup(const std::string& user = "freshet", const std::string& database = "freshet") {
    std::string b;
    append_int32(b, kProtocolVersion3);
    append_cstring(b, "user");
    append_cstring(b, user);
    append_cstring(b, "database");
    append_cstring(b, database);
    b.push_back('\0');
    send(frame_startup(b));
    return read_types_until_ready(&startup_msgs);
  }
  void query(const std::string& sql) {
    std::string b;
    append_cstring(b, sql);
    send_msg('Q', b);
  }
  std::vector<Msg> startup_msgs;
  int fd_ = -1;

 private:
  bool read_exact(char* p, size_t n) {
    while (n > 0) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 10000) <= 0) return false;
      ssize_t got = ::recv(fd_, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
};

std::string parse_body(const std::string& name, const std::string& sql, std::vector<int32_t> oids = {}) {
  std::string b;
  append_cstring(b, name);
  append_cstring(b, sql);
  append_int16(b, static_cast<int16_t>(oids.size()));
  for (int32_t o : oids) append_int32(b, o);
  return b;
}

std::string bind_body(const std::string& portal, const std::string& stmt, std::vector<int16_t> pformats,
                      std::vector<std::optional<std::string>> params, std::vector<int16_t> rformats) {
  std::string b;
  append_cstring(b, portal);
  append_cstring(b, stmt);
  append_int16(b, static_cast<int16_t>(pformats.size()));
  for (auto f : pformats) append_int16(b, f);
  append_int16(b, static_cast<int16_t>(params.size()));
  for (auto& p : params) {
    if (!p) {
      append_int32(b, -1);
    } else {
      append_int32(b, static_cast<int32_t>(p->size()));
      b += *p;
    }
  }
  append_int16(b, static_cast<int16_t>(rformats.size()));
  for (auto f : rformats) append_int16(b, f);
  return b;
}

std::string execute_body(const std::string& portal, int32_t max_rows) {
  std::string b;
  append_cstring(b, portal);
  append_int32(b, max_rows);
  return b;
}

// ---- Tests -----------------------------------------------------------------------------------

TEST(PgServer, StartupSimpleQueryAndErrors) {
  auto server = make_server();
  RawClient c(server->port());
  EXPECT_EQ(c.startup(), "RSSSKZ");
  EXPECT_EQ(c.startup_msgs.back().body, "I");

  c.query("select 7; gen 3");
  std::vector<Msg> msgs;
  EXPECT_EQ(c.read_types_until_ready(&msgs), "TDCTDDDCZ");
  EXPECT_EQ(msgs[2].body, std::string("SELECT 1\0", 9));
  // DataRow of select 7: one field "7".
  EXPECT_EQ(msgs[1].body, std::string("\0\x01\0\0\0\x01" "7", 7));

  c.query("  ");
  EXPECT_EQ(c.read_types_until_ready(), "IZ");

  // Stops at the first error; later statements do not run.
  c.query("select 1; bad; select 2");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "TDCEZ");
  EXPECT_EQ(msgs[3].field('C'), "42601");
  EXPECT_EQ(msgs[3].field('S'), "ERROR");
  EXPECT_EQ(msgs[3].field('P'), "1");

  c.query("fail");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "22012");

  c.query("begin");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "CZ");
  EXPECT_EQ(msgs[1].body, "T");
  c.query("commit; set myapp");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "CCSZ");
  EXPECT_EQ(msgs[2].body, std::string("application_name\0myapp\0", 23));

  c.send_msg('X', "");
  EXPECT_EQ(c.read().type, 0);
}

TEST(PgServer, ExtendedQueryWithPortalSuspension) {
  auto server = make_server();
  RawClient c(server->port());
  c.startup();
  c.send_msg('P', parse_body("s", "gen 5"));
  c.send_msg('B', bind_body("p", "s", {}, {}, {}));
  c.send_msg('D', std::string("Pp\0", 3));
  c.send_msg('E', execute_body("p", 2));
  c.send_msg('E', execute_body("p", 2));
  c.send_msg('E', execute_body("p", 0));
  c.send_msg('E', execute_body("p", 0));
  c.send_msg('D', std::string("Ss\0", 3));
  c.send_msg('C', std::string("Pp\0", 3));
  c.send_msg('S', "");
  std::vector<Msg> msgs;
  EXPECT_EQ(c.read_types_until_ready(&msgs), "12TDDsDDsDCCtT3Z");
  // Portals of an implicit transaction are gone after Sync.
  c.send_msg('B', bind_body("q", "s", {}, {}, {}));
  c.send_msg('S', "");
  EXPECT_EQ(c.read_types_until_ready(), "2Z");
  c.send_msg('E', execute_body("q", 0));
  c.send_msg('S', "");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "34000");
}

TEST(PgServer, ErrorDiscardsUntilSync) {
  auto server = make_server();
  RawClient c(server->port());
  c.startup();
  c.send_msg('P', parse_body("", "bad"));
  c.send_msg('B', bind_body("", "", {}, {}, {}));
  c.send_msg('E', execute_body("", 0));
  c.query("select 1");  // ignored too, as in PostgreSQL
  c.send_msg('S', "");
  std::vector<Msg> msgs;
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "42601");
  // Duplicate named statement; unknown statement; wrong parameter count (08P01, not fatal).
  c.send_msg('P', parse_body("x", "gen 1"));
  c.send_msg('P', parse_body("x", "gen 1"));
  c.send_msg('S', "");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "1EZ");
  EXPECT_EQ(msgs[1].field('C'), "42P05");
  c.send_msg('B', bind_body("", "x", {}, {std::string("1")}, {}));
  c.send_msg('S', "");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "08P01");
  c.send_msg('P', parse_body("", "gen 1; gen 2"));
  c.send_msg('S', "");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "42601");
  // Empty statement.
  c.send_msg('P', parse_body("", ""));
  c.send_msg('B', bind_body("", "", {}, {}, {}));
  c.send_msg('D', std::string("P\0", 2));
  c.send_msg('E', execute_body("", 0));
  c.send_msg('S', "");
  EXPECT_EQ(c.read_types_until_ready(), "12nIZ");
}

// An error is sent at once, not held until Sync: a client that sends Flush after Execute
// (postgres.js .cursor()) waits for it.
TEST(PgServer, ErrorSentBeforeSync) {
  auto server = make_server();
  RawClient c(server->port());
  c.startup();
  c.set_read_timeout_ms(5000);
  c.send_msg('P', parse_body("", "bad"));
  c.send_msg('B', bind_body("", "", {}, {}, {}));
  c.send_msg('E', execute_body("", 0));
  c.send_msg('H', "");
  Msg m = c.read();
  EXPECT_EQ(m.type, 'E');
  EXPECT_EQ(m.field('C'), "42601");
  c.send_msg('S', "");
  EXPECT_EQ(c.read_types_until_ready(), "Z");
}

TEST(PgServer, BinaryParametersAndResults) {
  auto server = make_server();
  RawClient c(server->port());
  c.startup();
  c.send_msg('P', parse_body("", "echo $1 $2 $3", {23, 0, 1700}));
  c.send_msg('D', std::string("S\0", 2));
  c.send_msg('B', bind_body("", "", {1, 0, 1},
                            {std::string("\0\0\0\x2a", 4), std::string("héllo"),
                             std::string("\0\x01\0\0\0\0\0\0\0\x07", 10)},
                            {1, 0, 0}));
  c.send_msg('E', execute_body("", 0));
  c.send_msg('S', "");
  std::vector<Msg> msgs;
  EXPECT_EQ(c.read_types_until_ready(&msgs), "1tT2DCZ");
  std::string pd;
  append_int16(pd, 3);
  append_int32(pd, 23);
  append_int32(pd, 25);
  append_int32(pd, 1700);
  EXPECT_EQ(msgs[1].body, pd);
  std::string row;
  append_int16(row, 3);
  append_int32(row, 4);
  row += std::string("\0\0\0\x2a", 4);
  append_int32(row, 6);
  row += "héllo";
  append_int32(row, 1);
  row += "7";
  EXPECT_EQ(msgs[4].body, row);

  // A malformed binary parameter is an ERROR, not a FATAL.
  c.send_msg('B', bind_body("", "", {1}, {std::string("abc"), std::string("x"), std::nullopt}, {}));
  c.send_msg('S', "");
  msgs.clear();
  EXPECT_EQ(c.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "22P03");
}

TEST(PgServer, MalformedMessageClosesOnlyThatConnection) {
  PgServerOptions o;
  o.limits.max_message_bytes = 1024;
  auto server = make_server(o);
  RawClient good(server->port());
  good.startup();
  {
    RawClient bad(server->port());
    bad.startup();
    bad.send(std::string("\x07\0\0\0\x04", 5));
    Msg m = bad.read();
    EXPECT_EQ(m.type, 'E');
    EXPECT_EQ(m.field('S'), "FATAL");
    EXPECT_EQ(m.field('C'), "08P01");
    EXPECT_EQ(bad.read().type, 0);
  }
  {
    RawClient big(server->port());
    big.startup();
    std::string h = "Q";
    append_int32(h, 4 + 2000);
    big.send(h);
    Msg m = big.read();
    EXPECT_EQ(m.field('C'), "08P01");
    EXPECT_EQ(big.read().type, 0);
  }
  {
    RawClient trunc(server->port());
    trunc.startup();
    trunc.send_msg('E', "portal-without-terminator");
    EXPECT_EQ(trunc.read().field('C'), "08P01");
    EXPECT_EQ(trunc.read().type, 0);
  }
  {
    RawClient v2(server->port());
    std::string b;
    append_int32(b, 2 << 16);
    v2.send(frame_startup(b));
    Msg m = v2.read();
    EXPECT_EQ(m.field('C'), "0A000");
  }
  {
    RawClient huge_startup(server->port());
    std::string h;
    append_int32(h, 20000);
    huge_startup.send(h);
    EXPECT_EQ(huge_startup.read().field('C'), "08P01");
  }
  {
    RawClient nouser(server->port());
    std::string b;
    append_int32(b, kProtocolVersion3);
    b.push_back('\0');
    nouser.send(frame_startup(b));
    EXPECT_EQ(nouser.read().field('C'), "28000");
  }
  {
    RawClient nodb(server->port());
    EXPECT_EQ(nodb.startup("freshet", "nosuchdb"), "RE<EOF>");
  }
  good.query("select 5");
  EXPECT_EQ(good.read_types_until_ready(), "TDCZ");
}

TEST(PgServer, SslRequestAnsweredN) {
  auto server = make_server();
  RawClient c(server->port());
  std::string b;
  append_int32(b, kSslRequestCode);
  c.send(frame_startup(b));
  EXPECT_EQ(c.read_byte(), 'N');
  b.clear();
  append_int32(b, kGssEncRequestCode);
  c.send(frame_startup(b));
  EXPECT_EQ(c.read_byte(), 'N');
  EXPECT_EQ(c.startup(), "RSSSKZ");
}

std::pair<int32_t, int32_t> backend_key(const RawClient& c) {
  for (const Msg& m : c.startup_msgs) {
    if (m.type == 'K') {
      BodyReader r(m.body);
      int32_t pid = r.int32();
      return {pid, r.int32()};
    }
  }
  return {0, 0};
}

TEST(PgServer, CancelRequest) {
  auto server = make_server();
  RawClient a(server->port());
  a.startup();
  a.query("sleep");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto [pid, secret] = backend_key(a);
  {
    RawClient wrong(server->port());
    std::string b;
    append_int32(b, kCancelRequestCode);
    append_int32(b, pid);
    append_int32(b, secret + 1);
    wrong.send(frame_startup(b));
    EXPECT_EQ(wrong.read().type, 0);  // closed without an answer
  }
  {
    RawClient cancel(server->port());
    std::string b;
    append_int32(b, kCancelRequestCode);
    append_int32(b, pid);
    append_int32(b, secret);
    cancel.send(frame_startup(b));
    EXPECT_EQ(cancel.read().type, 0);
  }
  std::vector<Msg> msgs;
  EXPECT_EQ(a.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "57014");
}

void send_cancel(uint16_t port, std::pair<int32_t, int32_t> key) {
  RawClient cancel(port);
  std::string b;
  append_int32(b, kCancelRequestCode);
  append_int32(b, key.first);
  append_int32(b, key.second);
  cancel.send(frame_startup(b));
  EXPECT_EQ(cancel.read().type, 0);  // closed without an answer
}

TEST(PgServer, ConnectionLimit) {
  PgServerOptions o;
  o.max_connections = 1;
  auto server = make_server(o);
  RawClient a(server->port());
  EXPECT_EQ(a.startup(), "RSSSKZ");
  {
    // Turned away once its startup packet is read, after the SSLRequest is answered.
    RawClient b(server->port());
    std::string ssl;
    append_int32(ssl, kSslRequestCode);
    b.send(frame_startup(ssl));
    EXPECT_EQ(b.read_byte(), 'N');
    EXPECT_EQ(b.startup(), "E<EOF>");
    EXPECT_EQ(b.startup_msgs[0].field('C'), "53300");
    EXPECT_EQ(b.startup_msgs[0].field('S'), "FATAL");
    EXPECT_EQ(b.startup_msgs[0].field('M'), "sorry, too many clients already");
  }
  // Cancel requests still work at the limit.
  a.query("sleep");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  send_cancel(server->port(), backend_key(a));
  std::vector<Msg> msgs;
  EXPECT_EQ(a.read_types_until_ready(&msgs), "EZ");
  EXPECT_EQ(msgs[0].field('C'), "57014");
}

TEST(PgServer, HalfOpenConnectionsDoNotLockOutClients) {
  // Pending (unauthenticated) connections are counted apart: past max_pending_connections
  // the oldest is closed, and an authenticating client still gets in.
  PgServerOptions o;
  o.max_connections = 2;
  o.max_pending_connections = 3;
  auto server = make_server(o);
  std::vector<std::unique_ptr<RawClient>> silent;
  for (int i = 0; i < 10; ++i) {
    silent.push_back(std::make_unique<RawClient>(server->port()));
    std::string half;
    append_int32(half, 100);  // a startup packet announced, never finished
    silent.back()->send(half);
  }
  RawClient ok(server->port());
  EXPECT_EQ(ok.startup(), "RSSSKZ");
  ok.query("select 1");
  EXPECT_EQ(ok.read_types_until_ready(), "TDCZ");
  EXPECT_EQ(silent[0]->read().type, 0);  // evicted: closed without a message
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST(PgServer, AuthenticationMessageLimit) {
  server::AuthConfig auth;
  auth.require_password = true;
  auth.passwords["freshet"] = "s3cret";
  auto server = make_server({}, auth);
  RawClient c(server->port());
  std::string b;
  append_int32(b, kProtocolVersion3);
  append_cstring(b, "user");
  append_cstring(b, "freshet");
  b.push_back('\0');
  c.send(frame_startup(b));
  EXPECT_EQ(c.read().type, 'R');  // AuthenticationSASL
  // A SASLInitialResponse announcing 60 MiB: refused from its length word alone.
  std::string header = "p";
  append_int32(header, 60 << 20);
  c.send(header);
  Msg m = c.read();
  EXPECT_EQ(m.type, 'E');
  EXPECT_EQ(m.field('C'), "08P01");
  EXPECT_EQ(c.read().type, 0);
}

TEST(PgServer, StartupTimeout) {
  PgServerOptions o;
  o.limits.startup_timeout_ms = 200;
  auto server = make_server(o);
  RawClient silent(server->port());
  EXPECT_EQ(silent.read().type, 0);  // closed after the timeout
  RawClient ok(server->port());
  EXPECT_EQ(ok.startup(), "RSSSKZ");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ok.query("select 1");
  EXPECT_EQ(ok.read_types_until_ready(), "TDCZ");  // the timeout ends with the startup
}

TEST(PgServer, StopTerminatesConnections) {
  auto server = make_server();
  RawClient idle(server->port());
  idle.startup();
  RawClient busy(server->port());
  busy.startup();
  busy.query("sleep");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server->connection_count(), 2u);
  server->stop();
  for (RawClient* c : {&idle, &busy}) {
    Msg m = c->read();
    EXPECT_EQ(m.type, 'E');
    EXPECT_EQ(m.field('S'), "FATAL");
    EXPECT_EQ(m.field('C'), "57P01");
    EXPECT_EQ(m.field('M'), "terminating connection due to administrator command");
    EXPECT_EQ(c->read().type, 0);
  }
}

// ---- libpq ---------------------------------------------------------------------------------

std::string conninfo(uint16_t port, const std::string& extra = "") {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=freshet dbname=freshet connect_timeout=10 " + extra;
}

TEST(PgServerLibpq, SimpleAndExtendedBinary) {
  auto server = make_server();
  PGconn* conn = PQconnectdb(conninfo(server->port(), "sslmode=prefer gssencmode=disable").c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQparameterStatus(conn, "server_version"), "15.0");
  EXPECT_GT(PQbackendPID(conn), 0);

  PGresult* r = PQexec(conn, "gen 3");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_EQ(PQntuples(r), 3);
  EXPECT_STREQ(PQgetvalue(r, 2, 0), "2");
  EXPECT_STREQ(PQcmdTuples(r), "3");
  PQclear(r);

  r = PQexec(conn, "bad");
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42601");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION), "1");
  PQclear(r);

  const Oid types[2] = {20, 25};
  const char* values[2] = {"\0\0\0\0\0\0\0\x09", "text"};
  const int lengths[2] = {8, 4};
  const int formats[2] = {1, 0};
  r = PQexecParams(conn, "echo $1 $2", 2, types, values, lengths, formats, /*resultFormat=*/1);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_EQ(PQftype(r, 0), 20u);
  EXPECT_EQ(PQfformat(r, 0), 1);
  ASSERT_EQ(PQgetlength(r, 0, 0), 8);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0), 8), std::string("\0\0\0\0\0\0\0\x09", 8));
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 1), 4), "text");
  PQclear(r);

  r = PQexecParams(conn, "types", 0, nullptr, nullptr, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "t");
  EXPECT_STREQ(PQgetvalue(r, 0, 1), "-123.45");
  EXPECT_EQ(PQfmod(r, 1), ((10 << 16) | 2) + 4);
  EXPECT_STREQ(PQgetvalue(r, 0, 2), "hi");
  EXPECT_TRUE(PQgetisnull(r, 0, 4));
  PQclear(r);

  // Named prepared statements.
  r = PQprepare(conn, "st", "echo $1", 1, nullptr);
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(r);
  r = PQdescribePrepared(conn, "st");
  EXPECT_EQ(PQnparams(r), 1);
  EXPECT_EQ(PQparamtype(r, 0), 25u);
  PQclear(r);
  const char* v[1] = {"x"};
  r = PQexecPrepared(conn, "st", 1, v, nullptr, nullptr, 0);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "x");
  PQclear(r);
  PQfinish(conn);
}

TEST(PgServerLibpq, CopyInAndOut) {
  auto server = make_server();
  PGconn* conn = PQconnectdb(conninfo(server->port()).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  // COPY FROM STDIN: data in pieces that cut a quoted field, CopyDone, CommandComplete.
  PGresult* r = PQexec(conn, "copyin");
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_IN) << PQerrorMessage(conn);
  EXPECT_EQ(PQnfields(r), 2);
  PQclear(r);
  EXPECT_EQ(PQputCopyData(conn, "1,\"a,", 5), 1);
  EXPECT_EQ(PQputCopyData(conn, "b\"\n2,\n", 6), 1);
  EXPECT_EQ(PQputCopyEnd(conn, nullptr), 1);
  r = PQgetResult(conn);
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQcmdStatus(r), "COPY 2");
  PQclear(r);
  EXPECT_EQ(PQgetResult(conn), nullptr);

  // A bad value: 22P02 with the line in CONTEXT; the connection goes on.
  r = PQexec(conn, "copyin");
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_IN);
  PQclear(r);
  PQputCopyData(conn, "1,a\nx,b\n", 8);
  PQputCopyEnd(conn, nullptr);
  r = PQgetResult(conn);
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22P02");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_CONTEXT), "COPY t, line 2, column a: \"x\"");
  PQclear(r);
  while ((r = PQgetResult(conn)) != nullptr) PQclear(r);

  // CopyFail: 57014 with the client's message.
  r = PQexec(conn, "copyin");
  PQclear(r);
  PQputCopyEnd(conn, "changed my mind");
  r = PQgetResult(conn);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "57014");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), "COPY from stdin failed: changed my mind");
  PQclear(r);
  while ((r = PQgetResult(conn)) != nullptr) PQclear(r);

  // COPY TO STDOUT in csv.
  r = PQexec(conn, "copyout");
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_OUT) << PQerrorMessage(conn);
  PQclear(r);
  std::string out;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    PQfreemem(buf);
  }
  EXPECT_EQ(out, "1,\"x,y\"\n2,\n");
  r = PQgetResult(conn);
  EXPECT_STREQ(PQcmdStatus(r), "COPY 2");
  PQclear(r);
  r = PQexec(conn, "select 7");
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "7");
  PQclear(r);
  PQfinish(conn);
}

TEST(PgServerLibpq, CancelFromLibpq) {
  auto server = make_server();
  PGconn* conn = PQconnectdb(conninfo(server->port()).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    PGcancel* c = PQgetCancel(conn);
    char err[256];
    EXPECT_EQ(PQcancel(c, err, sizeof err), 1) << err;
    PQfreeCancel(c);
  });
  PGresult* r = PQexec(conn, "sleep");
  t.join();
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "57014");
  PQclear(r);
  PQfinish(conn);
}

TEST(PgServerLibpq, ScramAuthentication) {
  server::AuthConfig auth;
  auth.require_password = true;
  auth.passwords["freshet"] = "s3cret";
  auth.passwords["alice"] = "pencil";
  auto server = make_server({}, auth);
  PGconn* ok = PQconnectdb(conninfo(server->port(), "password=s3cret").c_str());
  EXPECT_EQ(PQstatus(ok), CONNECTION_OK) << PQerrorMessage(ok);
  PGresult* r = PQexec(ok, "select 1");
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  PQclear(r);
  PQfinish(ok);

  PGconn* bad = PQconnectdb(conninfo(server->port(), "password=wrong").c_str());
  EXPECT_EQ(PQstatus(bad), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(bad)).find("password authentication failed for user \"freshet\""),
            std::string::npos)
      << PQerrorMessage(bad);
  PQfinish(bad);

  PGconn* unknown = PQconnectdb(("host=127.0.0.1 port=" + std::to_string(server->port()) +
                                 " user=mallory dbname=freshet password=x").c_str());
  EXPECT_EQ(PQstatus(unknown), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(unknown)).find("password authentication failed for user \"mallory\""),
            std::string::npos)
      << PQerrorMessage(unknown);
  PQfinish(unknown);

  PGconn* none = PQconnectdb(conninfo(server->port(), "password=").c_str());
  EXPECT_EQ(PQstatus(none), CONNECTION_BAD);
  PQfinish(none);
}

}  // namespace
}  // namespace freshet::pgwire
