// Unit tests of the replication stream decoder and the change decoder, over hand-built
// messages laid out as in the PostgreSQL 15 docs (protocol-logicalrep-message-formats).

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/postgres/change_decoder.hpp"
#include "capture/postgres/pgoutput.hpp"
#include "capture/postgres/postgres_source.hpp"
#include "common/format.hpp"

namespace freshet::capture::postgres {
namespace {

// Builds a message byte by byte (big-endian).
class Msg {
 public:
  explicit Msg(char type) { s_.push_back(type); }
  Msg& u8(uint8_t v) { s_.push_back(static_cast<char>(v)); return *this; }
  Msg& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Msg& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Msg& u64(uint64_t v) { return u32(static_cast<uint32_t>(v >> 32)).u32(static_cast<uint32_t>(v)); }
  Msg& str(std::string_view v) { s_.append(v); s_.push_back('\0'); return *this; }
  Msg& raw(std::string_view v) { s_.append(v); return *this; }
  // TupleData: nullopt is NULL, "\x01u" is an unchanged TOAST value.
  Msg& tuple(const std::vector<std::optional<std::string>>& vals) {
    u16(static_cast<uint16_t>(vals.size()));
    for (const auto& v : vals) {
      if (!v) {
        u8('n');
      } else if (*v == "\x01u") {
        u8('u');
      } else {
        u8('t').u32(static_cast<uint32_t>(v->size())).raw(*v);
      }
    }
    return *this;
  }
  std::string str() const { return s_; }

