#include "capture/sqlserver/tds_client.hpp"

#include <sybdb.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>

namespace freshet::capture::sqlserver {

namespace {

constexpr int kSybUnique = 36;  // SYBUNIQUE (tds.h; not in sybdb.h's enum)

// What FreeTDS told us last on this thread: the server's message (msgno > 0, severity > 10
// is an error) and db-lib's own error.
struct LastMessage {
  int server_number = 0;
  std::string server_text;
  int client_number = 0;
  std::string client_text;
  std::string os_text;
};
thread_local LastMessage tl_last;

int on_error(DBPROCESS*, int severity, int dberr, int oserr, char* dberrstr, char* oserrstr) {
  tl_last.client_number = dberr;
  tl_last.client_text = dberrstr ? dberrstr : "";
  tl_last.os_text = (oserr != 0 && oserrstr) ? oserrstr : "";
  return INT_CANCEL;  // fail the call; never exit the process (db-lib's default)
}

int on_message(DBPROCESS*, DBINT msgno, int msgstate, int severity, char* msgtext, char*, char*, int) {
  // Severity <= 10 is informational (5701 "Changed database context", 5703 language).
  if (severity > 10) {
    tl_last.server_number = msgno;
    tl_last.server_text = msgtext ? msgtext : "";
  }
  return 0;
}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    dbinit();
    dberrhandle(on_error);
    dbmsghandle(on_message);
  });
}

void append_hex(std::string& out, const uint8_t* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
}

// Civil date from days since 1900-01-01 (FreeTDS's epoch for every date type).
void civil_from_days1900(int64_t days, int& y, int& m, int& d) {
  // Days since 1970-01-01, then Howard Hinnant's civil_from_days.
  int64_t z = days - 25567 + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2 ? 1 : 0));
}

std::string format_date(int64_t days1900) {
  int y, m, d;
  civil_from_days1900(days1900, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

// time in 100 ns units since midnight → "hh:mm:ss.fffffff".
std::string format_time_100ns(uint64_t t) {
  uint64_t secs = t / 10000000, frac = t % 10000000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02u:%02u:%02u.%07u", static_cast<unsigned>(secs / 3600), static_cast<unsigned>(secs / 60 % 60),
                static_cast<unsigned>(secs % 60), static_cast<unsigned>(frac));
  return buf;
}

}  // namespace

TdsConnection::~TdsConnection() {
  if (proc_) dbclose(proc_);
}

Status TdsConnection::fail(const std::string& what) {
  last_error_.number = tl_last.server_number;
  if (tl_last.server_number != 0) {
    last_error_.message = tl_last.server_text;
  } else {
    last_error_.message = tl_last.client_text.empty() ? what : tl_last.client_text;
    if (!tl_last.os_text.empty()) last_error_.message += " (" + tl_last.os_text + ")";
  }
  return Status::error(last_error_.message);
}

Status TdsConnection::open(const TdsOptions& o) {
  init_once();
  tl_last = LastMessage();
  last_error_ = TdsError();
  LOGINREC* login = dblogin();
  if (!login) return Status::error("FreeTDS: dblogin failed");
  struct FreeLogin {
    LOGINREC* l;
    ~FreeLogin() { dbloginfree(l); }
  } free_login{login};
  DBSETLUSER(login, o.user.c_str());
  DBSETLPWD(login, o.password.c_str());
  DBSETLAPP(login, "freshet");
  DBSETLCHARSET(login, "UTF-8");
  DBSETLVERSION(login, DBVERSION_74);
  if (!o.database.empty()) DBSETLDBNAME(login, o.database.c_str());
#ifdef DBSETENCRYPTION
  if (o.encryption == Encryption::kRequire) dbsetlname(login, "require", DBSETENCRYPTION);
  else if (o.encryption == Encryption::kOff) dbsetlname(login, "off", DBSETENCRYPTION);
#else
  // FreeTDS before 1.4 has no db-lib call for the encryption level: its default, "request"
  // (TLS when the server requires it), is what SSL MODE prefer means.
  if (o.encryption != Encryption::kRequest)
    return Status::error("SSL MODE require/disable needs FreeTDS 1.4 or later (this build has an older db-lib); use SSL MODE prefer");
#endif
  dbsetlogintime(o.login_timeout_s);
  dbsettime(o.query_timeout_s);
  std::string server = o.host + ":" + std::to_string(o.port);
  proc_ = dbopen(login, server.c_str());
  if (!proc_) return fail("cannot connect to " + server);
  return Status::ok();
}

Result<std::vector<ResultSet>> TdsConnection::run(const std::string& batch) {
  std::vector<ResultSet> out;
  Status s = run_each(
      batch,
      [&](std::vector<std::string> columns) {
        out.push_back(ResultSet{std::move(columns), {}});
        return Status::ok();
      },
      [&](TextRow& row) {
        out.back().rows.push_back(std::move(row));
        return Status::ok();
      });
  if (!s) return s;
  return out;
}

