#include "kafka/record_batch.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "kafka/wire.hpp"

namespace freshet::kafka {

namespace {
void encode_batch(const std::vector<Record>& records, int64_t base_offset, int64_t last_offset, std::string& out,
                  int32_t partition_leader_epoch);
}  // namespace

void encode_record_batch(const std::vector<Record>& records, std::string& out, int32_t partition_leader_epoch) {
  FRESHET_ASSERT(!records.empty());
  encode_batch(records, records.front().offset, records.back().offset, out, partition_leader_epoch);
}

void encode_record_batch_covering(const std::vector<Record>& records, int64_t base_offset, int64_t last_offset,
                                  std::string& out) {
  if (!records.empty()) base_offset = records.front().offset;
  FRESHET_ASSERT(last_offset >= base_offset);
  FRESHET_ASSERT(records.empty() || last_offset >= records.back().offset);
  encode_batch(records, base_offset, last_offset, out, 0);
}

namespace {
void encode_batch(const std::vector<Record>& records, int64_t base_offset, int64_t last_offset, std::string& out,
                  int32_t partition_leader_epoch) {
  int64_t min_ts = records.empty() ? 0 : records.front().timestamp_ms;
  int64_t max_ts = min_ts;
  for (const Record& r : records) {
    min_ts = std::min(min_ts, r.timestamp_ms);
    max_ts = std::max(max_ts, r.timestamp_ms);
  }
  Writer w(out);
  size_t start = out.size();
  w.i64(base_offset);
  size_t length_pos = out.size();
  w.i32(0);  // batchLength, patched
  w.i32(partition_leader_epoch);
  w.i8(2);  // magic
  size_t crc_pos = out.size();
  w.u32(0);  // crc, patched
  size_t crc_start = out.size();
  // Attributes: no compression, CreateTime, not transactional. A batch with no records (one that
  // only covers a gap of offsets) is marked as a control batch: clients skip control batches
  // without treating the empty fetch as a message too large to fetch (librdkafka would).
  w.i16(records.empty() ? 0x30 : 0);
  w.i32(static_cast<int32_t>(last_offset - base_offset));
  w.i64(min_ts);
  w.i64(max_ts);
  w.i64(-1);  // producerId
  w.i16(-1);  // producerEpoch
  w.i32(-1);  // baseSequence
  w.i32(static_cast<int32_t>(records.size()));
  std::string rec;
  for (const Record& r : records) {
    FRESHET_ASSERT(r.offset >= base_offset);
    rec.clear();
    Writer rw(rec);
    rw.i8(0);
    rw.varlong(r.timestamp_ms - min_ts);
    rw.varint(static_cast<int32_t>(r.offset - base_offset));
    if (r.key) {
      rw.varint(static_cast<int32_t>(r.key->size()));
      rw.raw(*r.key);
    } else {
      rw.varint(-1);
    }
    if (r.value) {
      rw.varint(static_cast<int32_t>(r.value->size()));
      rw.raw(*r.value);
    } else {
      rw.varint(-1);
    }
    rw.varint(static_cast<int32_t>(r.headers.size()));
    for (const auto& [hk, hv] : r.headers) {
      rw.varint(static_cast<int32_t>(hk.size()));
      rw.raw(hk);
      if (hv) {
        rw.varint(static_cast<int32_t>(hv->size()));
        rw.raw(*hv);
      } else {
        rw.varint(-1);
      }
    }
    w.varint(static_cast<int32_t>(rec.size()));
    w.raw(rec);
  }
  w.patch_i32(length_pos, static_cast<int32_t>(out.size() - length_pos - 4));
  w.patch_u32(crc_pos, crc32c(std::string_view(out).substr(crc_start)));
  (void)start;
}
}  // namespace

namespace {

std::optional<std::string> varbytes(Reader& r) {
  int32_t n = r.varint();
  if (n < -1) throw DecodeError("negative record field length");
  if (n == -1) return std::nullopt;
  return std::string(r.raw(static_cast<size_t>(n)));
}

BatchError decode_one(Reader& r, RecordBatch& b) {
  b.base_offset = r.i64();
  int32_t length = r.i32();
  if (length < 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 || static_cast<size_t>(length) > r.remaining()) {
    return BatchError::kCorrupt;
  }
  Reader body(r.raw(static_cast<size_t>(length)));
  b.partition_leader_epoch = body.i32();
  int8_t magic = body.i8();
  if (magic != 2) return BatchError::kUnsupportedMagic;
  uint32_t crc = body.u32();
  if (crc32c(body.rest()) != crc) return BatchError::kCorrupt;
  b.attributes = body.i16();
  int32_t last_offset_delta = body.i32();
  int64_t base_ts = body.i64();
  int64_t max_ts = body.i64();
  b.producer_id = body.i64();
  b.producer_epoch = body.i16();
  b.base_sequence = body.i32();
  int32_t count = body.i32();
  (void)last_offset_delta;
  if (b.compression() != 0) return BatchError::kCompressed;
  if (count < 0 || static_cast<size_t>(count) > body.remaining()) return BatchError::kCorrupt;
  b.records.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    int32_t rlen = body.varint();
    if (rlen < 0) return BatchError::kCorrupt;
    Reader rr(body.raw(static_cast<size_t>(rlen)));
    Record rec;
    (void)rr.i8();  // attributes (unused)
    int64_t ts_delta = rr.varlong();
    int32_t off_delta = rr.varint();
    rec.offset = b.base_offset + off_delta;
    rec.timestamp_ms = b.log_append_time() ? max_ts : base_ts + ts_delta;
    rec.key = varbytes(rr);
    rec.value = varbytes(rr);
    int32_t nh = rr.varint();
    if (nh < 0 || static_cast<size_t>(nh) > rr.remaining()) return BatchError::kCorrupt;
    for (int32_t h = 0; h < nh; ++h) {
      auto hk = varbytes(rr);
      if (!hk) return BatchError::kCorrupt;
      auto hv = varbytes(rr);
      rec.headers.emplace_back(std::move(*hk), std::move(hv));
    }
    if (!rr.done()) return BatchError::kCorrupt;
    b.records.push_back(std::move(rec));
  }
  if (!body.done()) return BatchError::kCorrupt;
  return BatchError::kNone;
}

}  // namespace

BatchError decode_record_batches(std::string_view data, std::vector<RecordBatch>& out) {
  try {
    Reader r(data);
    while (!r.done()) {
      RecordBatch b;
      BatchError e = decode_one(r, b);
      if (e != BatchError::kNone) return e;
      out.push_back(std::move(b));
    }
    return BatchError::kNone;
  } catch (const DecodeError&) {
    return BatchError::kCorrupt;
  }
}

}  // namespace freshet::kafka
