#pragma once
// Encoding and decoding of the on-disk structures of a collection: the segment header, the
// frames of a segment (batch and tick), and the manifest. The byte layout is specified in
// src/storage/README.md ("On-disk format"); keep the two in step. All integers little-endian.
// Decoders treat their input as untrusted (it comes back from disk): every length is checked
// and a malformed input is an error Status, never an assertion.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "storage/record.hpp"

namespace freshet::storage::format {

// ---- segment header --------------------------------------------------------------------------
inline constexpr char kSegmentMagic[8] = {'F', 'R', 'S', 'H', 'S', 'E', 'G', '1'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 48;

enum class SegmentKind : uint16_t {
  kLog = 1,        // written by appends; the tail of the log
  kCompacted = 2,  // written by compaction; valid only once a manifest lists it
};

struct SegmentHeader {
  SegmentKind kind = SegmentKind::kLog;
  uint64_t collection_id = 0;
  uint64_t seq = 0;          // the file's number (seg-<seq>.log), unique in the collection
  uint64_t base_offset = 0;  // the first offset the segment may hold
};
std::string encode_segment_header(const SegmentHeader& h);
Result<SegmentHeader> decode_segment_header(std::string_view bytes);
std::string segment_file_name(uint64_t seq);
// The seq of "seg-<20 digits>.log", or nullopt for any other name.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

// ---- frames ----------------------------------------------------------------------------------
// A frame: u32 body_len, u32 crc32c(body_len bytes ++ body), body.
inline constexpr size_t kFrameHeaderBytes = 8;
// A frame body never exceeds this (a full batch plus per-record overhead); a length above it
// is corruption.
inline constexpr size_t kMaxFrameBodyBytes = kMaxBatchBytes + kMaxBatchRecords * 16 + kMaxCheckpointBytes + 64;

enum class FrameType : uint8_t { kBatch = 1, kTick = 2 };

// A decoded frame body. For a batch, records borrow the body's bytes.
struct FrameView {
  FrameType type = FrameType::kBatch;
  uint64_t base_offset = 0;   // batch: offset of its first record (records carry deltas)
  uint64_t timestamp_ms = 0;  // batch
  uint64_t upper_ms = 0;      // batch: the upper after it; tick: the new upper
  uint32_t record_count = 0;  // batch
  std::optional<std::string_view> checkpoint;  // batch
  std::string_view records;   // batch: the encoded records, decode with RecordIterator
};

// Appends one batch frame. `offsets` are the records' offsets (dense on append, with gaps after
// compaction), ascending, >= base_offset and < base_offset + 2^32; `changes` their contents.
// Returns the frame's size.
size_t append_batch_frame(std::string& out, uint64_t base_offset, uint64_t timestamp_ms, uint64_t upper_ms,
                          const std::optional<std::string>& checkpoint, std::span<const RecordView> records);
size_t append_tick_frame(std::string& out, uint64_t upper_ms);
// The encoded size of a record inside a batch frame.
size_t record_encoded_bytes(size_t key_bytes, std::optional<size_t> value_bytes);

// Decodes a frame body (after its CRC was checked).
Result<FrameView> decode_frame_body(std::string_view body);

// Iterates the records of a batch frame.
class RecordIterator {
 public:
  explicit RecordIterator(const FrameView& f) : rest_(f.records), base_(f.base_offset), ts_(f.timestamp_ms), left_(f.record_count) {}
  // Fills r and returns true, or returns false at the end; an error on malformed bytes.
  Result<bool> next(RecordView& r);

 private:
  std::string_view rest_;
  uint64_t base_;
  uint64_t ts_;
  uint32_t left_;
};

// ---- manifest --------------------------------------------------------------------------------
inline constexpr char kManifestMagic[8] = {'F', 'R', 'S', 'H', 'M', 'A', 'N', '1'};
inline constexpr const char* kManifestName = "MANIFEST";

struct SegmentMeta {
  uint64_t seq = 0;
  SegmentKind kind = SegmentKind::kLog;
  uint64_t base_offset = 0;   // offsets in [base_offset, next_offset) belong to this segment
  uint64_t next_offset = 0;
  uint64_t size_bytes = 0;    // the file's exact size (sealed segments never change)
  uint64_t max_timestamp_ms = 0;
};

struct Manifest {
  uint64_t collection_id = 0;
  std::string name;
  uint64_t next_seq = 1;     // the next unused segment seq
  uint64_t active_seq = 0;   // the segment appends go to; it and newer kLog files are the tail
  // State at the end of the sealed segments (the tail scan continues from here).
  uint64_t sealed_next_offset = 0;
  uint64_t sealed_upper_ms = 0;
  std::optional<std::string> sealed_checkpoint;
  std::vector<SegmentMeta> sealed;  // in log order
};
std::string encode_manifest(const Manifest& m);

// ---- acknowledged end (ACKED) ----------------------------------------------------------------
// An optional file beside the manifest: "FRSHACK1" | u64 next_offset | u32 crc32c(bytes 0..15).
// When present, every offset below next_offset was acknowledged to a writer, so a log tail that
// ends before it lost acknowledged data (damage, not a torn write). See README, "Media damage".
inline constexpr const char* kAckedName = "ACKED";
std::string encode_acked(uint64_t next_offset);
Result<uint64_t> decode_acked(std::string_view bytes);
Result<Manifest> decode_manifest(std::string_view bytes);

}  // namespace freshet::storage::format
