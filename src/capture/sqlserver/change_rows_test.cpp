#include "capture/sqlserver/change_rows.hpp"

#include <gtest/gtest.h>

#include "common/format.hpp"

namespace freshet::capture::sqlserver {
namespace {

CapturedTable sales() {
  CapturedTable t;
  t.capture_instance = "dbo_sales";
  t.schema.upstream_schema = "dbo";
  t.schema.upstream_name = "sales";
  t.schema.name = "sales";
  t.schema.columns = {{"sale_id", Type(TypeId::kInt4), false},
                      {"quantity", Type(TypeId::kInt4), true},
                      {"unit_price", Type(TypeId::kNumeric, (10 << 16) | 2), true},
                      {"sale_date", Type(TypeId::kTimestamp, 3), true}};
  t.schema.key = {0};
  return t;
}

std::string lsn(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\\x0000002A%08X%04X", n, 1);
  return buf;
}

TextRow change(int lsn_n, int seq, int op, int id, std::optional<std::string> qty = "1") {
  return {lsn(lsn_n), lsn(seq), std::to_string(op), "1700000000000", std::to_string(id), qty, "9.99", "2024-01-31 12:00:00.1230000"};
}

TEST(SqlServerLsn, ParseFormatOrderIncrement) {
  auto a = Lsn::parse("0x0000002A000001F00003");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->hex(), "0000002A000001F00003");
  EXPECT_EQ(a->literal(), "0x0000002A000001F00003");
  auto b = Lsn::parse("\\x0000002a000001f00004");
  ASSERT_TRUE(b.is_ok());
  EXPECT_LT(*a, *b);
  EXPECT_EQ(a->increment(), *b);
  auto c = Lsn::parse("000000000000000000FF");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->increment().hex(), "00000000000000000100");
  EXPECT_FALSE(Lsn::parse("0x12").is_ok());
  EXPECT_FALSE(Lsn::parse("0xZZ00002A000001F00003").is_ok());
  EXPECT_TRUE(Lsn::zero().is_zero());
}

TEST(SqlServerPosition, RoundTripAndSnapshot) {
  auto p = Position::parse("0000002A000001F00003:0000002A000001F00001");
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->to_string(), "0000002A000001F00003:0000002A000001F00001");
  auto s = Position::parse("0000002A000001F00003:-snapshot");
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->snapshot_in_progress);
  EXPECT_EQ(s->to_string(), "0000002A000001F00003:-snapshot");
  EXPECT_LT(s->to_string(), std::string("0000002A000001F00003:FFFFFFFFFFFFFFFFFFFF"));
  EXPECT_FALSE(Position::parse("nonsense").is_ok());
  // String order is position order.
  EXPECT_LT(std::string("0000002A000001F00003:FFFFFFFFFFFFFFFFFFFF"), std::string("0000002A000001F00004:00000000000000000000"));
}

TEST(SqlServerTypes, Mapping) {
  auto m = [](std::string t, int len = 0, int p = 0, int s = 0) { return map_type(RawColumn{"c", t, len, p, s, true}, "dbo.t"); };
  EXPECT_EQ(*m("int"), Type(TypeId::kInt4));
  EXPECT_EQ(*m("bigint"), Type(TypeId::kInt8));
  EXPECT_EQ(*m("tinyint"), Type(TypeId::kInt2));
  EXPECT_EQ(*m("smallint"), Type(TypeId::kInt2));
  EXPECT_EQ(*m("bit"), Type(TypeId::kBool));
  EXPECT_EQ(*m("decimal", 9, 10, 2), Type(TypeId::kNumeric, (10 << 16) | 2));
  EXPECT_EQ(*m("money"), Type(TypeId::kNumeric, (19 << 16) | 4));
  EXPECT_EQ(*m("float", 8, 53), Type(TypeId::kFloat8));
  EXPECT_EQ(*m("real", 4, 24), Type(TypeId::kFloat4));
  EXPECT_EQ(*m("nvarchar", 100), Type(TypeId::kVarchar, 50));
  EXPECT_EQ(*m("varchar", -1), Type(TypeId::kText));
  EXPECT_EQ(*m("nchar", 20), Type(TypeId::kBpchar, 10));
  EXPECT_EQ(*m("datetime2", 8, 27, 7), Type(TypeId::kTimestamp, 6));
  EXPECT_EQ(*m("datetime"), Type(TypeId::kTimestamp, 3));
  EXPECT_EQ(*m("datetimeoffset", 10, 34, 7), Type(TypeId::kTimestampTz, 6));
  EXPECT_EQ(*m("uniqueidentifier"), Type(TypeId::kUuid));
  EXPECT_EQ(*m("varbinary", 16), Type(TypeId::kBytea));
  auto bad = m("xml");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("column dbo.t.c has type xml"), std::string::npos);
}

