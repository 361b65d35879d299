// Byte layout: src/storage/README.md ("On-disk format").
#include "storage/format.hpp"

#include <cstring>

#include "storage/crc32c.hpp"

namespace freshet::storage {

Status check_batch(const Batch& batch) {
  if (batch.changes.size() > kMaxBatchRecords)
    return Status::error("batch has " + std::to_string(batch.changes.size()) + " records, more than the limit of " +
                         std::to_string(kMaxBatchRecords));
  if (batch.upper_ms != 0 && batch.upper_ms < batch.timestamp_ms)
    return Status::error("batch upper " + std::to_string(batch.upper_ms) + " is below its timestamp " +
                         std::to_string(batch.timestamp_ms));
  if (batch.checkpoint && batch.checkpoint->size() > kMaxCheckpointBytes)
    return Status::error("checkpoint of " + std::to_string(batch.checkpoint->size()) + " bytes exceeds the limit of " +
                         std::to_string(kMaxCheckpointBytes));
  size_t total = 0;
  for (const auto& c : batch.changes) {
    if (c.op != Op::kUpsert && c.op != Op::kDelete) return Status::error("record with an unknown op");
    if ((c.op == Op::kUpsert) != c.value.has_value())
      return Status::error(c.op == Op::kUpsert ? "upsert without a value" : "delete with a value");
    size_t n = c.key.size_bytes() + (c.value ? c.value->size_bytes() : 0);
    if (n > kMaxRecordBytes)
      return Status::error("record of " + std::to_string(n) + " bytes exceeds the limit of " +
                           std::to_string(kMaxRecordBytes));
    total += n;
  }
  if (total > kMaxBatchBytes)
    return Status::error("batch of " + std::to_string(total) + " bytes exceeds the limit of " +
                         std::to_string(kMaxBatchBytes));
  return Status::ok();
}

namespace format {
namespace {

void put8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void put16(std::string& out, uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void put_bytes(std::string& out, std::string_view s) {
  put32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads little-endian integers from untrusted bytes.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool u8(uint8_t& v) { return raw(&v, 1); }
  bool u16(uint16_t& v) { return raw(&v, 2); }
  bool u32(uint32_t& v) { return raw(&v, 4); }
  bool u64(uint64_t& v) { return raw(&v, 8); }
  bool bytes(std::string_view& v) {
    uint32_t n;
    if (!u32(n) || n > s_.size()) return false;
    v = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return s_; }
  bool empty() const { return s_.empty(); }

 private:
  bool raw(void* p, size_t n) {
    if (s_.size() < n) return false;
    std::memcpy(p, s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  std::string_view s_;
};

// Patches the frame header (length, crc) of the frame starting at `start` in out.
void seal_frame(std::string& out, size_t start) {
  uint32_t len = static_cast<uint32_t>(out.size() - start - kFrameHeaderBytes);
  std::memcpy(out.data() + start, &len, 4);
  uint32_t crc = crc32c_extend(crc32c(&len, 4), out.data() + start + kFrameHeaderBytes, len);
  std::memcpy(out.data() + start + 4, &crc, 4);
}

constexpr uint8_t kFlagCheckpoint = 1;

}  // namespace

std::string encode_segment_header(const SegmentHeader& h) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  put16(out, kFormatVersion);
  put16(out, static_cast<uint16_t>(h.kind));
  put32(out, 0);
  put64(out, h.collection_id);
  put64(out, h.seq);
  put64(out, h.base_offset);
  put32(out, crc32c(out));
  put32(out, 0);
  FRESHET_ASSERT(out.size() == kSegmentHeaderBytes);
  return out;
}

Result<SegmentHeader> decode_segment_header(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) return Status::error("segment header truncated");
  if (std::memcmp(bytes.data(), kSegmentMagic, 8) != 0) return Status::error("not a segment file (bad magic)");
  Reader r(bytes.substr(8));
  uint16_t version, kind;
  uint32_t reserved, crc;
  SegmentHeader h;
  r.u16(version);
  r.u16(kind);
  r.u32(reserved);
  r.u64(h.collection_id);
  r.u64(h.seq);
  r.u64(h.base_offset);
  r.u32(crc);
  if (crc != crc32c(bytes.data(), 40)) return Status::error("segment header checksum mismatch");
  if (version != kFormatVersion) return Status::error("unsupported segment format version " + std::to_string(version));
  if (kind != 1 && kind != 2) return Status::error("unknown segment kind " + std::to_string(kind));
  h.kind = static_cast<SegmentKind>(kind);
  return h;
}

std::string segment_file_name(uint64_t seq) {
  std::string digits = std::to_string(seq);
  return "seg-" + std::string(20 - digits.size(), '0') + digits + ".log";
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 28 || name.substr(0, 4) != "seg-" || name.substr(24) != ".log") return std::nullopt;
  uint64_t v = 0;
  for (char c : name.substr(4, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

size_t record_encoded_bytes(size_t key_bytes, std::optional<size_t> value_bytes) {
  return 4 + 1 + 4 + key_bytes + (value_bytes ? 4 + *value_bytes : 0);
}

size_t append_batch_frame(std::string& out, uint64_t base_offset, uint64_t timestamp_ms, uint64_t upper_ms,
                          const std::optional<std::string>& checkpoint, std::span<const RecordView> records) {
  size_t start = out.size();
  put32(out, 0);
  put32(out, 0);
  put8(out, static_cast<uint8_t>(FrameType::kBatch));
  put8(out, checkpoint ? kFlagCheckpoint : 0);
  put16(out, 0);
  put64(out, base_offset);
  put64(out, timestamp_ms);
  put64(out, upper_ms);
  put32(out, static_cast<uint32_t>(records.size()));
  if (checkpoint) put_bytes(out, *checkpoint);
  for (const auto& r : records) {
    FRESHET_ASSERT(r.offset >= base_offset && r.offset - base_offset <= UINT32_MAX);
    FRESHET_ASSERT(r.timestamp_ms == timestamp_ms);
    FRESHET_ASSERT((r.op == Op::kUpsert) == r.value.has_value());
    put32(out, static_cast<uint32_t>(r.offset - base_offset));
    put8(out, static_cast<uint8_t>(r.op));
    put_bytes(out, r.key);
    if (r.value) put_bytes(out, *r.value);
  }
  FRESHET_ASSERT(out.size() - start - kFrameHeaderBytes <= kMaxFrameBodyBytes);
  seal_frame(out, start);
  return out.size() - start;
}

size_t append_tick_frame(std::string& out, uint64_t upper_ms) {
  size_t start = out.size();
  put32(out, 0);
  put32(out, 0);
  put8(out, static_cast<uint8_t>(FrameType::kTick));
  put8(out, 0);
  put16(out, 0);
  put64(out, upper_ms);
  seal_frame(out, start);
  return out.size() - start;
}

Result<FrameView> decode_frame_body(std::string_view body) {
  Reader r(body);
  uint8_t type, flags;
  uint16_t reserved;
  if (!r.u8(type) || !r.u8(flags) || !r.u16(reserved)) return Status::error("frame body truncated");
  FrameView f;
  if (type == static_cast<uint8_t>(FrameType::kTick)) {
    f.type = FrameType::kTick;
    if (!r.u64(f.upper_ms) || !r.empty()) return Status::error("malformed tick frame");
    return f;
  }
  if (type != static_cast<uint8_t>(FrameType::kBatch)) return Status::error("unknown frame type " + std::to_string(type));
  f.type = FrameType::kBatch;
  if (!r.u64(f.base_offset) || !r.u64(f.timestamp_ms) || !r.u64(f.upper_ms) || !r.u32(f.record_count))
    return Status::error("batch frame header truncated");
  if (flags & kFlagCheckpoint) {
    std::string_view cp;
    if (!r.bytes(cp)) return Status::error("batch frame checkpoint truncated");
    f.checkpoint = cp;
  }
  f.records = r.rest();
  return f;
}

Result<bool> RecordIterator::next(RecordView& out) {
  if (left_ == 0) {
    if (!rest_.empty()) return Status::error("trailing bytes after the records of a batch frame");
    return false;
  }
  Reader r(rest_);
  uint32_t delta;
  uint8_t op;
  std::string_view key, value;
  if (!r.u32(delta) || !r.u8(op) || !r.bytes(key)) return Status::error("record truncated");
  if (op == static_cast<uint8_t>(Op::kUpsert)) {
    if (!r.bytes(value)) return Status::error("record value truncated");
    out.value = value;
  } else if (op == static_cast<uint8_t>(Op::kDelete)) {
    out.value.reset();
  } else {
    return Status::error("record with unknown op " + std::to_string(op));
  }
  out.offset = base_ + delta;
  out.timestamp_ms = ts_;
  out.op = static_cast<Op>(op);
  out.key = key;
  rest_ = r.rest();
  --left_;
  return true;
}

std::string encode_manifest(const Manifest& m) {
  std::string body;
  put16(body, kFormatVersion);
  put64(body, m.collection_id);
  put_bytes(body, m.name);
  put64(body, m.next_seq);
  put64(body, m.active_seq);
  put64(body, m.sealed_next_offset);
  put64(body, m.sealed_upper_ms);
  put8(body, m.sealed_checkpoint ? 1 : 0);
  if (m.sealed_checkpoint) put_bytes(body, *m.sealed_checkpoint);
  put32(body, static_cast<uint32_t>(m.sealed.size()));
  for (const auto& s : m.sealed) {
    put64(body, s.seq);
    put16(body, static_cast<uint16_t>(s.kind));
    put64(body, s.base_offset);
    put64(body, s.next_offset);
    put64(body, s.size_bytes);
    put64(body, s.max_timestamp_ms);
  }
  std::string out(kManifestMagic, sizeof(kManifestMagic));
  put32(out, static_cast<uint32_t>(body.size()));
  put32(out, crc32c(body));
  out += body;
  return out;
}

Result<Manifest> decode_manifest(std::string_view bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kManifestMagic, 8) != 0) return Status::error("not a manifest (bad magic)");
  uint32_t len, crc;
  std::memcpy(&len, bytes.data() + 8, 4);
  std::memcpy(&crc, bytes.data() + 12, 4);
  std::string_view body = bytes.substr(16);
  if (body.size() != len) return Status::error("manifest length mismatch");
  if (crc32c(body) != crc) return Status::error("manifest checksum mismatch");
  Reader r(body);
  Manifest m;
  uint16_t version;
  uint8_t has_cp;
  std::string_view name;
  uint32_t n;
  if (!r.u16(version) || version != kFormatVersion) return Status::error("unsupported manifest version");
  if (!r.u64(m.collection_id) || !r.bytes(name) || !r.u64(m.next_seq) || !r.u64(m.active_seq) ||
      !r.u64(m.sealed_next_offset) || !r.u64(m.sealed_upper_ms) || !r.u8(has_cp))
    return Status::error("manifest truncated");
  m.name = std::string(name);
  if (has_cp) {
    std::string_view cp;
    if (!r.bytes(cp)) return Status::error("manifest truncated");
    m.sealed_checkpoint = std::string(cp);
  }
  if (!r.u32(n) || n > r.rest().size() / 42) return Status::error("manifest segment list malformed");
  for (uint32_t i = 0; i < n; ++i) {
    SegmentMeta s;
    uint16_t kind;
    if (!r.u64(s.seq) || !r.u16(kind) || !r.u64(s.base_offset) || !r.u64(s.next_offset) || !r.u64(s.size_bytes) ||
        !r.u64(s.max_timestamp_ms))
      return Status::error("manifest segment list truncated");
    if (kind != 1 && kind != 2) return Status::error("manifest: unknown segment kind");
    s.kind = static_cast<SegmentKind>(kind);
    m.sealed.push_back(s);
  }
  if (!r.empty()) return Status::error("manifest has trailing bytes");
  return m;
}

std::string encode_acked(uint64_t next_offset) {
  std::string out("FRSHACK1", 8);
  out.append(reinterpret_cast<const char*>(&next_offset), 8);
  uint32_t crc = crc32c(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}

Result<uint64_t> decode_acked(std::string_view bytes) {
  if (bytes.size() != 20 || bytes.substr(0, 8) != "FRSHACK1") return Status::error("not an ACKED file");
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + 16, 4);
  if (crc32c(bytes.data(), 16) != crc) return Status::error("ACKED checksum mismatch");
  uint64_t v;
  std::memcpy(&v, bytes.data() + 8, 8);
  return v;
}

}  // namespace format
}  // namespace freshet::storage
