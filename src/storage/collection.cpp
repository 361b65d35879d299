// Format and durability argument: src/storage/README.md.
#include "storage/collection.hpp"

#include <absl/container/flat_hash_map.h>
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "common/futex.hpp"
#include "storage/crc32c.hpp"
#include "storage/io.hpp"
#include "storage/repair.hpp"

namespace freshet::storage {

using format::FrameType;
using format::FrameView;
using format::SegmentKind;
using format::SegmentMeta;

namespace {
// One sparse index entry per this many segment bytes: a read seeks to the entry and scans forward.
constexpr uint64_t kIndexIntervalBytes = 16 << 10;
constexpr size_t kReadChunkBytes = 64 << 10;
constexpr size_t kGroupMaxWriters = 4096;
}  // namespace

std::string RecoveryReport::to_string() const {
  std::string s = "replayed " + std::to_string(tail_frames) + " tail frames";
  if (truncated_bytes > 0)
    s += ", truncated " + std::to_string(truncated_bytes) + " bytes of " + truncated_segment + " (" + truncation_reason + ")";
  if (removed_files > 0) s += ", removed " + std::to_string(removed_files) + " unfinished files";
  return s;
}

// A segment file and what is known about it.
struct Collection::Segment {
  SegmentMeta meta;  // sealed: constant. active: next_offset/size_bytes/max_timestamp_ms under mu_
  std::string path;
  io::File file;

  struct IndexEntry {
    uint64_t offset;  // base offset of the batch frame at pos
    uint64_t pos;
  };
  std::mutex index_mu;
  bool index_complete = false;            // guarded by index_mu; false: build_index() first
  std::vector<IndexEntry> index;          // guarded by index_mu
  uint64_t last_indexed_pos = 0;          // guarded by index_mu

  void add_index(uint64_t offset, uint64_t pos) {  // REQUIRES: index_mu held
    if (index.empty() || pos - last_indexed_pos >= kIndexIntervalBytes) {
      index.push_back({offset, pos});
      last_indexed_pos = pos;
    }
  }
  // Where to start scanning for offset. REQUIRES: index complete, index_mu held.
  uint64_t seek(uint64_t offset) const {
    auto it = std::upper_bound(index.begin(), index.end(), offset,
                               [](uint64_t o, const IndexEntry& e) { return o < e.offset; });
    if (it == index.begin()) return format::kSegmentHeaderBytes;
    return std::prev(it)->pos;
  }
};

// A queued append or tick.
struct Collection::Writer {
  const Batch* batch = nullptr;  // null: a tick (or a roll)
  bool roll = false;             // roll(): never part of another leader's group
  uint64_t tick_upper_ms = 0;
  uint64_t first_offset = 0;
  uint64_t upper_after_ms = 0;
  size_t encoded_bytes = 0;  // estimate for group sizing
  bool done = false;
  // Set (before the writer is woken) once its group's fdatasync succeeded: read without mu_ by
  // Collection::durable() (the server's publisher, for the writers of a group it did not lead).
  std::atomic<bool> durable{false};
  Status status;
  // A writer on its owner's stack (append(), ticks, roll()) waits on cv under mu_. A ticket's
  // writer (enqueue()) waits on `turn` without mu_ (common/futex.hpp, a futex on its own
  // word): kFront once it is at the queue's front (it leads the next group), kDone once its
  // group is written (status set before, release). So the members of a group are woken
  // without each taking mu_ again in turn.
  Ticket* ticket = nullptr;
  std::atomic<uint32_t> turn{0};
  std::condition_variable cv;
};

namespace {
constexpr uint32_t kTurnQueued = 0, kTurnFront = 1, kTurnDone = 2;
}  // namespace

// What a reader sees: the segments and the durable end, captured together under mu_.
struct Collection::View {
  struct Seg {
    std::shared_ptr<Segment> seg;
    uint64_t base_offset, next_offset, size_bytes, max_timestamp_ms;
  };
  std::vector<Seg> segs;
  Bounds bounds;
  std::optional<std::string> checkpoint;
};

namespace {

// Reads the frames of a segment sequentially from pos to end, through a buffer, checking each
// frame's length and CRC. Not thread-safe; one per scan.
class FrameReader {
 public:
  FrameReader(const io::File& f, uint64_t pos, uint64_t end) : file_(f), pos_(pos), end_(end) {}
  enum class Outcome { kFrame, kEnd, kBad };
  // On kFrame, body is valid until the next call and frame_pos is where the frame starts.
  // On kBad, why says what was wrong; pos() is where the bad frame starts.
  Result<Outcome> next(std::string_view& body, uint64_t& frame_pos, std::string& why) {
    if (pos_ == end_) return Outcome::kEnd;
    if (end_ - pos_ < format::kFrameHeaderBytes) {
      why = "truncated frame header";
      return Outcome::kBad;
    }
    if (auto s = ensure(format::kFrameHeaderBytes); !s) return s;
    uint32_t len, crc;
    std::memcpy(&len, at(), 4);
    std::memcpy(&crc, at() + 4, 4);
    if (len > format::kMaxFrameBodyBytes || len < 4) {
      why = "bad frame length " + std::to_string(len);
      return Outcome::kBad;
    }
    if (end_ - pos_ - format::kFrameHeaderBytes < len) {
      why = "truncated frame";
      return Outcome::kBad;
    }
    if (auto s = ensure(format::kFrameHeaderBytes + len); !s) return s;
    const char* b = at() + format::kFrameHeaderBytes;
    if (crc32c_extend(crc32c(&len, 4), b, len) != crc) {
      why = "frame checksum mismatch";
      return Outcome::kBad;
    }
    body = std::string_view(b, len);
    frame_pos = pos_;
    pos_ += format::kFrameHeaderBytes + len;
    return Outcome::kFrame;
  }
  uint64_t pos() const { return pos_; }

 private:
  const char* at() const { return buf_.data() + (pos_ - buf_pos_); }
  // Makes [pos_, pos_ + n) available in buf_.
  Status ensure(size_t n) {
    if (pos_ >= buf_pos_ && pos_ + n <= buf_pos_ + buf_len_) return Status::ok();
    size_t want = std::max(n, kReadChunkBytes);
    want = static_cast<size_t>(std::min<uint64_t>(want, end_ - pos_));
    if (buf_.size() < want) buf_.resize(want);
    auto got = file_.pread_some(buf_.data(), want, pos_);
    if (!got) return got.status();
    buf_pos_ = pos_;
    buf_len_ = *got;
    if (buf_len_ < n) return Status::error("read " + file_.path() + ": file shorter than expected");
    return Status::ok();
  }

