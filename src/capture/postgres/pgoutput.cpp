#include "capture/postgres/pgoutput.hpp"

#include <cstdio>

#include "common/error.hpp"

namespace freshet::capture::postgres {

namespace {

[[noreturn]] void malformed(const char* what) {
  throw SqlError(sqlstate::kProtocolViolation, std::string("malformed replication message: ") + what);
}

// Big-endian reader over a message; every read checks the remaining length.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  size_t remaining() const { return s_.size() - pos_; }
  bool done() const { return pos_ == s_.size(); }

  uint64_t uint(int bytes, const char* what) {
    if (remaining() < static_cast<size_t>(bytes)) malformed(what);
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(s_[pos_++]);
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(uint(1, what)); }
  uint16_t u16(const char* what) { return static_cast<uint16_t>(uint(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(uint(4, what)); }
  int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
  uint64_t u64(const char* what) { return uint(8, what); }
  int64_t i64(const char* what) { return static_cast<int64_t>(u64(what)); }

  // A NUL-terminated string.
  std::string_view cstr(const char* what) {
    size_t end = s_.find('\0', pos_);
    if (end == std::string_view::npos) malformed(what);
    std::string_view v = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return v;
  }
  std::string_view bytes(size_t n, const char* what) {
    if (remaining() < n) malformed(what);
    std::string_view v = s_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::string_view rest() {
    std::string_view v = s_.substr(pos_);
    pos_ = s_.size();
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

TupleData read_tuple(Reader& r) {
  uint16_t n = r.u16("tuple column count");
  if (n > kMaxColumns) malformed("tuple has too many columns");
  TupleData t;
  t.reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    TupleValue v;
    uint8_t kind = r.u8("tuple value kind");
    switch (kind) {
      case 'n': v.kind = TupleValue::Kind::kNull; break;
      case 'u': v.kind = TupleValue::Kind::kUnchangedToast; break;
      case 't':
      case 'b': {
        bool text = kind == 't';
        int32_t len = r.i32("tuple value length");
        if (len < 0) malformed("negative tuple value length");
        v.data = r.bytes(static_cast<size_t>(len), "tuple value");
        v.kind = text ? TupleValue::Kind::kText : TupleValue::Kind::kBinary;
        break;
      }
      default: malformed("unknown tuple value kind");
    }
    t.push_back(v);
  }
  return t;
}

void expect_done(const Reader& r, const char* what) {
  if (!r.done()) malformed(what);
}

}  // namespace

std::string format_lsn(Lsn lsn) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08X/%08X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > 8 || text.size() - slash - 1 == 0 ||
      text.size() - slash - 1 > 8) {
    return std::nullopt;
  }
  auto hex = [](std::string_view s) -> std::optional<uint64_t> {
    uint64_t v = 0;
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return std::nullopt;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    return v;
  };
  auto hi = hex(text.substr(0, slash));
  auto lo = hex(text.substr(slash + 1));
  if (!hi || !lo) return std::nullopt;
  return (*hi << 32) | *lo;
}

StreamMessage decode_stream_message(std::string_view copy_data) {
  Reader r(copy_data);
  switch (r.u8("stream message type")) {
    case 'w': {
      XLogData x;
      x.wal_start = r.u64("XLogData start");
      x.wal_end = r.u64("XLogData end");
      x.send_time_us = r.i64("XLogData send time");
      x.payload = r.rest();
      return x;
    }
    case 'k': {
      Keepalive k;
      k.wal_end = r.u64("keepalive wal end");
      k.send_time_us = r.i64("keepalive send time");
      k.reply_requested = r.u8("keepalive reply flag") != 0;
      expect_done(r, "trailing bytes after keepalive");
      return k;
    }
    default: malformed("unknown stream message type (expected 'w' or 'k')");
  }
}

std::string encode_standby_status(Lsn write, Lsn flush, Lsn apply, int64_t now_us, bool reply_requested) {
  std::string out;
  out.reserve(34);
  out.push_back('r');
  auto put64 = [&](uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put64(write);
  put64(flush);
  put64(apply);
  put64(static_cast<uint64_t>(now_us));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

PgoutputMessage decode_pgoutput(std::string_view payload) {
  Reader r(payload);
  switch (r.u8("pgoutput message type")) {
    case 'B': {
      BeginMsg m;
      m.final_lsn = r.u64("Begin final LSN");
      m.commit_time_us = r.i64("Begin commit time");
      m.xid = r.u32("Begin xid");
      expect_done(r, "trailing bytes after Begin");
      return m;
    }
    case 'C': {
      CommitMsg m;
      m.flags = r.u8("Commit flags");
      m.commit_lsn = r.u64("Commit LSN");
      m.end_lsn = r.u64("Commit end LSN");
      m.commit_time_us = r.i64("Commit time");
      expect_done(r, "trailing bytes after Commit");
      return m;
    }
    case 'O': {
      OriginMsg m;
      m.commit_lsn = r.u64("Origin LSN");
      m.name = r.cstr("Origin name");
      expect_done(r, "trailing bytes after Origin");
      return m;
    }
    case 'R': {
      RelationMsg m;
      m.relid = r.u32("Relation id");
      m.nspname = r.cstr("Relation namespace");
      m.relname = r.cstr("Relation name");
      m.replica_identity = static_cast<char>(r.u8("Relation replica identity"));
      uint16_t n = r.u16("Relation column count");
      if (n > kMaxColumns) malformed("Relation has too many columns");
      m.columns.reserve(n);
      for (uint16_t i = 0; i < n; ++i) {
        RelationColumn c;
        c.key = (r.u8("Relation column flags") & 1) != 0;
        c.name = r.cstr("Relation column name");
        c.type_oid = r.u32("Relation column type");
        c.typmod = r.i32("Relation column typmod");
        m.columns.push_back(c);
      }
      expect_done(r, "trailing bytes after Relation");
      return m;
    }
    case 'Y': {
      TypeMsg m;
      m.type_oid = r.u32("Type oid");
      m.nspname = r.cstr("Type namespace");
      m.name = r.cstr("Type name");
      expect_done(r, "trailing bytes after Type");
      return m;
    }
    case 'I': {
      InsertMsg m;
      m.relid = r.u32("Insert relation id");
      if (r.u8("Insert tuple marker") != 'N') malformed("Insert without 'N' tuple");
      m.new_tuple = read_tuple(r);
      expect_done(r, "trailing bytes after Insert");
      return m;
    }
    case 'U': {
      UpdateMsg m;
      m.relid = r.u32("Update relation id");
      uint8_t marker = r.u8("Update tuple marker");
      if (marker == 'K' || marker == 'O') {
        m.old_kind = static_cast<char>(marker);
        m.old_tuple = read_tuple(r);
        marker = r.u8("Update new tuple marker");
      }
      if (marker != 'N') malformed("Update without 'N' tuple");
      m.new_tuple = read_tuple(r);
      expect_done(r, "trailing bytes after Update");
      return m;
    }
    case 'D': {
      DeleteMsg m;
      m.relid = r.u32("Delete relation id");
      uint8_t marker = r.u8("Delete tuple marker");
      if (marker != 'K' && marker != 'O') malformed("Delete without 'K' or 'O' tuple");
      m.old_kind = static_cast<char>(marker);
      m.old_tuple = read_tuple(r);
      expect_done(r, "trailing bytes after Delete");
      return m;
    }
    case 'T': {
      TruncateMsg m;
      uint32_t n = r.u32("Truncate relation count");
      m.options = r.u8("Truncate options");
      if (n > kMaxTruncateRelations || static_cast<size_t>(n) * 4 != r.remaining()) {
        malformed("Truncate relation count does not match its length");
      }
      m.relids.reserve(n);
      for (uint32_t i = 0; i < n; ++i) m.relids.push_back(r.u32("Truncate relation id"));
      return m;
    }
    case 'M': {
      LogicalMsg m;
      m.flags = r.u8("Message flags");
      m.lsn = r.u64("Message LSN");
      m.prefix = r.cstr("Message prefix");
      int32_t len = r.i32("Message length");
      if (len < 0) malformed("negative Message length");
      m.content = r.bytes(static_cast<size_t>(len), "Message content");
      expect_done(r, "trailing bytes after Message");
      return m;
    }
    default: malformed("unknown pgoutput message type");
  }
}

}  // namespace freshet::capture::postgres
