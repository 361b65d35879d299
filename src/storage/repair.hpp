#pragma once
// Media damage: finding the intact frames of a damaged segment, and `freshet repair`.
//
// A frame that fails its checks (length, CRC, structure) at the very end of a log tail is a
// torn write: it was never acknowledged, and recovery cuts it (collection.cpp). A bad frame
// that intact frames follow is not: those frames were written after it, so it was complete
// once, and everything after it may have been acknowledged. Recovery then refuses to open the
// collection and leaves the file as it is; `freshet repair` (repair_data_dir) salvages it
// offline. See src/storage/README.md, "Media damage and repair".
//
// Thread-safety: plain functions; repair_data_dir takes the data directory's LOCK, so it
// never runs beside a server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "storage/format.hpp"

namespace freshet::storage {

// An intact frame found in a segment's bytes.
struct SalvagedFrame {
  uint64_t pos = 0;    // where the frame starts in the file
  uint64_t bytes = 0;  // header + body
  format::FrameType type = format::FrameType::kBatch;
  uint64_t base_offset = 0;  // batch: its first offset
  uint64_t next_offset = 0;  // batch: one past its last record's offset
  uint32_t records = 0;
  uint64_t timestamp_ms = 0;
  uint64_t upper_ms = 0;
  std::optional<std::string> checkpoint;
};

// A byte range of a segment that holds no intact frame.
struct DamagedRange {
  uint64_t begin = 0, end = 0;
  std::string why;  // what was wrong with the frame at begin
};

struct SegmentSalvage {
  std::vector<SalvagedFrame> frames;  // in file order
  std::vector<DamagedRange> damaged;  // in file order, between / after the frames
};

// Reads bytes[from, size) as frames. After a bad frame it looks for the next intact one at
// every later byte position (an intact frame: a plausible length, a matching CRC32C, a body that
// decodes, records that parse), so that everything intact is found. Cost: one pass, plus a CRC
// per candidate position inside damaged ranges (most candidates fail on the length).
SegmentSalvage salvage_frames(std::string_view bytes, uint64_t from);

// What `freshet repair` did.
struct RepairReport {
  std::vector<std::string> lines;  // one per finding, for the operator
  uint64_t collections = 0;        // collections checked
  uint64_t damaged_files = 0;      // segment files or manifests found damaged (and moved aside)
  uint64_t lost_bytes = 0;         // bytes of damaged ranges (nothing intact in them)
  uint64_t kept_frames = 0;        // intact frames kept in repaired files
};

// Checks every collection of a data directory frame by frame (every segment, sealed or not,
// and the manifest). A damaged segment is rewritten with every intact frame it holds (offsets
// unchanged: the lost records leave a gap, as compaction does); a damaged manifest is rebuilt
// from the segments. The damaged originals are moved to DATA_DIR/damaged/<collection>/, never
// deleted. Fails when the directory is in use (LOCK) or cannot be read.
Result<RepairReport> repair_data_dir(const std::string& data_dir);

}  // namespace freshet::storage