TEST(SqlServerChangeRows, DecodeAndAssemble) {
  CapturedTable t = sales();
  Arena arena;
  ChangeAssembler a(Position{});
  // LSN 1: insert 1, insert 2. LSN 2: update 1 (quantity), delete 2. LSN 3: key change 1 -> 3.
  std::vector<TextRow> rows = {change(1, 1, 2, 1), change(1, 2, 2, 2), change(2, 3, 3, 1), change(2, 3, 4, 1, "5"),
                               change(2, 4, 1, 2), change(3, 5, 3, 1, "5"), change(3, 5, 4, 3, "5")};
  for (const auto& r : rows) {
    auto c = decode_change_row(t, 0, r, arena);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    ASSERT_TRUE(a.add(std::move(*c)).is_ok());
  }
  ASSERT_TRUE(a.finish().is_ok());
  auto txns = a.take();
  ASSERT_EQ(txns.size(), 3u);
  EXPECT_EQ(txns[0].changes.size(), 2u);
  EXPECT_EQ(txns[0].commit_time_ms, 1700000000000u);
  EXPECT_EQ(txns[1].changes.size(), 2u);
  EXPECT_EQ(txns[1].changes[0].op, Change::Op::kUpsert);
  EXPECT_EQ(txns[1].changes[1].op, Change::Op::kDelete);
  ASSERT_EQ(txns[2].changes.size(), 2u);  // delete old key 1, upsert key 3
  EXPECT_EQ(txns[2].changes[0].op, Change::Op::kDelete);
  EXPECT_EQ(txns[2].changes[1].op, Change::Op::kUpsert);
  EXPECT_LT(txns[0].position, txns[1].position);
  EXPECT_LT(txns[1].position, txns[2].position);
  std::vector<Datum> v;
  txns[1].changes[0].value.unpack_into(v);
  EXPECT_EQ(v[1].as_int(), 5);
  EXPECT_EQ(format_datum(v[2], t.schema.columns[2].type), "9.99");
  EXPECT_EQ(format_datum(v[3], t.schema.columns[3].type), "2024-01-31 12:00:00.123");
}

TEST(SqlServerChangeRows, ResumeSkipsDurable) {
  CapturedTable t = sales();
  Arena arena;
  auto p = Position::parse(lsn(2).substr(2) + ":" + lsn(4).substr(2));
  ASSERT_TRUE(p.is_ok());
  ChangeAssembler a(*p);
  for (const auto& r : {change(1, 1, 2, 1), change(2, 3, 2, 2), change(2, 4, 2, 3), change(3, 5, 2, 4)}) {
    auto c = decode_change_row(t, 0, r, arena);
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE(a.add(std::move(*c)).is_ok());
  }
  ASSERT_TRUE(a.finish().is_ok());
  auto txns = a.take();
  ASSERT_EQ(txns.size(), 1u);
  EXPECT_EQ(txns[0].changes.size(), 1u);
}

TEST(SqlServerChangeRows, Errors) {
  CapturedTable t = sales();
  Arena arena;
  auto bad_op = decode_change_row(t, 0, change(1, 1, 7, 1), arena);
  ASSERT_FALSE(bad_op.is_ok());
  EXPECT_NE(bad_op.status().message().find("__$operation '7'"), std::string::npos);
  TextRow bad_val = change(1, 1, 2, 1);
  bad_val[5] = "abc";
  auto bv = decode_change_row(t, 0, bad_val, arena);
  ASSERT_FALSE(bv.is_ok());
  EXPECT_NE(bv.status().message().find("column quantity"), std::string::npos);
  TextRow null_key = change(1, 1, 2, 1);
  null_key[4] = std::nullopt;
  EXPECT_FALSE(decode_change_row(t, 0, null_key, arena).is_ok());
  // Out of order, and an after image without its before image.
  ChangeAssembler a(Position{});
  ASSERT_TRUE(a.add(*decode_change_row(t, 0, change(2, 2, 2, 1), arena)).is_ok());
  EXPECT_FALSE(a.add(*decode_change_row(t, 0, change(1, 1, 2, 1), arena)).is_ok());
  ChangeAssembler b(Position{});
  EXPECT_FALSE(b.add(*decode_change_row(t, 0, change(1, 1, 4, 1), arena)).is_ok());
  ChangeAssembler c(Position{});
  ASSERT_TRUE(c.add(*decode_change_row(t, 0, change(1, 1, 3, 1), arena)).is_ok());
  EXPECT_FALSE(c.finish().is_ok());
}

}  // namespace
}  // namespace freshet::capture::sqlserver