Status TdsConnection::run_each(const std::string& batch, const std::function<Status(std::vector<std::string>)>& on_result,
                               const std::function<Status(TextRow&)>& on_row) {
  if (!proc_) return Status::error("not connected");
  tl_last = LastMessage();
  last_error_ = TdsError();
  if (dbcmd(proc_, batch.c_str()) == FAIL) return fail("dbcmd failed");
  if (dbsqlexec(proc_) == FAIL) {
    Status s = fail("the batch failed");
    dbcancel(proc_);
    return s;
  }
  RETCODE rc;
  bool failed = false;
  while ((rc = dbresults(proc_)) != NO_MORE_RESULTS) {
    if (rc == FAIL) {
      failed = true;
      break;
    }
    int ncols = dbnumcols(proc_);
    if (ncols <= 0) continue;
    std::vector<std::string> columns;
    for (int c = 1; c <= ncols; ++c) {
      const char* name = dbcolname(proc_, c);
      columns.emplace_back(name ? name : "");
    }
    if (Status s = on_result(std::move(columns)); !s) {
      dbcancel(proc_);
      return s;
    }
    STATUS row;
    while ((row = dbnextrow(proc_)) != NO_MORE_ROWS) {
      if (row == FAIL) {
        failed = true;
        break;
      }
      TextRow r(static_cast<size_t>(ncols));
      for (int c = 1; c <= ncols; ++c) {
        BYTE* data = dbdata(proc_, c);
        DBINT len = dbdatlen(proc_, c);
        if (!data && len == 0) continue;  // NULL
        const uint8_t* p = data;
        size_t n = static_cast<size_t>(len < 0 ? 0 : len);
        std::string& v = r[static_cast<size_t>(c - 1)].emplace();
        int type = dbcoltype(proc_, c);
        switch (type) {
          case SYBINT1: v = std::to_string(static_cast<unsigned>(*p)); break;
          case SYBINT2: { int16_t x; std::memcpy(&x, p, 2); v = std::to_string(x); break; }
          case SYBINT4: { int32_t x; std::memcpy(&x, p, 4); v = std::to_string(x); break; }
          case SYBINT8: { int64_t x; std::memcpy(&x, p, 8); v = std::to_string(x); break; }
          case SYBBIT:
          case SYBBITN: v = *p ? "t" : "f"; break;
          case SYBFLT8: {
            double x;
            std::memcpy(&x, p, 8);
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", x);
            v = buf;
            break;
          }
          case SYBREAL: {
            float x;
            std::memcpy(&x, p, 4);
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(x));
            v = buf;
            break;
          }
          case SYBDECIMAL:
          case SYBNUMERIC:
          case SYBMONEY:
          case SYBMONEY4: {
            char buf[80];
            DBINT m = dbconvert(proc_, type, data, len, SYBCHAR, reinterpret_cast<BYTE*>(buf), sizeof buf - 1);
            if (m < 0) {
              dbcancel(proc_);
              return Status::error("cannot convert a decimal value");
            }
            v.assign(buf, static_cast<size_t>(m));
            break;
          }
          case SYBCHAR:
          case SYBVARCHAR:
          case SYBTEXT:
          case SYBNTEXT:
          case SYBNVARCHAR: v.assign(reinterpret_cast<const char*>(p), n); break;
          case SYBBINARY:
          case SYBVARBINARY:
          case SYBIMAGE:
            v = "\\x";
            append_hex(v, p, n);
            break;
          case kSybUnique: {
            if (n != 16) {
              dbcancel(proc_);
              return Status::error("uniqueidentifier of " + std::to_string(n) + " bytes");
            }
            // FreeTDS keeps the GUID as its struct: Data1 (u32), Data2, Data3 (u16) in host
            // order, then 8 bytes.
            uint32_t d1;
            uint16_t d2, d3;
            std::memcpy(&d1, p, 4);
            std::memcpy(&d2, p + 4, 2);
            std::memcpy(&d3, p + 6, 2);
            char buf[64];
            std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", d1, d2, d3, p[8], p[9], p[10],
                          p[11], p[12], p[13], p[14], p[15]);
            v = buf;
            break;
          }
          case SYBDATETIME: {
            DBDATETIME dt;
            std::memcpy(&dt, p, sizeof dt);
            // dttime: 1/300 s since midnight → 100 ns units, rounded as SQL Server does.
            uint64_t t100 = (static_cast<uint64_t>(dt.dttime) * 100000 + 1) / 3;
            v = format_date(dt.dtdays) + " " + format_time_100ns(t100);
            break;
          }
          case SYBDATETIME4: {
            DBDATETIME4 dt;
            std::memcpy(&dt, p, sizeof dt);
            v = format_date(dt.days) + " " + format_time_100ns(static_cast<uint64_t>(dt.minutes) * 600000000ULL);
            break;
          }
          case SYBMSDATE:
          case SYBMSTIME:
          case SYBMSDATETIME2:
          case SYBMSDATETIMEOFFSET: {
            DBDATETIMEALL dt;
            std::memcpy(&dt, p, sizeof dt);
            if (type == SYBMSDATE) {
              v = format_date(dt.date);
            } else if (type == SYBMSTIME) {
              v = format_time_100ns(dt.time);
            } else if (type == SYBMSDATETIME2) {
              v = format_date(dt.date) + " " + format_time_100ns(dt.time);
            } else {
              // TDS sends datetimeoffset as UTC date and time plus the offset (MS-TDS 2.2.5.4.2),
              // and FreeTDS keeps them so: the instant is the UTC part.
              v = format_date(dt.date) + " " + format_time_100ns(dt.time) + "+00";
            }
            break;
          }
          default: {
            // Anything else: FreeTDS's own conversion to text.
            std::string buf(std::max<size_t>(256, n * 2 + 64), '\0');
            DBINT m = dbconvert(proc_, type, data, len, SYBCHAR, reinterpret_cast<BYTE*>(buf.data()),
                                static_cast<DBINT>(buf.size()));
            if (m < 0) {
              dbcancel(proc_);
              return Status::error("cannot convert a value of server type " + std::to_string(type));
            }
            v.assign(buf.data(), static_cast<size_t>(m));
          }
        }
      }
      if (Status s = on_row(r); !s) {
        dbcancel(proc_);
        return s;
      }
    }
    if (failed) break;
  }
  if (failed || tl_last.server_number != 0) {
    Status s = fail("the batch failed");
    dbcancel(proc_);
    return s;
  }
  return Status::ok();
}

}  // namespace freshet::capture::sqlserver
