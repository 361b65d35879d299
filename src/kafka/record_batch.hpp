#pragma once
// Record batches, magic v2 (https://kafka.apache.org/documentation/#recordbatch): the unit of
// Fetch responses and Produce requests. A batch:
//   baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8 (= 2),
//   crc uint32 (CRC-32C of everything after it), attributes int16, lastOffsetDelta int32,
//   baseTimestamp int64, maxTimestamp int64, producerId int64, producerEpoch int16,
//   baseSequence int32, records [count int32, then each record varint-length-prefixed:
//   attributes int8, timestampDelta varlong, offsetDelta varint, key, value (varint length,
//   -1 = null), headers].
// Compression (attributes bits 0-2) is not supported: decoding a compressed batch reports it
// so Produce can answer UNSUPPORTED_COMPRESSION_TYPE; we never compress.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet::kafka {

struct Record {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = tombstone
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

struct RecordBatch {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = 0;
  int16_t attributes = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  std::vector<Record> records;  // absolute offsets and timestamps

  int compression() const { return attributes & 0x7; }
  bool log_append_time() const { return (attributes & 0x8) != 0; }
  bool transactional() const { return (attributes & 0x10) != 0; }
  bool control() const { return (attributes & 0x20) != 0; }
};

// Appends one uncompressed v2 batch holding records (non-empty, offsets ascending) to out.
// Offsets need not be contiguous (compacted logs); baseTimestamp is the smallest timestamp.
void encode_record_batch(const std::vector<Record>& records, std::string& out,
                         int32_t partition_leader_epoch = 0);
// A batch that also covers the offsets up to last_offset (inclusive) with no records there: its
// lastOffsetDelta reaches last_offset, so a consumer continues after it. records may be empty
// (then base_offset starts the batch), as Kafka leaves batches emptied by compaction.
// REQUIRES: last_offset >= the last record's offset (and >= base_offset when empty).
void encode_record_batch_covering(const std::vector<Record>& records, int64_t base_offset, int64_t last_offset,
                                  std::string& out);

enum class BatchError { kNone, kCorrupt, kUnsupportedMagic, kCompressed };

// Decodes every batch of a record set (the concatenation in a Produce request). A trailing
// partial batch is an error (kCorrupt), as is a CRC mismatch. Throws nothing.
BatchError decode_record_batches(std::string_view data, std::vector<RecordBatch>& out);

}  // namespace freshet::kafka