 private:
  std::string s_;
};

constexpr uint32_t kRelid = 16384;
constexpr uint32_t kOtherRelid = 16400;
constexpr uint32_t kFullRelid = 16500;

std::string begin_msg(Lsn final_lsn = 0x1000) { return Msg('B').u64(final_lsn).u64(1000000).u32(777).str(); }
std::string commit_msg(Lsn end_lsn) { return Msg('C').u8(0).u64(end_lsn - 8).u64(end_lsn).u64(1000000).str(); }

// public.t (id int4 primary key, name text, price numeric(10,2), ts timestamptz)
std::string relation_t(std::string_view price_name = "price") {
  return Msg('R')
      .u32(kRelid)
      .str("public")
      .str("t")
      .u8('d')
      .u16(4)
      .u8(1).str("id").u32(23).u32(0xffffffff)
      .u8(0).str("name").u32(25).u32(0xffffffff)
      .u8(0).str(price_name).u32(1700).u32(((10 << 16) | 2) + 4)
      .u8(0).str("ts").u32(1184).u32(0xffffffff)
      .str();
}

CapturedTable table_t() {
  CapturedTable t;
  t.relid = kRelid;
  t.schema.upstream_schema = "public";
  t.schema.upstream_name = "t";
  t.schema.name = "t";
  t.schema.columns = {{"id", Type(TypeId::kInt4), false},
                      {"name", Type(TypeId::kText)},
                      {"price", map_pg_type(1700, ((10 << 16) | 2) + 4)},
                      {"ts", Type(TypeId::kTimestampTz)}};
  t.schema.key = {0};
  t.type_oids = {23, 25, 1700, 1184};
  t.typmods = {-1, -1, ((10 << 16) | 2) + 4, -1};
  return t;
}

// public.f (a int4, b text) REPLICA IDENTITY FULL, no key: the key is every column.
CapturedTable table_f() {
  CapturedTable t;
  t.relid = kFullRelid;
  t.schema.upstream_schema = "public";
  t.schema.upstream_name = "f";
  t.schema.name = "f";
  t.schema.columns = {{"a", Type(TypeId::kInt4)}, {"b", Type(TypeId::kText)}};
  t.schema.key = {0, 1};
  t.type_oids = {23, 25};
  t.typmods = {-1, -1};
  return t;
}

std::string relation_f() {
  return Msg('R').u32(kFullRelid).str("public").str("f").u8('f').u16(2)
      .u8(1).str("a").u32(23).u32(0xffffffff)
      .u8(1).str("b").u32(25).u32(0xffffffff)
      .str();
}

Row row_of(const CapturedTable& t, const std::vector<std::optional<std::string>>& vals, Row* key = nullptr) {
  std::vector<std::optional<std::string_view>> v;
  for (const auto& x : vals) v.push_back(x ? std::optional<std::string_view>(*x) : std::nullopt);
  Arena arena;
  Row value, k;
  Status s = decode_row(t, v, arena, value, k);
  EXPECT_TRUE(s.is_ok()) << s.message();
  if (key) *key = k;
  return value;
}

Row key_of(const CapturedTable& t, const std::vector<std::optional<std::string>>& vals) {
  Row k;
  row_of(t, vals, &k);
  return k;
}

struct Fixture {
  ChangeDecoder dec{{table_t(), table_f()}, 0x500, 1 << 20};
  std::optional<Transaction> feed(const std::string& m) {
    auto r = dec.feed(m);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(*r) : std::nullopt;
  }
  Status feed_error(const std::string& m) {
    auto r = dec.feed(m);
    return r.status();
  }
};

TEST(Lsn, FormatAndParse) {
  EXPECT_EQ(format_lsn(0x16B374D848ull), "00000016/B374D848");
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(parse_lsn("00000016/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_FALSE(parse_lsn("16B374D848"));
  EXPECT_FALSE(parse_lsn("/1"));
  EXPECT_FALSE(parse_lsn("1/"));
  EXPECT_FALSE(parse_lsn("1/x"));
  EXPECT_FALSE(parse_lsn("123456789/0"));
  // Byte order of the padded strings is LSN order.
  EXPECT_LT(format_lsn(0xFFFFFFFFull), format_lsn(0x100000000ull));
  EXPECT_LT(format_lsn(0x9ull), format_lsn(0xAull));
}

TEST(Stream, XLogDataAndKeepalive) {
  std::string w = Msg('w').u64(0x10).u64(0x20).u64(5).raw("B...").str();
  auto m = decode_stream_message(w);
  auto* x = std::get_if<XLogData>(&m);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->wal_start, 0x10u);
  EXPECT_EQ(x->wal_end, 0x20u);
  EXPECT_EQ(x->payload, "B...");

  auto k = decode_stream_message(Msg('k').u64(0x30).u64(7).u8(1).str());
  ASSERT_TRUE(std::holds_alternative<Keepalive>(k));
  EXPECT_EQ(std::get<Keepalive>(k).wal_end, 0x30u);
  EXPECT_TRUE(std::get<Keepalive>(k).reply_requested);

  EXPECT_THROW(decode_stream_message(Msg('k').u64(0x30).str()), SqlError);
  EXPECT_THROW(decode_stream_message("w123"), SqlError);
  EXPECT_THROW(decode_stream_message("x"), SqlError);
  EXPECT_THROW(decode_stream_message(""), SqlError);
}

TEST(Stream, StandbyStatus) {
  std::string s = encode_standby_status(0x0102030405060708ull, 2, 3, 4, true);
  ASSERT_EQ(s.size(), 34u);
  EXPECT_EQ(s[0], 'r');
  EXPECT_EQ(s.substr(1, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(s[16], 2);
  EXPECT_EQ(s[24], 3);
  EXPECT_EQ(s[32], 4);
  EXPECT_EQ(s[33], 1);
}

TEST(Pgoutput, DecodesEveryMessage) {
  // Decoded messages borrow their input: keep every input alive.
  std::vector<std::unique_ptr<std::string>> inputs;
  auto keep = [&](std::string m) -> std::string_view { return *inputs.emplace_back(std::make_unique<std::string>(std::move(m))); };
  auto b = std::get<BeginMsg>(decode_pgoutput(keep(begin_msg(0x1234))));
  EXPECT_EQ(b.final_lsn, 0x1234u);
  EXPECT_EQ(b.xid, 777u);
  auto c = std::get<CommitMsg>(decode_pgoutput(keep(commit_msg(0x2000))));
  EXPECT_EQ(c.end_lsn, 0x2000u);
  EXPECT_EQ(c.commit_lsn, 0x2000u - 8);
  auto r = std::get<RelationMsg>(decode_pgoutput(keep(relation_t())));
  EXPECT_EQ(r.relid, kRelid);
  EXPECT_EQ(r.nspname, "public");
  ASSERT_EQ(r.columns.size(), 4u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[2].name, "price");
  EXPECT_EQ(r.columns[2].typmod, ((10 << 16) | 2) + 4);
  EXPECT_EQ(r.columns[0].typmod, -1);
  auto o = std::get<OriginMsg>(decode_pgoutput(keep(Msg('O').u64(9).str("node1").str())));
  EXPECT_EQ(o.name, "node1");
  auto y = std::get<TypeMsg>(decode_pgoutput(keep(Msg('Y').u32(99999).str("public").str("mood").str())));
  EXPECT_EQ(y.name, "mood");
  auto i = std::get<InsertMsg>(decode_pgoutput(keep(Msg('I').u32(kRelid).u8('N').tuple({"1", std::nullopt, "\x01u"}).str())));
  ASSERT_EQ(i.new_tuple.size(), 3u);
  EXPECT_EQ(i.new_tuple[0].kind, TupleValue::Kind::kText);
  EXPECT_EQ(i.new_tuple[0].data, "1");
  EXPECT_EQ(i.new_tuple[1].kind, TupleValue::Kind::kNull);
  EXPECT_EQ(i.new_tuple[2].kind, TupleValue::Kind::kUnchangedToast);
  auto u = std::get<UpdateMsg>(decode_pgoutput(keep(Msg('U').u32(kRelid).u8('K').tuple({"1"}).u8('N').tuple({"2"}).str())));
  EXPECT_EQ(u.old_kind, 'K');
  EXPECT_EQ(u.new_tuple[0].data, "2");
  auto u2 = std::get<UpdateMsg>(decode_pgoutput(keep(Msg('U').u32(kRelid).u8('N').tuple({"2"}).str())));
  EXPECT_EQ(u2.old_kind, 0);
  auto d = std::get<DeleteMsg>(decode_pgoutput(keep(Msg('D').u32(kRelid).u8('O').tuple({"1", "x"}).str())));
  EXPECT_EQ(d.old_kind, 'O');
  auto t = std::get<TruncateMsg>(decode_pgoutput(keep(Msg('T').u32(2).u8(1).u32(5).u32(6).str())));
  EXPECT_EQ(t.relids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(t.options, 1);
  auto lm = std::get<LogicalMsg>(decode_pgoutput(keep(Msg('M').u8(1).u64(3).str("pfx").u32(2).raw("hi").str())));
  EXPECT_EQ(lm.content, "hi");
}

TEST(Pgoutput, RejectsMalformed) {
  std::vector<std::string> bad = {
      "",
      "Z",
      begin_msg().substr(0, 10),
      begin_msg() + "x",
      Msg('I').u32(kRelid).u8('X').tuple({"1"}).str(),
      Msg('I').u32(kRelid).u8('N').u16(1).u8('t').u32(100).raw("short").str(),
      Msg('I').u32(kRelid).u8('N').u16(1).u8('t').u32(0xffffffff).str(),
      Msg('I').u32(kRelid).u8('N').u16(1).u8('q').str(),
      Msg('I').u32(kRelid).u8('N').u16(60000).str(),
      Msg('D').u32(kRelid).u8('N').tuple({"1"}).str(),
      Msg('T').u32(0xffffffff).u8(0).str(),
      Msg('T').u32(2).u8(0).u32(1).str(),
      Msg('R').u32(1).str("public").str(),
      Msg('M').u8(0).u64(0).str("p").u32(0x80000000).str(),
  };
  for (const auto& m : bad) EXPECT_THROW(decode_pgoutput(m), SqlError) << testing::PrintToString(m);
}

TEST(TypeMapping, Modifiers) {
  EXPECT_EQ(map_pg_type(1700, ((10 << 16) | 2) + 4), Type(TypeId::kNumeric, (10 << 16) | 2));
  EXPECT_EQ(map_pg_type(1700, -1), Type(TypeId::kNumeric));
  EXPECT_EQ(map_pg_type(1043, 24), Type(TypeId::kVarchar, 20));
  EXPECT_EQ(map_pg_type(1042, 9), Type(TypeId::kBpchar, 5));
  EXPECT_EQ(map_pg_type(1114, 3), Type(TypeId::kTimestamp, 3));
  EXPECT_EQ(map_pg_type(114, -1), Type(TypeId::kJsonb));
  EXPECT_EQ(map_pg_type(869, -1), Type(TypeId::kText));  // inet: as text
  EXPECT_FALSE(pg_type_is_native(869));
  EXPECT_TRUE(pg_type_is_native(25));
  EXPECT_TRUE(pg_type_is_native(2950));
}

TEST(SlotName, Sanitized) {
  EXPECT_EQ(slot_name_for_source("u7.Shop-Source"), "freshet_u7_shop_source");
  std::string long_id(100, 'a');
  std::string n = slot_name_for_source(long_id);
  EXPECT_EQ(n.size(), 63u);
  EXPECT_NE(n, slot_name_for_source(long_id + "b"));
}

TEST(ChangeDecoder, InsertUpdateDeleteInOneTransaction) {
  Fixture f;
  CapturedTable t = table_t();
  EXPECT_FALSE(f.feed(begin_msg()));
  EXPECT_FALSE(f.feed(relation_t()));
  EXPECT_FALSE(f.feed(Msg('I').u32(kRelid).u8('N').tuple({"1", "apple", "1.5", "2024-01-31 12:00:00+00"}).str()));
  // UPDATE that keeps the key: no old tuple.
  EXPECT_FALSE(f.feed(Msg('U').u32(kRelid).u8('N').tuple({"1", "apple", "2.00", std::nullopt}).str()));
  // UPDATE that changes the key: old key tuple (non-key columns null).
  EXPECT_FALSE(f.feed(Msg('U').u32(kRelid).u8('K').tuple({"1", std::nullopt, std::nullopt, std::nullopt})
                          .u8('N').tuple({"2", "apple", "2.00", std::nullopt}).str()));
  EXPECT_FALSE(f.feed(Msg('D').u32(kRelid).u8('K').tuple({"2", std::nullopt, std::nullopt, std::nullopt}).str()));
  auto txn = f.feed(commit_msg(0x1010));
  ASSERT_TRUE(txn);
  EXPECT_EQ(txn->position, "00000000/00001010");
  EXPECT_FALSE(txn->snapshot);
  EXPECT_EQ(txn->commit_time_ms, static_cast<uint64_t>((1000000 + kUnixToPgEpochMicros) / 1000));
  ASSERT_EQ(txn->changes.size(), 5u);
  EXPECT_EQ(txn->changes[0].op, Change::Op::kUpsert);
  EXPECT_EQ(txn->changes[0].key, key_of(t, {"1", "x", "0", std::nullopt}));
  EXPECT_EQ(txn->changes[0].value, row_of(t, {"1", "apple", "1.50", "2024-01-31 12:00:00+00"}));
  EXPECT_EQ(txn->changes[0].value.get(2).as_numeric().scale, 2);  // numeric(10,2) applied
  EXPECT_EQ(txn->changes[1].op, Change::Op::kUpsert);
  EXPECT_EQ(txn->changes[2].op, Change::Op::kDelete);
  EXPECT_EQ(txn->changes[2].key, key_of(t, {"1", "x", "0", std::nullopt}));
  EXPECT_EQ(txn->changes[3].op, Change::Op::kUpsert);
  EXPECT_EQ(txn->changes[3].key, key_of(t, {"2", "x", "0", std::nullopt}));
  EXPECT_EQ(txn->changes[4].op, Change::Op::kDelete);
  EXPECT_EQ(f.dec.stats().transactions, 1u);
}

TEST(ChangeDecoder, SkipsWhatIsDurable) {
  Fixture f;  // skip_through 0x500
  f.feed(begin_msg());
  f.feed(relation_t());
  f.feed(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str());
  EXPECT_FALSE(f.feed(commit_msg(0x500)));
  EXPECT_EQ(f.dec.stats().skipped_transactions, 1u);
  f.feed(begin_msg());
  f.feed(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str());
  EXPECT_TRUE(f.feed(commit_msg(0x501)));
  // A new session: relation ids are forgotten, the skip point moves.
  f.dec.reset_session(0x600);
  f.feed(begin_msg());
  EXPECT_FALSE(f.dec.feed(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str()).is_ok());
}

TEST(ChangeDecoder, IgnoresOtherTablesAndEmptyTransactions) {
  Fixture f;
  f.feed(begin_msg());
  f.feed(Msg('R').u32(kOtherRelid).str("public").str("other").u8('d').u16(1).u8(1).str("x").u32(23).u32(0xffffffff).str());
  f.feed(Msg('I').u32(kOtherRelid).u8('N').tuple({"1"}).str());
  f.feed(Msg('T').u32(1).u8(0).u32(kOtherRelid).str());
  EXPECT_FALSE(f.feed(commit_msg(0x2000)));
  EXPECT_EQ(f.dec.stats().empty_transactions, 1u);
  // Origin, Type and logical messages are ignored.
  f.feed(begin_msg());
  f.feed(Msg('O').u64(9).str("node1").str());
  f.feed(Msg('Y').u32(99999).str("public").str("mood").str());
  f.feed(Msg('M').u8(1).u64(3).str("pfx").u32(2).raw("hi").str());
  EXPECT_FALSE(f.feed(commit_msg(0x2100)));
}

TEST(ChangeDecoder, SchemaChangeStopsOnlyThatTable) {
  Fixture f;
  f.feed(begin_msg());
  f.feed(relation_t("cost"));  // a renamed column: table t (index 0) stops
  f.feed(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str());  // not delivered
  f.feed(relation_f());
  f.feed(Msg('I').u32(kFullRelid).u8('N').tuple({"5", "x"}).str());
  auto txn = f.feed(commit_msg(0x600));
  ASSERT_TRUE(txn);
  ASSERT_EQ(txn->changes.size(), 1u);
  EXPECT_EQ(txn->changes[0].table, 1u);  // f goes on
  ASSERT_EQ(txn->stopped_tables.size(), 1u);
  EXPECT_EQ(txn->stopped_tables[0].first, 0u);
  const std::string& why = txn->stopped_tables[0].second;
  EXPECT_NE(why.find("schema of table public.t changed upstream"), std::string::npos) << why;
  EXPECT_NE(why.find("recreate the source"), std::string::npos) << why;
  // Later changes of t are dropped, also after a new session (the Relation message comes again);
  // the stop is told once.
  f.dec.reset_session(0x600);
  f.feed(begin_msg());
  f.feed(relation_t("cost"));
  f.feed(Msg('I').u32(kRelid).u8('N').tuple({"2", "b", "1", std::nullopt}).str());
  EXPECT_FALSE(f.feed(commit_msg(0x700)));

  Fixture g;  // a column added: also only that table; told even when nothing else changed
  g.feed(begin_msg());
  std::string added = Msg('R').u32(kRelid).str("public").str("t").u8('d').u16(1).u8(1).str("id").u32(23).u32(0xffffffff).str();
  g.feed(added);
  g.feed(Msg('I').u32(kRelid).u8('N').tuple({"1"}).str());
  auto only_stop = g.feed(commit_msg(0x600));
  ASSERT_TRUE(only_stop);
  EXPECT_TRUE(only_stop->changes.empty());
  EXPECT_EQ(only_stop->stopped_tables.size(), 1u);

  Fixture h;  // the same name under another relation id: dropped and created again
  h.feed(begin_msg());
  std::string replaced = relation_t();
  replaced[4] = 0x7f;
  EXPECT_NE(h.feed_error(replaced).message().find("replaced upstream"), std::string::npos);
}

TEST(ChangeDecoder, TruncateIsAnError) {
  Fixture f;
  f.feed(begin_msg());
  f.feed(relation_t());
  Status s = f.feed_error(Msg('T').u32(1).u8(0).u32(kRelid).str());
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("table public.t was truncated upstream"), std::string::npos) << s.message();
}

TEST(ChangeDecoder, UnchangedToast) {
  Fixture f;
  f.feed(begin_msg());
  f.feed(relation_t());
  Status s = f.feed_error(Msg('U').u32(kRelid).u8('N').tuple({"1", "\x01u", "1", std::nullopt}).str());
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("REPLICA IDENTITY FULL"), std::string::npos) << s.message();

  // Under REPLICA IDENTITY FULL the old row supplies the value.
  Fixture g;
  CapturedTable ft = table_f();
  g.feed(begin_msg());
  g.feed(relation_f());
  g.feed(Msg('U').u32(kFullRelid).u8('O').tuple({"1", "long text"}).u8('N').tuple({"2", "\x01u"}).str());
  g.feed(Msg('D').u32(kFullRelid).u8('O').tuple({"2", "long text"}).str());
  auto txn = g.feed(commit_msg(0x3000));
  ASSERT_TRUE(txn);
  ASSERT_EQ(txn->changes.size(), 3u);  // delete old key (1, long text), upsert (2, long text), delete
  EXPECT_EQ(txn->changes[0].op, Change::Op::kDelete);
  EXPECT_EQ(txn->changes[0].key, key_of(ft, {"1", "long text"}));
  EXPECT_EQ(txn->changes[1].value, row_of(ft, {"2", "long text"}));
  EXPECT_EQ(txn->changes[1].key, key_of(ft, {"2", "long text"}));
  EXPECT_EQ(txn->changes[2].key, key_of(ft, {"2", "long text"}));
}

TEST(ChangeDecoder, ProtocolErrors) {
  Fixture f;
  // A change outside a transaction, a change before its Relation, a nested Begin.
  EXPECT_FALSE(f.feed_error(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str()).is_ok());
  Fixture g;
  g.feed(begin_msg());
  EXPECT_FALSE(g.feed_error(Msg('I').u32(kRelid).u8('N').tuple({"1", "a", "1", std::nullopt}).str()).is_ok());
  Fixture h;
  h.feed(begin_msg());
  EXPECT_FALSE(h.feed_error(begin_msg()).is_ok());
  Fixture i;
  EXPECT_FALSE(i.feed_error(commit_msg(0x9000)).is_ok());
  Fixture j;
  j.feed(begin_msg());
  j.feed(relation_t());
  // Wrong column count, a value of the wrong type, a malformed message.
  EXPECT_FALSE(j.feed_error(Msg('I').u32(kRelid).u8('N').tuple({"1"}).str()).is_ok());
  Status s = j.feed_error(Msg('I').u32(kRelid).u8('N').tuple({"one", "a", "1", std::nullopt}).str());
  EXPECT_NE(s.message().find("table public.t column id"), std::string::npos) << s.message();
  EXPECT_FALSE(j.feed_error("I").is_ok());
}

TEST(ChangeDecoder, TransactionSizeLimit) {
  ChangeDecoder dec({table_t()}, 0, 200);
  ASSERT_TRUE(dec.feed(begin_msg()).is_ok());
  ASSERT_TRUE(dec.feed(relation_t()).is_ok());
  Status s = Status::ok();
  for (int i = 0; i < 20 && s.is_ok(); ++i) {
    s = dec.feed(Msg('I').u32(kRelid).u8('N').tuple({std::to_string(i), "some text", "1", std::nullopt}).str()).status();
  }
  EXPECT_NE(s.message().find("max_transaction_bytes"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace freshet::capture::postgres
