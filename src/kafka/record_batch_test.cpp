#include "kafka/record_batch.hpp"

#include <gtest/gtest.h>

#include "kafka/wire.hpp"

namespace freshet::kafka {
namespace {

TEST(RecordBatch, RoundTripWithGapsTombstonesAndHeaders) {
  std::vector<Record> in(3);
  in[0] = Record{10, 1000, std::string("k1"), std::string("v1"), {}};
  in[1] = Record{12, 999, std::string("k2"), std::nullopt, {{"h", std::string("x")}, {"n", std::nullopt}}};
  in[2] = Record{15, 1005, std::nullopt, std::string(300, 'z'), {}};
  std::string data;
  encode_record_batch(in, data);
  std::vector<RecordBatch> out;
  ASSERT_EQ(decode_record_batches(data, out), BatchError::kNone);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].base_offset, 10);
  ASSERT_EQ(out[0].records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[0].records[i].offset, in[i].offset);
    EXPECT_EQ(out[0].records[i].timestamp_ms, in[i].timestamp_ms);
    EXPECT_EQ(out[0].records[i].key, in[i].key);
    EXPECT_EQ(out[0].records[i].value, in[i].value);
    EXPECT_EQ(out[0].records[i].headers, in[i].headers);
  }
  // Header fields: magic 2 at byte 16, lastOffsetDelta 5, baseTimestamp = min.
  EXPECT_EQ(data[16], 2);
  Reader r(std::string_view(data).substr(23));
  EXPECT_EQ(r.i32(), 5);
  EXPECT_EQ(r.i64(), 999);
  EXPECT_EQ(r.i64(), 1005);
}

TEST(RecordBatch, CrcCoversAttributesToEnd) {
  std::string data;
  encode_record_batch({Record{0, 1, std::string("a"), std::string("b"), {}}}, data);
  Reader r(std::string_view(data).substr(17));
  uint32_t crc = r.u32();
  EXPECT_EQ(crc, crc32c(std::string_view(data).substr(21)));
  // Flipping any byte after the CRC is detected.
  data[data.size() - 2] ^= 1;
  std::vector<RecordBatch> out;
  EXPECT_EQ(decode_record_batches(data, out), BatchError::kCorrupt);
}

TEST(RecordBatch, KnownBytesOfAnEmptyKeyValueRecord) {
  // One record, offset 0, timestamp 0, null key, value "v", no headers. The record body is
  // attributes 00, tsDelta 00, offsetDelta 00, keyLen 01 (-1), valueLen 02 (1), 'v', headers 00.
  std::string data;
  encode_record_batch({Record{0, 0, std::nullopt, std::string("v"), {}}}, data);
  std::string record = data.substr(61);
  EXPECT_EQ(record, std::string("\x0e\x00\x00\x00\x01\x02v\x00", 8));
  EXPECT_EQ(data.size(), 61u + 8u);
}

TEST(RecordBatch, CompressedAndOldMagicAreReported) {
  std::string data;
  encode_record_batch({Record{0, 1, std::nullopt, std::string("b"), {}}}, data);
  std::string compressed = data;
  compressed[22] = 1;  // attributes low byte: gzip
  Writer w(compressed);
  w.patch_u32(17, crc32c(std::string_view(compressed).substr(21)));
  std::vector<RecordBatch> out;
  EXPECT_EQ(decode_record_batches(compressed, out), BatchError::kCompressed);
  std::string old = data;
  old[16] = 1;
  EXPECT_EQ(decode_record_batches(old, out), BatchError::kUnsupportedMagic);
  EXPECT_EQ(decode_record_batches(data.substr(0, data.size() - 1), out), BatchError::kCorrupt);
}

}  // namespace
}  // namespace freshet::kafka
