#include "storage/format.hpp"

#include <gtest/gtest.h>

#include "storage/crc32c.hpp"

namespace freshet::storage::format {
namespace {

TEST(Format, BatchFrameRoundTrip) {
  std::vector<RecordView> recs = {
      {10, 5, Op::kUpsert, "k1", std::string_view("v1")},
      {12, 5, Op::kDelete, "k2", std::nullopt},
      {13, 5, Op::kUpsert, "", std::string_view("")},
  };
  std::string out;
  size_t n = append_batch_frame(out, 10, 5, 6, std::string("lsn/1"), recs);
  ASSERT_EQ(n, out.size());
  uint32_t len, crc;
  std::memcpy(&len, out.data(), 4);
  std::memcpy(&crc, out.data() + 4, 4);
  ASSERT_EQ(len + kFrameHeaderBytes, out.size());
  EXPECT_EQ(crc, crc32c_extend(crc32c(&len, 4), out.data() + 8, len));
  auto f = decode_frame_body(std::string_view(out).substr(8));
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->type, FrameType::kBatch);
  EXPECT_EQ(f->base_offset, 10u);
  EXPECT_EQ(f->timestamp_ms, 5u);
  EXPECT_EQ(f->upper_ms, 6u);
  ASSERT_TRUE(f->checkpoint.has_value());
  EXPECT_EQ(*f->checkpoint, "lsn/1");
  RecordIterator it(*f);
  RecordView rv;
  for (const auto& want : recs) {
    auto more = it.next(rv);
    ASSERT_TRUE(more.is_ok() && *more);
    EXPECT_EQ(rv.offset, want.offset);
    EXPECT_EQ(rv.op, want.op);
    EXPECT_EQ(rv.key, want.key);
    EXPECT_EQ(rv.value, want.value);
  }
  auto end = it.next(rv);
  ASSERT_TRUE(end.is_ok());
  EXPECT_FALSE(*end);
}

TEST(Format, MalformedBodiesAreErrors) {
  std::vector<RecordView> recs = {{0, 1, Op::kUpsert, "key", std::string_view("value")}};
  std::string out;
  append_batch_frame(out, 0, 1, 1, std::nullopt, recs);
  std::string body = out.substr(8);
  for (size_t cut = 0; cut < body.size(); ++cut) {
    auto f = decode_frame_body(std::string_view(body).substr(0, cut));
    if (!f) continue;
    RecordIterator it(*f);
    RecordView rv;
    auto r = it.next(rv);
    EXPECT_FALSE(r.is_ok() && *r && it.next(rv).is_ok()) << cut;
  }
  std::string tick;
  append_tick_frame(tick, 99);
  auto t = decode_frame_body(std::string_view(tick).substr(8));
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->type, FrameType::kTick);
  EXPECT_EQ(t->upper_ms, 99u);
}

TEST(Format, SegmentHeaderAndNames) {
  std::string h = encode_segment_header({SegmentKind::kCompacted, 3, 42, 1000});
  auto d = decode_segment_header(h);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->kind, SegmentKind::kCompacted);
  EXPECT_EQ(d->collection_id, 3u);
  EXPECT_EQ(d->seq, 42u);
  EXPECT_EQ(d->base_offset, 1000u);
  h[20] ^= 1;
  EXPECT_FALSE(decode_segment_header(h).is_ok());
  EXPECT_EQ(segment_file_name(42), "seg-00000000000000000042.log");
  EXPECT_EQ(parse_segment_file_name(segment_file_name(42)), 42u);
  EXPECT_FALSE(parse_segment_file_name("seg-00000000000000000042.log.tmp").has_value());
}

TEST(Format, ManifestRoundTripAndCorruption) {
  Manifest m;
  m.collection_id = 9;
  m.name = "shop.public.sales";
  m.next_seq = 12;
  m.active_seq = 11;
  m.sealed_next_offset = 500;
  m.sealed_upper_ms = 77;
  m.sealed_checkpoint = std::string("\0\1binary", 8);
  m.sealed.push_back({3, SegmentKind::kCompacted, 0, 300, 4096, 60});
  m.sealed.push_back({10, SegmentKind::kLog, 300, 500, 8192, 77});
  std::string bytes = encode_manifest(m);
  auto d = decode_manifest(bytes);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(d->name, m.name);
  EXPECT_EQ(d->sealed_checkpoint, m.sealed_checkpoint);
  ASSERT_EQ(d->sealed.size(), 2u);
  EXPECT_EQ(d->sealed[1].base_offset, 300u);
  EXPECT_EQ(d->sealed[0].kind, SegmentKind::kCompacted);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x40;
    EXPECT_FALSE(decode_manifest(bad).is_ok()) << i;
  }
  EXPECT_FALSE(decode_manifest(bytes.substr(0, bytes.size() - 1)).is_ok());
}

}  // namespace
}  // namespace freshet::storage::format