  const io::File& file_;
  uint64_t pos_, end_;
  std::string buf_;
  uint64_t buf_pos_ = 0;
  size_t buf_len_ = 0;
};

constexpr const char* kRepairHint =
    " (media damage: the file is left as it is; stop the server and run `freshet repair --data-dir DIR`, which keeps every "
    "intact frame and moves the damaged file aside)";

Status corrupt(const std::string& path, uint64_t pos, const std::string& why) {
  return Status::error("corrupt segment " + path + " at byte " + std::to_string(pos) + ": " + why + kRepairHint);
}

// A bad frame at pos of a tail segment: ok when nothing intact follows it (a torn write), an
// error describing what would be lost otherwise.
Status check_not_media_damage(const std::string& path, uint64_t pos, const std::string& why) {
  auto bytes = io::read_file(path);
  if (!bytes) return bytes.status();
  SegmentSalvage sv = salvage_frames(*bytes, pos);
  uint64_t frames = 0, records = 0, first = UINT64_MAX, last = 0, intact_bytes = 0;
  for (const auto& f : sv.frames) {
    ++frames;
    intact_bytes += f.bytes;
    if (f.type != format::FrameType::kBatch || f.records == 0) continue;
    records += f.records;
    first = std::min(first, f.base_offset);
    last = std::max(last, f.next_offset);
  }
  if (frames == 0) return Status::ok();
  std::string what = std::to_string(frames) + " intact frames (" + std::to_string(intact_bytes) + " bytes";
  if (records > 0)
    what += ", " + std::to_string(records) + " records at offsets " + std::to_string(first) + ".." + std::to_string(last - 1);
  what += ")";
  return Status::error("segment " + path + " is damaged at byte " + std::to_string(pos) + " (" + why + ") and " + what +
                       " follow the damage: this is not a torn write, and cutting the log there would lose them and " +
                       std::to_string(bytes->size() - pos) +
                       " bytes in all" + kRepairHint);
}

std::vector<std::pair<uint64_t, std::string>> list_segment_files(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (auto seq = format::parse_segment_file_name(e->d_name)) out.emplace_back(*seq, e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ---- creation and recovery ---------------------------------------------------------------------

Status Collection::initialize(const std::string& dir, uint64_t id, std::string_view name) {
  format::SegmentHeader h{SegmentKind::kLog, id, 1, 0};
  std::string header = format::encode_segment_header(h);
  auto f = io::File::open(dir + "/" + format::segment_file_name(1), true);
  if (!f) return f.status();
  if (auto s = f->pwrite_all(header.data(), header.size(), 0); !s) return s;
  if (auto s = f->sync(); !s) return s;
  format::Manifest m;
  m.collection_id = id;
  m.name = std::string(name);
  m.next_seq = 2;
  m.active_seq = 1;
  return io::write_file_atomic(dir, format::kManifestName, format::encode_manifest(m));
}

Collection::Collection(std::string dir, const format::Manifest& m, const CollectionOptions& options)
    : dir_(std::move(dir)), id_(m.collection_id), name_(m.name), options_(options) {}

Result<std::shared_ptr<Collection>> Collection::open(const std::string& dir, const CollectionOptions& options) {
  auto bytes = io::read_file(dir + "/" + format::kManifestName);
  if (!bytes) return bytes.status();
  auto m = format::decode_manifest(*bytes);
  if (!m) return Status::error(dir + "/" + format::kManifestName + ": " + m.status().message() + kRepairHint);
  std::shared_ptr<Collection> c(new Collection(dir, *m, options));
  if (auto s = c->recover(*m); !s) return Status::error("\"" + m->name + "\": " + s.message());
  return c;
}

Status Collection::recover(const format::Manifest& m) {
  // Everything here runs before the object is shared; mu_ is taken only to satisfy the
  // "guarded by" contract.
  std::lock_guard lk(mu_);
  auto files = list_segment_files(dir_);
  std::set<uint64_t> listed;
  for (const auto& meta : m.sealed) listed.insert(meta.seq);

  // Sealed segments: complete and fsynced before the manifest that lists them; check sizes only.
  for (const auto& meta : m.sealed) {
    auto seg = std::make_shared<Segment>();
    seg->meta = meta;
    seg->path = dir_ + "/" + format::segment_file_name(meta.seq);
    auto f = io::File::open_read(seg->path);
    if (!f) return f.status();
    auto size = f->size();
    if (!size) return size.status();
    if (*size != meta.size_bytes)
      return Status::error("segment " + seg->path + " has " + std::to_string(*size) + " bytes, the manifest says " +
                           std::to_string(meta.size_bytes) + kRepairHint);
    seg->file = std::move(*f);
    segments_.push_back(std::move(seg));
  }
  sealed_ = DurableState{m.sealed_next_offset, m.sealed_upper_ms, m.sealed_checkpoint};
  DurableState state = sealed_;
  next_seq_ = m.next_seq;

  // Tail: the active segment and any newer kLog segment (a roll whose manifest was not written).
  // Everything else not listed is an unfinished compaction output or a torn roll: removed.
  std::vector<std::pair<uint64_t, std::string>> tail;
  for (const auto& [seq, fname] : files) {
    next_seq_ = std::max(next_seq_, seq + 1);
    if (listed.count(seq)) continue;
    std::string path = dir_ + "/" + fname;
    bool keep = false;
    if (seq >= m.active_seq) {
      auto f = io::File::open_read(path);
      if (!f) return f.status();
      std::string hdr(format::kSegmentHeaderBytes, '\0');
      auto got = f->pread_some(hdr.data(), hdr.size(), 0);
      if (!got) return got.status();
      hdr.resize(*got);
      auto h = format::decode_segment_header(hdr);
      if (h && h->kind == SegmentKind::kLog && h->seq == seq) {
        keep = true;
      } else if (seq == m.active_seq) {
        return Status::error("active segment " + path + ": " + (h ? "wrong kind or seq" : h.status().message()));
      }
    }
    if (keep) {
      tail.emplace_back(seq, path);
    } else {
      if (auto s = io::remove_file(path); !s) return s;
      ++recovery_.removed_files;
    }
  }
  if (tail.empty() || tail.front().first != m.active_seq)
    return Status::error("active segment " + format::segment_file_name(m.active_seq) + " missing in " + dir_);

  // Everything below `acked` was acknowledged (ACKED, when the collection keeps it).
  std::optional<uint64_t> acked;
  if (auto ab = io::read_file(dir_ + "/" + format::kAckedName); ab) {
    auto v = format::decode_acked(*ab);
    if (!v) return Status::error(dir_ + "/" + format::kAckedName + ": " + v.status().message() + kRepairHint);
    acked = *v;
    acked_marker_ = true;
  }
  auto acked_lost = [&](uint64_t end, const std::string& where) -> Status {
    return Status::error("the log ends at offset " + std::to_string(end) + " (" + where + ") but offsets up to " +
                         std::to_string(*acked - 1) + " were acknowledged (ACKED): " + std::to_string(*acked - end) +
                         " acknowledged records are damaged, not a torn write" + kRepairHint);
  };

  bool cut = false;  // a tail segment was truncated: later ones are not trusted
  for (size_t i = 0; i < tail.size(); ++i) {
    const std::string& path = tail[i].second;
    if (cut) {
      if (auto s = io::remove_file(path); !s) return s;
      ++recovery_.removed_files;
      continue;
    }
    auto f = io::File::open(path, false);
    if (!f) return f.status();
    auto size = f->size();
    if (!size) return size.status();
    std::string hdr(format::kSegmentHeaderBytes, '\0');
    if (auto s = f->pread_all(hdr.data(), hdr.size(), 0); !s) return s;
    auto h = format::decode_segment_header(hdr);
    FRESHET_ASSERT(h.is_ok());  // checked above
    auto seg = std::make_shared<Segment>();
    seg->path = path;
    seg->meta.seq = tail[i].first;
    seg->meta.kind = SegmentKind::kLog;
    seg->meta.base_offset = std::max(h->base_offset, state.next_offset);
    seg->meta.max_timestamp_ms = 0;
    seg->index_complete = true;

    FrameReader rd(*f, format::kSegmentHeaderBytes, *size);
    std::string_view body;
    uint64_t frame_pos = 0;
    std::string why;
    while (true) {
      auto out = rd.next(body, frame_pos, why);
      if (!out) return out.status();
      if (*out == FrameReader::Outcome::kEnd) break;
      if (*out == FrameReader::Outcome::kBad) {
        // Intact frames after the bad one: it is not a torn write (those frames were written
        // after it, so it was complete once, and they may have been acknowledged) but media
        // damage. Cutting would lose acknowledged data: refuse, and leave the file as it is.
        if (Status damage = check_not_media_damage(path, rd.pos(), why); !damage) return damage;
        if (acked && state.next_offset < *acked)
          return acked_lost(state.next_offset, why + " at byte " + std::to_string(rd.pos()) + " of " + path);
        // A torn write (never acknowledged: acknowledged frames were fdatasynced before anything
        // after them was written). Cut here; never surface anything past it.
        recovery_.truncated_bytes = *size - rd.pos();
        recovery_.truncated_segment = path;
        recovery_.truncation_reason = why + " at byte " + std::to_string(rd.pos());
        if (auto s = f->truncate(rd.pos()); !s) return s;
        if (auto s = f->sync(); !s) return s;
        *size = rd.pos();
        cut = true;
        break;
      }
      auto fv = format::decode_frame_body(body);
      if (!fv) return corrupt(path, frame_pos, fv.status().message());
      ++recovery_.tail_frames;
      if (fv->type == FrameType::kTick) {
        state.upper_ms = std::max(state.upper_ms, fv->upper_ms);
        continue;
      }
      // Dense on append; `freshet repair` may leave a gap where it lost a damaged batch.
      if (fv->base_offset < state.next_offset)
        return corrupt(path, frame_pos, "batch at offset " + std::to_string(fv->base_offset) + ", expected " +
                                            std::to_string(state.next_offset) + " or more");
      format::RecordIterator it(*fv);
      RecordView rv;
      uint64_t expect = fv->base_offset;
      while (true) {
        auto more = it.next(rv);
        if (!more) return corrupt(path, frame_pos, more.status().message());
        if (!*more) break;
        if (rv.offset != expect) return corrupt(path, frame_pos, "offsets not dense in the log tail");
        ++expect;
      }
      seg->add_index(fv->base_offset, frame_pos);
      state.next_offset = expect;
      state.upper_ms = std::max(state.upper_ms, fv->upper_ms);
      if (fv->checkpoint) state.checkpoint = std::string(*fv->checkpoint);
      seg->meta.max_timestamp_ms = std::max(seg->meta.max_timestamp_ms, fv->timestamp_ms);
    }
    seg->meta.next_offset = state.next_offset;
    seg->meta.size_bytes = *size;
    seg->file = std::move(*f);
    bool last = cut || i + 1 == tail.size();
    if (!last) {
      // A rolled segment whose manifest was never written: sealed now.
      sealed_ = state;
    }
    segments_.push_back(seg);
    if (last) active_ = seg;
  }
  FRESHET_ASSERT(active_ != nullptr);
  if (acked && state.next_offset < *acked) return acked_lost(state.next_offset, "the end of " + active_->path);
  durable_ = state;
  pending_next_offset_ = state.next_offset;
  pending_upper_ = state.upper_ms;
  for (const auto& s : segments_) {
    if (s == active_) continue;
    if (s->meta.kind == SegmentKind::kLog) stats_.sealed_log_bytes += s->meta.size_bytes;
    else stats_.sealed_compacted_bytes += s->meta.size_bytes;
  }
  // A fresh manifest: seals a rolled tail, forgets removed files, records the new next_seq.
  format::Manifest nm = manifest_locked();
  return io::write_file_atomic(dir_, format::kManifestName, format::encode_manifest(nm));
}

Collection::~Collection() { close(); }

void Collection::close() {
  std::lock_guard clk(compaction_mu_);
  std::unique_lock lk(mu_);
  closed_ = true;
  data_cv_.notify_all();
  data_cv_.wait(lk, [&] { return queue_.empty(); });
}

format::Manifest Collection::manifest_locked() const {
  format::Manifest m;
  m.collection_id = id_;
  m.name = name_;
  m.next_seq = next_seq_;
  m.active_seq = active_->meta.seq;
  m.sealed_next_offset = sealed_.next_offset;
  m.sealed_upper_ms = sealed_.upper_ms;
  m.sealed_checkpoint = sealed_.checkpoint;
  for (const auto& s : segments_) {
    if (s == active_) break;
    m.sealed.push_back(s->meta);
  }
  return m;
}

Status Collection::write_manifest() {
  std::lock_guard mlk(manifest_mu_);
  std::string bytes;
  {
    std::lock_guard lk(mu_);
    bytes = format::encode_manifest(manifest_locked());
  }
  return io::write_file_atomic(dir_, format::kManifestName, bytes);
}

Status Collection::create_segment(uint64_t seq, SegmentKind kind, uint64_t base_offset, std::shared_ptr<Segment>& out) {
  auto seg = std::make_shared<Segment>();
  seg->path = dir_ + "/" + format::segment_file_name(seq);
  seg->meta.seq = seq;
  seg->meta.kind = kind;
  seg->meta.base_offset = base_offset;
  seg->meta.next_offset = base_offset;
  seg->meta.size_bytes = format::kSegmentHeaderBytes;
  seg->index_complete = true;
  auto f = io::File::open(seg->path, true);
  if (!f) return f.status();
  std::string header = format::encode_segment_header({kind, id_, seq, base_offset});
  if (auto s = f->pwrite_all(header.data(), header.size(), 0); !s) return s;
  seg->file = std::move(*f);
  out = std::move(seg);
  return Status::ok();
}

// ---- writes ------------------------------------------------------------------------------------

Result<AppendResult> Collection::append(Batch batch) {
  if (auto s = check_batch(batch); !s) return s;
  Writer w;
  w.batch = &batch;
  size_t bytes = 64 + (batch.checkpoint ? batch.checkpoint->size() : 0);
  for (const auto& c : batch.changes)
    bytes += format::record_encoded_bytes(c.key.size_bytes(), c.value ? std::optional(c.value->size_bytes()) : std::nullopt);
  w.encoded_bytes = bytes;
  if (auto s = submit(w); !s) return s;
  return AppendResult{w.first_offset, w.first_offset + batch.changes.size()};
}

Status Collection::advance_upper(uint64_t upper_ms) {
  {
    std::lock_guard lk(mu_);
    if (upper_ms <= durable_.upper_ms) return Status::ok();
  }
  Writer w;
  w.tick_upper_ms = upper_ms;
  w.encoded_bytes = 32;
  return submit(w);
}

struct Collection::Ticket : std::enable_shared_from_this<Collection::Ticket> {
  Batch batch;
  Writer w;
  bool enqueued = false;
  bool waited = false;
};

Result<std::shared_ptr<Collection::Ticket>> Collection::enqueue(Batch batch) {
  if (auto s = check_batch(batch); !s) return s;
  auto t = std::make_shared<Ticket>();
  t->batch = std::move(batch);
  t->w.batch = &t->batch;
  t->w.ticket = t.get();
  size_t bytes = 64 + (t->batch.checkpoint ? t->batch.checkpoint->size() : 0);
  for (const auto& c : t->batch.changes)
    bytes += format::record_encoded_bytes(c.key.size_bytes(), c.value ? std::optional(c.value->size_bytes()) : std::nullopt);
  t->w.encoded_bytes = bytes;
  if (auto s = heal(); !s) return s;
  std::unique_lock lk(mu_);
  if (auto s = submit_enqueue_locked(t->w); !s) return s;
  t->enqueued = true;
  return t;
}

Result<AppendResult> Collection::wait(Ticket& t, const std::function<void()>& after_durable) {
  FRESHET_ASSERT(t.enqueued && !t.waited);
  t.waited = true;
  for (;;) {
    const uint32_t turn = t.w.turn.load(std::memory_order_acquire);
    if (turn == kTurnFront) break;
    if (turn == kTurnDone) {
      // A failure is told under mu_ to every queued writer, with mu_ held throughout: taking
      // it once here means the failing leader is done with this ticket before its owner may
      // free it. Success needs no lock: the leader touches a member's ticket only through the
      // reference it holds while waking it.
      if (!t.w.status.is_ok()) {
        std::lock_guard lk(mu_);
        return t.w.status;
      }
      return AppendResult{t.w.first_offset, t.w.first_offset + t.batch.changes.size()};
    }
    wait_word_change(t.w.turn, turn);
  }
  std::unique_lock lk(mu_);
  if (auto s = submit_wait_locked(t.w, lk, &after_durable); !s) return s;
  return AppendResult{t.w.first_offset, t.w.first_offset + t.batch.changes.size()};
}

void Collection::wake_front_locked() {
  if (queue_.empty()) return;
  Writer* f = queue_.front();
  if (f->ticket == nullptr) {
    f->cv.notify_one();
    return;
  }
  // Under mu_: the ticket stays alive (its owner leads only after taking mu_).
  set_word(f->turn, kTurnFront);
}

bool Collection::durable(const Ticket& t) const { return t.w.durable.load(std::memory_order_acquire); }

Status Collection::submit(Writer& w) {
  if (auto s = heal(); !s) return s;
  std::unique_lock lk(mu_);
  if (auto s = submit_enqueue_locked(w); !s) return s;
  return submit_wait_locked(w, lk, nullptr);
}

Status Collection::submit_enqueue_locked(Writer& w) {
  if (!failed_.is_ok()) return failed_;
  if (closed_) return Status::error("collection " + name_ + " is closed");
  if (w.batch != nullptr) {
    if (w.batch->timestamp_ms < pending_upper_)
      return Status::error("append to " + name_ + " at timestamp " + std::to_string(w.batch->timestamp_ms) +
                           " below its upper " + std::to_string(pending_upper_));
    w.first_offset = pending_next_offset_;
    pending_next_offset_ += w.batch->changes.size();
    w.upper_after_ms = std::max({pending_upper_, w.batch->timestamp_ms, w.batch->upper_ms});
  } else {
    w.upper_after_ms = std::max(pending_upper_, w.tick_upper_ms);
  }
  pending_upper_ = w.upper_after_ms;
  queue_.push_back(&w);
  if (queue_.size() == 1 && w.ticket != nullptr) w.turn.store(kTurnFront, std::memory_order_release);
  return Status::ok();
}

Status Collection::submit_wait_locked(Writer& w, std::unique_lock<std::mutex>& lk, const std::function<void()>* after_durable) {
  // A writer enqueued by enqueue() may reach the front before its owner calls wait(): the
  // notification it got then is not lost, since the condition is checked before waiting.
  if (w.ticket != nullptr) FRESHET_ASSERT(w.done || queue_.front() == &w);  // wait() saw kTurnFront
  while (!w.done && queue_.front() != &w) w.cv.wait(lk);
  if (w.done) return w.status;

  // Leader: take a group from the front of the queue.
  std::vector<Writer*> group;
  uint64_t group_bytes = 0;
  for (Writer* q : queue_) {
    if (!group.empty() && q->roll) break;  // a roll() waits to be at the front itself
    if (!group.empty() && (group_bytes + q->encoded_bytes > options_.group_commit_max_bytes || group.size() >= kGroupMaxWriters))
      break;
    group.push_back(q);
    group_bytes += q->encoded_bytes;
  }
  lk.unlock();
  uint64_t bytes_written = 0;
  Status s = write_group(group, bytes_written);
  lk.lock();

  Bounds b;
  if (s.is_ok()) {
    for (Writer* q : group) {
      if (q->batch != nullptr) {
        durable_.next_offset = q->first_offset + q->batch->changes.size();
        if (q->batch->checkpoint) durable_.checkpoint = q->batch->checkpoint;
        active_->meta.max_timestamp_ms = std::max(active_->meta.max_timestamp_ms, q->batch->timestamp_ms);
        ++stats_.batches;
        stats_.records += q->batch->changes.size();
      } else {
        ++stats_.ticks;
      }
      durable_.upper_ms = std::max(durable_.upper_ms, q->upper_after_ms);
    }
    active_->meta.next_offset = durable_.next_offset;
    active_->meta.size_bytes += bytes_written;
    stats_.bytes_written += bytes_written;
    ++stats_.groups;
    ++stats_.fsyncs;
    b = Bounds{0, durable_.next_offset, durable_.upper_ms};
    if (acked_marker_) {
      // Before anyone of the group is told: whatever is acknowledged is below ACKED. Under mu_:
      // the next leader must not write an older value after a newer one (rare collections only).
      if (Status as = io::write_file_atomic(dir_, format::kAckedName, format::encode_acked(durable_.next_offset)); !as)
        std::fprintf(stderr, "freshet: collection %llu (%s): could not update %s: %s\n", static_cast<unsigned long long>(id_),
                     name_.c_str(), format::kAckedName, as.message().c_str());
    }
  } else {
    // Poisoned: fail the group and everyone queued behind it. The next append heals first.
    poison_locked(s);
    fail_queue_locked(&w, s);
    return s;
  }
  // The group's tickets (other than the leader's) are woken after after_durable, each through
  // its own word: a reference to each keeps it alive until its notify is done.
  std::vector<std::shared_ptr<Ticket>> members;
  for (Writer* q : group) {
    FRESHET_ASSERT(queue_.front() == q);
    queue_.pop_front();
    q->done = true;
    q->durable.store(true, std::memory_order_release);
    if (q == &w) continue;
    if (q->ticket != nullptr) members.push_back(q->ticket->shared_from_this());
    else q->cv.notify_one();
  }
  wake_front_locked();  // the next group is written while this one is told
  data_cv_.notify_all();
  lk.unlock();
  auto tell = [&] {
    for (const auto& t : members) set_word(t->w.turn, kTurnDone);
    notify_listeners(b);
  };
  try {
    if (after_durable != nullptr && *after_durable) (*after_durable)();
  } catch (...) {
    tell();  // the group is durable whatever the caller's callback did: its writers must go on
    throw;
  }
  tell();
  return Status::ok();
}

void Collection::fail_queue_locked(const Writer* leader, const Status& s) {
  for (Writer* q : queue_) {
    q->status = q == leader ? s : failed_;
    q->done = true;
    if (q->ticket != nullptr) {
      set_word(q->turn, kTurnDone);  // under mu_: its owner takes mu_ before returning a failure
    } else {
      q->cv.notify_one();
    }
  }
  queue_.clear();
  data_cv_.notify_all();
}

Status Collection::write_group(const std::vector<Writer*>& group, uint64_t& bytes_written) {
  std::string& buf = group_buf_;
  buf.clear();
  std::vector<RecordView> views;
  uint64_t group_upper = 0;
  uint64_t batches_upper = 0;
  struct Pending {
    uint64_t offset, pos;
  };
  std::vector<Pending> index_adds;
  for (Writer* w : group) {
    group_upper = std::max(group_upper, w->upper_after_ms);
    if (w->batch == nullptr) continue;
    const Batch& b = *w->batch;
    views.clear();
    views.reserve(b.changes.size());
    uint64_t off = w->first_offset;
    for (const auto& c : b.changes) {
      RecordView v{off++, b.timestamp_ms, c.op, c.key.bytes(), std::nullopt};
      if (c.value) v.value = c.value->bytes();
      views.push_back(v);
    }
    index_adds.push_back({w->first_offset, buf.size()});
    format::append_batch_frame(buf, w->first_offset, b.timestamp_ms, w->upper_after_ms, b.checkpoint, views);
    batches_upper = std::max(batches_upper, w->upper_after_ms);
  }
  if (group_upper > batches_upper) format::append_tick_frame(buf, group_upper);

  // Roll before a write that would take the active segment past segment_bytes. The active
  // segment is fully durable here (every earlier group was fdatasynced).
  if (active_->meta.size_bytes > format::kSegmentHeaderBytes &&
      active_->meta.size_bytes + buf.size() > options_.segment_bytes) {
    if (auto s = roll_locked_out(); !s) return s;
  }
  uint64_t pos = active_->meta.size_bytes;
  if (auto s = active_->file.pwrite_all(buf.data(), buf.size(), pos); !s) return s;
  if (auto s = active_->file.datasync(); !s) return s;
  {
    std::lock_guard ilk(active_->index_mu);
    for (const auto& p : index_adds) active_->add_index(p.offset, pos + p.pos);
  }
  bytes_written = buf.size();
  if (buf.capacity() > (64u << 20)) std::string().swap(buf);  // do not keep a huge buffer
  return Status::ok();
}

Status Collection::roll_locked_out() {
  uint64_t seq, base_offset;
  {
    std::lock_guard lk(mu_);
    seq = next_seq_++;
    base_offset = durable_.next_offset;
  }
  std::shared_ptr<Segment> seg;
  Status made = create_segment(seq, SegmentKind::kLog, base_offset, seg);
  if (made) made = seg->file.sync();
  if (made) made = io::fsync_dir(dir_);
  if (!made) {
    // Not part of the log: heal() removes it (recovery would too, or take it as an empty tail).
    std::lock_guard lk(mu_);
    failed_roll_path_ = dir_ + "/" + format::segment_file_name(seq);
    return made;
  }
  {
    std::lock_guard lk(mu_);
    stats_.sealed_log_bytes += active_->meta.size_bytes;
    stats_.fsyncs += 2;
    sealed_ = durable_;
    segments_.push_back(seg);
    active_ = seg;
  }
  return write_manifest();
}

Status Collection::roll() {
  {
    std::lock_guard lk(mu_);
    if (active_->meta.size_bytes == format::kSegmentHeaderBytes) return Status::ok();
  }
  if (auto s = heal(); !s) return s;
  // Go through the queue as an empty group so that no leader is writing meanwhile.
  Writer w;
  w.roll = true;
  std::unique_lock lk(mu_);
  if (!failed_.is_ok()) return failed_;
  if (closed_) return Status::error("collection " + name_ + " is closed");
  w.upper_after_ms = pending_upper_;
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.wait(lk);
  if (w.done) return w.status;  // poisoned meanwhile
  lk.unlock();
  Status s = Status::ok();
  if (active_->meta.size_bytes > format::kSegmentHeaderBytes) s = roll_locked_out();
  lk.lock();
  FRESHET_ASSERT(queue_.front() == &w);
  queue_.pop_front();
  if (!s.is_ok()) {
    poison_locked(s);
    fail_queue_locked(nullptr, s);
  } else {
    wake_front_locked();
  }
  data_cv_.notify_all();
  return s;
}

Status Collection::enable_acked_marker() {
  if (acked_marker_) return Status::ok();  // kept already (the file was there at open)
  std::lock_guard lk(mu_);
  if (auto s = io::write_file_atomic(dir_, format::kAckedName, format::encode_acked(durable_.next_offset)); !s) return s;
  acked_marker_ = true;
  return Status::ok();
}

void Collection::poison_locked(const Status& s) {
  failed_ = Status::error("collection " + name_ + " failed and must be reopened: " + s.message());
  ++stats_.write_failures;
  std::fprintf(stderr, "freshet: collection %llu (%s): write failed, appends fail until it recovers: %s\n",
               static_cast<unsigned long long>(id_), name_.c_str(), s.message().c_str());
}

Status Collection::heal() {
  {
    std::lock_guard lk(mu_);
    if (failed_.is_ok() || closed_) return Status::ok();
  }
  std::lock_guard mlk(manifest_mu_);
  std::lock_guard lk(mu_);
  if (failed_.is_ok() || closed_) return Status::ok();  // healed by another thread meanwhile
  // Poisoning emptied the queue and no writer enqueues while failed_ is set: nobody writes.
  FRESHET_ASSERT(queue_.empty());
  // Every byte of the active segment below active_->meta.size_bytes was written by a group
  // whose fdatasync succeeded (it was acknowledged); everything past it belongs to the failed
  // group and was never acknowledged, and after a failed fdatasync the page cache cannot be
  // trusted for it. Cutting it off and syncing leaves exactly what recovery after a restart
  // would keep, so appends can go on without one.
  Status s = active_->file.truncate(active_->meta.size_bytes);
  if (s) s = active_->file.sync();
  if (s && !failed_roll_path_.empty()) s = io::remove_file(failed_roll_path_);
  if (s) s = io::write_file_atomic(dir_, format::kManifestName, format::encode_manifest(manifest_locked()));
  if (!s) return Status::error(failed_.message() + " (recovery: " + s.message() + ")");
  std::fprintf(stderr, "freshet: collection %llu (%s): recovered from the failed write, appends resume at offset %llu\n",
               static_cast<unsigned long long>(id_), name_.c_str(), static_cast<unsigned long long>(durable_.next_offset));
  failed_roll_path_.clear();
  failed_ = Status::ok();
  pending_next_offset_ = durable_.next_offset;
  pending_upper_ = durable_.upper_ms;
  ++stats_.heals;
  return Status::ok();
}

// ---- reads -------------------------------------------------------------------------------------

Bounds Collection::bounds() const {
  std::lock_guard lk(mu_);
  return Bounds{0, durable_.next_offset, durable_.upper_ms};
}

std::optional<std::string> Collection::checkpoint() const {
  std::lock_guard lk(mu_);
  return durable_.checkpoint;
}

Collection::View Collection::capture() const {
  std::lock_guard lk(mu_);
  View v;
  v.segs.reserve(segments_.size());
  for (const auto& s : segments_) v.segs.push_back({s, s->meta.base_offset, s->meta.next_offset, s->meta.size_bytes, s->meta.max_timestamp_ms});
  v.bounds = Bounds{0, durable_.next_offset, durable_.upper_ms};
  v.checkpoint = durable_.checkpoint;
  return v;
}

Status Collection::build_index(Segment& seg) {
  // REQUIRES: seg.index_mu held; seg sealed.
  FrameReader rd(seg.file, format::kSegmentHeaderBytes, seg.meta.size_bytes);
  std::string_view body;
  uint64_t pos;
  std::string why;
  while (true) {
    auto out = rd.next(body, pos, why);
    if (!out) return out.status();
    if (*out == FrameReader::Outcome::kEnd) break;
    if (*out == FrameReader::Outcome::kBad) return corrupt(seg.path, rd.pos(), why);
    auto fv = format::decode_frame_body(body);
    if (!fv) return corrupt(seg.path, pos, fv.status().message());
    if (fv->type == FrameType::kBatch) seg.add_index(fv->base_offset, pos);
  }
  seg.index_complete = true;
  return Status::ok();
}

Status Collection::scan_view(const View& v, uint64_t from, uint64_t to,
                             const std::function<bool(const RecordView&)>& fn) const {
  to = std::min(to, v.bounds.next_offset);
  for (const auto& s : v.segs) {
    if (from >= to) break;
    if (s.next_offset <= from) continue;
    if (s.base_offset >= to) break;
    uint64_t start;
    {
      std::lock_guard ilk(s.seg->index_mu);
      if (!s.seg->index_complete) {
        if (auto st = build_index(*s.seg); !st) return st;
      }
      start = s.seg->seek(from);
    }
    FrameReader rd(s.seg->file, start, s.size_bytes);
    std::string_view body;
    uint64_t pos;
    std::string why;
    while (true) {
      auto out = rd.next(body, pos, why);
      if (!out) return out.status();
      if (*out == FrameReader::Outcome::kEnd) break;
      if (*out == FrameReader::Outcome::kBad) return corrupt(s.seg->path, rd.pos(), why);
      auto fv = format::decode_frame_body(body);
      if (!fv) return corrupt(s.seg->path, pos, fv.status().message());
      if (fv->type != FrameType::kBatch) continue;
      if (fv->base_offset >= to) return Status::ok();
      format::RecordIterator it(*fv);
      RecordView rv;
      while (true) {
        auto more = it.next(rv);
        if (!more) return corrupt(s.seg->path, pos, more.status().message());
        if (!*more) break;
        if (rv.offset < from) continue;
        if (rv.offset >= to) return Status::ok();
        if (!fn(rv)) return Status::ok();
      }
    }
    from = std::max(from, s.next_offset);
  }
  return Status::ok();
}

Status Collection::scan(uint64_t from_offset, uint64_t to_offset, const std::function<bool(const RecordView&)>& fn) const {
  return scan_view(capture(), from_offset, to_offset, fn);
}

Result<ReadResult> Collection::read(uint64_t from_offset, size_t max_bytes, size_t max_records) const {
  View v = capture();
  ReadResult r;
  r.bounds = v.bounds;
  size_t bytes = 0;
  bool full = false;
  Status s = scan_view(v, from_offset, UINT64_MAX, [&](const RecordView& rv) {
    if (!r.records.empty() && (bytes + rv.size_bytes() > max_bytes || r.records.size() >= max_records)) {
      full = true;
      return false;
    }
    bytes += rv.size_bytes();
    r.records.push_back(rv.to_record());
    return true;
  });
  if (!s) return s;
  r.continue_offset = full ? r.records.back().offset + 1 : std::max(from_offset, v.bounds.next_offset);
  return r;
}

Result<uint64_t> Collection::offset_for_time(uint64_t timestamp_ms) const {
  View v = capture();
  uint64_t from = v.bounds.next_offset;
  for (const auto& s : v.segs) {
    if (s.max_timestamp_ms >= timestamp_ms && s.next_offset > s.base_offset) {
      from = s.base_offset;
      break;
    }
  }
  uint64_t found = v.bounds.next_offset;
  Status s = scan_view(v, from, UINT64_MAX, [&](const RecordView& rv) {
    if (rv.timestamp_ms < timestamp_ms) return true;
    found = rv.offset;
    return false;
  });
  if (!s) return s;
  return found;
}

Result<Snapshot> Collection::snapshot() const {
  View v = capture();
  // The leading compacted segments (the clean part) hold each key at most once (compact():
  // a compaction's output has each key once, and compacted segments only ever form a prefix
  // of the log), so a clean record is its key's newest unless the rest of the log (the dirty
  // part: sealed segments not yet compacted, the active one) has the key.
  //
  // Keys are first told apart by their 64-bit hash, without a copy: the dirty part's hashes
  // are counted; a clean record whose hash the dirty part lacks is copied out, and a dirty
  // record whose hash occurs once in the whole log is its key's only record. Only the
  // records of repeated hashes (a key written again, or keys that collide) go into a map by
  // their exact key, the newest winning. So a table loaded once and not yet compacted (one
  // large active segment) maps no key. Mapping every key of the log, as before, was 80% of a
  // restart's CPU with 1M table rows.
  uint64_t split = v.bounds.next_offset;
  for (const auto& seg : v.segs) {
    if (seg.seg->meta.kind != SegmentKind::kCompacted) {
      split = seg.base_offset;
      break;
    }
  }
  auto hash_of = [](std::string_view k) -> uint64_t { return std::hash<std::string_view>{}(k); };
  absl::flat_hash_map<uint64_t, uint8_t> dirty;  // hash -> dirty records (2: two or more, or contested)
  Status s = scan_view(v, split, UINT64_MAX, [&](const RecordView& rv) {
    uint8_t& n = dirty[hash_of(rv.key)];
    if (n < 2) ++n;
    return true;
  });
  if (!s) return s;
  struct Latest {
    uint64_t offset, ts;
    std::optional<std::string> value;
  };
  absl::flat_hash_map<std::string, Latest> repeated;
  // Looked up by the record's view of its key, without a copy (Debian's abseil has its own
  // string_view type).
  auto map_key = [](std::string_view k) { return absl::string_view(k.data(), k.size()); };
  auto remember = [&](const RecordView& rv) {
    Latest& l = repeated[map_key(rv.key)];
    l.offset = rv.offset;
    l.ts = rv.timestamp_ms;
    if (rv.value) l.value = std::string(*rv.value);
    else l.value.reset();
  };
  Snapshot snap;
  snap.bounds = v.bounds;
  snap.checkpoint = v.checkpoint;
  auto copy_out = [&](const RecordView& rv) {
    snap.records.push_back(Record{rv.offset, rv.timestamp_ms, Op::kUpsert, Row(std::string(rv.key)), Row(std::string(*rv.value))});
  };
  s = scan_view(v, 0, split, [&](const RecordView& rv) {
    if (!rv.value) return true;  // a tombstone kept for its retention: what follows is newer
    auto it = dirty.empty() ? dirty.end() : dirty.find(hash_of(rv.key));
    if (it == dirty.end()) {
      copy_out(rv);
    } else {
      it->second = 2;  // contested: the dirty records of this hash go by exact key too
      remember(rv);
    }
    return true;
  });
  if (!s) return s;
  if (split < v.bounds.next_offset) {
    s = scan_view(v, split, UINT64_MAX, [&](const RecordView& rv) {
      auto it = dirty.find(hash_of(rv.key));  // counted above, over the same records
      if (it != dirty.end() && it->second == 1) {
        if (rv.value) copy_out(rv);
      } else {
        remember(rv);
      }
      return true;
    });
    if (!s) return s;
  }
  for (auto& [k, l] : repeated) {
    if (!l.value) continue;
    snap.records.push_back(Record{l.offset, l.ts, Op::kUpsert, Row(k), Row(std::move(*l.value))});
  }
  // In offset order: the records copied out are (clean ones, then dirty ones); the map's go
  // among them.
  if (!repeated.empty())
    std::sort(snap.records.begin(), snap.records.end(), [](const Record& a, const Record& b) { return a.offset < b.offset; });
  return snap;
}

Bounds Collection::wait_for_offset(uint64_t offset, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  data_cv_.wait_for(lk, timeout, [&] { return durable_.next_offset > offset || closed_ || !failed_.is_ok(); });
  return Bounds{0, durable_.next_offset, durable_.upper_ms};
}

Bounds Collection::wait_for_upper(uint64_t upper_ms, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  data_cv_.wait_for(lk, timeout, [&] { return durable_.upper_ms > upper_ms || closed_ || !failed_.is_ok(); });
  return Bounds{0, durable_.next_offset, durable_.upper_ms};
}

Collection::ListenerId Collection::add_listener(std::function<void(const Bounds&)> fn) {
  std::lock_guard lk(listeners_mu_);
  ListenerId id = next_listener_id_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void Collection::remove_listener(ListenerId id) {
  std::lock_guard lk(listeners_mu_);
  listeners_.erase(id);
}

void Collection::notify_listeners(const Bounds& b) {
  std::lock_guard lk(listeners_mu_);
  for (auto& [id, fn] : listeners_) fn(b);
}

CollectionStats Collection::stats() const {
  std::lock_guard lk(mu_);
  CollectionStats s = stats_;
  s.segments = segments_.size();
  return s;
}

// ---- compaction --------------------------------------------------------------------------------

Result<CompactionReport> Collection::compact(uint64_t below_offset) {
  std::lock_guard clk(compaction_mu_);
  std::vector<std::shared_ptr<Segment>> in;
  uint64_t upper;
  {
    std::lock_guard lk(mu_);
    if (closed_) return Status::error("collection " + name_ + " is closed");
    for (const auto& s : segments_) {
      if (s == active_ || s->meta.next_offset > below_offset) break;
      in.push_back(s);
    }
    upper = durable_.upper_ms;
  }
  CompactionReport rep;
  if (in.empty()) return rep;

  // Clean: the leading compacted segments of the range; dirty: the rest. A compaction's output
  // holds each key at most once, and compacted segments only ever form a prefix of the log
  // (each compaction replaces a prefix), so no two records of the clean part share a key: a clean
  // record is the newest of its key unless the dirty part has that key. So only the dirty part's
  // keys are mapped (Kafka's cleaner does the same), and a clean segment none of whose records
  // is superseded or a tombstone to drop is kept as it is, not rewritten. Before, every key of
  // the whole range went into the map and every segment was rewritten: loading a table of N
  // rows compacted it O(log N) times, each pass costing a hash-map insertion per row ever
  // written (a third of the server's CPU while loading 4M rows; bench/README.md, "Concurrency").
  size_t n_clean = 0;
  while (n_clean < in.size() && in[n_clean]->meta.kind == SegmentKind::kCompacted) ++n_clean;

  // Pass 1: the newest offset of every key in the dirty part.
  absl::flat_hash_map<std::string, uint64_t> newest;
  // Looked up by the record's view of its key, without a copy (Debian's abseil has its own
  // string_view type).
  auto map_key = [](std::string_view k) { return absl::string_view(k.data(), k.size()); };
  auto for_each_batch = [&](size_t from, size_t to,
                            const std::function<Status(const FrameView&, const std::string& path, uint64_t pos)>& fn) -> Status {
    for (size_t i = from; i < to; ++i) {
      const auto& seg = in[i];
      FrameReader rd(seg->file, format::kSegmentHeaderBytes, seg->meta.size_bytes);
      std::string_view body;
      uint64_t pos;
      std::string why;
      while (true) {
        auto out = rd.next(body, pos, why);
        if (!out) return out.status();
        if (*out == FrameReader::Outcome::kEnd) break;
        if (*out == FrameReader::Outcome::kBad) return corrupt(seg->path, rd.pos(), why);
        auto fv = format::decode_frame_body(body);
        if (!fv) return corrupt(seg->path, pos, fv.status().message());
        if (fv->type != FrameType::kBatch) continue;
        if (auto s = fn(*fv, seg->path, pos); !s) return s;
      }
    }
    return Status::ok();
  };
  auto for_each_record = [&](size_t from, size_t to, const std::function<void(const RecordView&)>& fn) -> Status {
    return for_each_batch(from, to, [&](const FrameView& fv, const std::string& path, uint64_t pos) -> Status {
      format::RecordIterator it(fv);
      RecordView rv;
      while (true) {
        auto more = it.next(rv);
        if (!more) return corrupt(path, pos, more.status().message());
        if (!*more) return Status::ok();
        fn(rv);
      }
    });
  };
  Status s = for_each_record(n_clean, in.size(), [&](const RecordView& rv) {
    newest.insert_or_assign(map_key(rv.key), rv.offset);
  });
  if (!s) return s;
  for (const auto& seg : in) rep.bytes_in += seg->meta.size_bytes;
  rep.segments_in = in.size();
  auto droppable_tombstone = [&](const RecordView& rv) {
    return rv.op == Op::kDelete && upper > rv.timestamp_ms && upper - rv.timestamp_ms > options_.tombstone_retention_ms;
  };
  // Whether a record is the newest of its key: a clean one unless the dirty part has its key,
  // a dirty one when the map says so.
  auto newest_of_key = [&](const RecordView& rv, bool clean) {
    auto nit = newest.find(map_key(rv.key));
    if (clean) return nit == newest.end();
    FRESHET_ASSERT(nit != newest.end());
    return nit->second == rv.offset;
  };
  // Whether it survives: the newest of its key, and not a tombstone old enough to drop.
  auto survives = [&](const RecordView& rv, bool clean) { return newest_of_key(rv, clean) && !droppable_tombstone(rv); };
  // Which clean segments lose a record (and so are rewritten); the others are kept.
  std::vector<bool> rewrite(in.size(), true);
  std::vector<uint64_t> kept_records(in.size(), 0);
  for (size_t i = 0; i < n_clean; ++i) {
    bool loses = false;
    uint64_t n = 0;
    s = for_each_record(i, i + 1, [&](const RecordView& rv) {
      ++n;
      loses = loses || !survives(rv, true);
      return true;
    });
    if (!s) return s;
    rewrite[i] = loses;
    kept_records[i] = n;
  }

  // Pass 2: rewrite the survivors of the other segments, batch by batch, into kCompacted
  // segments; kept segments go into the output list in their place.
  std::vector<std::shared_ptr<Segment>> out;
  std::vector<bool> out_kept;
  std::shared_ptr<Segment> cur;
  std::string buf;
  uint64_t range_start = in.front()->meta.base_offset;
  auto flush = [&]() -> Status {
    if (buf.empty()) return Status::ok();
    if (auto st = cur->file.pwrite_all(buf.data(), buf.size(), cur->meta.size_bytes); !st) return st;
    cur->meta.size_bytes += buf.size();
    buf.clear();
    return Status::ok();
  };
  auto finish = [&]() -> Status {
    if (!cur) return Status::ok();
    if (auto st = flush(); !st) return st;
    if (auto st = cur->file.sync(); !st) return st;
    rep.bytes_out += cur->meta.size_bytes;
    out.push_back(std::move(cur));
    out_kept.push_back(false);
    cur.reset();
    return Status::ok();
  };
  std::vector<RecordView> keep;
  for (size_t i = 0; i < in.size() && s; ++i) {
    const bool clean = i < n_clean;
    if (!rewrite[i]) {
      if (s = finish(); !s) break;
      out.push_back(in[i]);
      out_kept.push_back(true);
      rep.bytes_out += in[i]->meta.size_bytes;
      rep.records_in += kept_records[i];
      rep.records_out += kept_records[i];
      range_start = in[i]->meta.next_offset;
      continue;
    }
    s = for_each_batch(i, i + 1, [&](const FrameView& fv, const std::string& path, uint64_t pos) -> Status {
      keep.clear();
      format::RecordIterator it(fv);
      RecordView rv;
      while (true) {
        auto more = it.next(rv);
        if (!more) return corrupt(path, pos, more.status().message());
        if (!*more) break;
        ++rep.records_in;
        if (!newest_of_key(rv, clean)) continue;
        if (droppable_tombstone(rv)) {
          ++rep.tombstones_dropped;
          continue;
        }
        keep.push_back(rv);
      }
      if (keep.empty()) return Status::ok();
      size_t frame_bytes = 64;
      for (const auto& k : keep) frame_bytes += format::record_encoded_bytes(k.key.size(), k.value ? std::optional(k.value->size()) : std::nullopt);
      if (cur && cur->meta.size_bytes + buf.size() > format::kSegmentHeaderBytes &&
          cur->meta.size_bytes + buf.size() + frame_bytes > options_.segment_bytes) {
        range_start = cur->meta.next_offset;
        if (auto st = finish(); !st) return st;
      }
      if (!cur) {
        uint64_t seq;
        {
          std::lock_guard lk(mu_);
          seq = next_seq_++;
        }
        if (auto st = create_segment(seq, SegmentKind::kCompacted, range_start, cur); !st) return st;
      }
      {
        std::lock_guard ilk(cur->index_mu);
        cur->add_index(keep.front().offset, cur->meta.size_bytes + buf.size());
      }
      format::append_batch_frame(buf, keep.front().offset, fv.timestamp_ms, fv.upper_ms, std::nullopt, keep);
      cur->meta.next_offset = keep.back().offset + 1;
      cur->meta.max_timestamp_ms = std::max(cur->meta.max_timestamp_ms, fv.timestamp_ms);
      rep.records_out += keep.size();
      if (buf.size() >= (1u << 20)) return flush();
      return Status::ok();
    });
  }
  if (s) s = finish();
  if (!s) {
    for (size_t i = 0; i < out.size(); ++i)
      if (!out_kept[i]) (void)io::remove_file(out[i]->path);
    if (cur) (void)io::remove_file(cur->path);
    return s;
  }
  // The last new segment covers the range up to the end of the input (a kept segment's
  // metadata is not changed: readers share it; a gap after it is read as compacted away).
  if (!out.empty() && !out_kept.back()) out.back()->meta.next_offset = in.back()->meta.next_offset;
  if (auto st = io::fsync_dir(dir_); !st) return st;
  rep.segments_out = out.size();

  // Install: swap the segment list, then the manifest makes it durable; then the old files go
  // (readers holding them keep their open descriptors).
  {
    std::lock_guard mlk(manifest_mu_);
    std::string bytes;
    {
      std::lock_guard lk(mu_);
      FRESHET_ASSERT(segments_.size() > in.size());
      for (size_t i = 0; i < in.size(); ++i) FRESHET_ASSERT(segments_[i] == in[i]);
      segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(in.size()));
      segments_.insert(segments_.begin(), out.begin(), out.end());
      for (bool kept : out_kept) stats_.fsyncs += kept ? 0 : 1;
      ++stats_.fsyncs;
      ++stats_.compactions;
      stats_.sealed_log_bytes = stats_.sealed_compacted_bytes = 0;
      for (const auto& sg : segments_) {
        if (sg == active_) continue;
        (sg->meta.kind == SegmentKind::kLog ? stats_.sealed_log_bytes : stats_.sealed_compacted_bytes) += sg->meta.size_bytes;
      }
      bytes = format::encode_manifest(manifest_locked());
    }
    if (auto st = io::write_file_atomic(dir_, format::kManifestName, bytes); !st) return st;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (!rewrite[i]) continue;  // kept: still listed
    if (auto st = io::remove_file(in[i]->path); !st) return st;
  }
  if (auto st = io::fsync_dir(dir_); !st) return st;
  return rep;
}

}  // namespace freshet::storage
