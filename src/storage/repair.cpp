// Media damage and repair: src/storage/README.md ("Media damage and repair").
#include "storage/repair.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "storage/crc32c.hpp"
#include "storage/io.hpp"

namespace freshet::storage {

using format::FrameType;
using format::SegmentKind;

namespace {

// The intact frame at pos, or nullopt (why says what was wrong).
std::optional<SalvagedFrame> frame_at(std::string_view bytes, uint64_t pos, std::string& why) {
  uint64_t size = bytes.size();
  if (size - pos < format::kFrameHeaderBytes) {
    why = "truncated frame header";
    return std::nullopt;
  }
  uint32_t len, crc;
  std::memcpy(&len, bytes.data() + pos, 4);
  std::memcpy(&crc, bytes.data() + pos + 4, 4);
  if (len < 4 || len > format::kMaxFrameBodyBytes) {
    why = "bad frame length " + std::to_string(len);
    return std::nullopt;
  }
  if (size - pos - format::kFrameHeaderBytes < len) {
    why = "truncated frame";
    return std::nullopt;
  }
  std::string_view body = bytes.substr(pos + format::kFrameHeaderBytes, len);
  if (crc32c_extend(crc32c(&len, 4), body.data(), body.size()) != crc) {
    why = "frame checksum mismatch";
    return std::nullopt;
  }
  auto fv = format::decode_frame_body(body);
  if (!fv) {
    why = fv.status().message();
    return std::nullopt;
  }
  SalvagedFrame f;
  f.pos = pos;
  f.bytes = format::kFrameHeaderBytes + len;
  f.type = fv->type;
  f.upper_ms = fv->upper_ms;
  if (fv->type == FrameType::kBatch) {
    f.base_offset = fv->base_offset;
    f.next_offset = fv->base_offset;
    f.timestamp_ms = fv->timestamp_ms;
    f.records = fv->record_count;
    if (fv->checkpoint) f.checkpoint = std::string(*fv->checkpoint);
    format::RecordIterator it(*fv);
    RecordView rv;
    while (true) {
      auto more = it.next(rv);
      if (!more) {
        why = more.status().message();
        return std::nullopt;
      }
      if (!*more) break;
      f.next_offset = rv.offset + 1;
    }
  }
  return f;
}

std::string human(uint64_t n) { return std::to_string(n); }

// Moves path into DATA_DIR/damaged/<collection>/, never over an earlier file of the same name.
Result<std::string> move_aside(const std::string& data_dir, const std::string& collection, const std::string& path) {
  std::string dir = data_dir + "/damaged";
  if (auto s = io::make_dir(dir); !s) return s;
  dir += "/" + collection;
  if (auto s = io::make_dir(dir); !s) return s;
  std::string base = dir + "/" + std::filesystem::path(path).filename().string();
  std::string to = base;
  for (int i = 1; std::filesystem::exists(to); ++i) to = base + "." + std::to_string(i);
  if (auto s = io::rename_path(path, to); !s) return s;
  if (auto s = io::fsync_dir(dir); !s) return s;
  return to;
}

Status write_new_file(const std::string& dir, const std::string& name, std::string_view bytes) {
  return io::write_file_atomic(dir, name, bytes);
}

// The catalog's records are JSON with a "name": quoting the names found in damaged bytes
// tells the operator which objects were lost (best effort: the damage may hit a name too).
std::string names_in(std::string_view bytes) {
  std::string out;
  constexpr std::string_view kKey = "\"name\":\"";
  for (size_t p = bytes.find(kKey); p != std::string_view::npos && out.size() < 200; p = bytes.find(kKey, p + 1)) {
    size_t b = p + kKey.size(), e = bytes.find('"', b);
    if (e == std::string_view::npos || e - b > 64) continue;
    out += (out.empty() ? "" : ", ") + std::string(bytes.substr(b, e - b));
  }
  return out.empty() ? "" : " (the damaged bytes name: " + out + ")";
}

struct SegInfo {
  uint64_t seq = 0;
  std::string name;
  std::string bytes;
  std::optional<format::SegmentHeader> header;
};

}  // namespace

SegmentSalvage salvage_frames(std::string_view bytes, uint64_t from) {
  SegmentSalvage out;
  uint64_t pos = from;
  std::string why;
  while (pos < bytes.size()) {
    if (auto f = frame_at(bytes, pos, why)) {
      pos += f->bytes;
      out.frames.push_back(std::move(*f));
      continue;
    }
    // Damaged from pos: find the next intact frame.
    DamagedRange d{pos, bytes.size(), why};
    std::string ignored;
    for (uint64_t p = pos + 1; p + format::kFrameHeaderBytes <= bytes.size(); ++p) {
      if (frame_at(bytes, p, ignored)) {
        d.end = p;
        break;
      }
    }
    out.damaged.push_back(d);
    pos = d.end;
  }
  return out;
}

Result<RepairReport> repair_data_dir(const std::string& data_dir) {
  RepairReport rep;
  std::string lock_path = data_dir + "/LOCK";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (lock_fd < 0) return io::error_from_errno("open", lock_path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{lock_fd};
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
    return Status::error("data directory " + data_dir + " is in use (" + lock_path + " is locked): stop the server first");

  std::string cdir = data_dir + "/collections";
  std::vector<std::string> names;
  if (DIR* d = ::opendir(cdir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() == 20 && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) names.push_back(n);
    }
    ::closedir(d);
  } else {
    return io::error_from_errno("opendir", cdir, errno);
  }
  std::sort(names.begin(), names.end());

  for (const auto& cname : names) {
    ++rep.collections;
    std::string dir = cdir + "/" + cname;
    uint64_t id = std::stoull(cname);
    auto say = [&](const std::string& line) { rep.lines.push_back("collection " + std::to_string(id) + ": " + line); };

    // The manifest.
    std::optional<format::Manifest> manifest;
    bool manifest_damaged = false;
    if (auto bytes = io::read_file(dir + "/" + format::kManifestName); !bytes) {
      manifest_damaged = true;
      say("MANIFEST unreadable (" + bytes.status().message() + "): rebuilt from the segments");
    } else if (auto m = format::decode_manifest(*bytes); !m) {
      manifest_damaged = true;
      say("MANIFEST damaged (" + m.status().message() + "): rebuilt from the segments");
    } else {
      manifest = std::move(*m);
    }

    // The acknowledged end, when the collection keeps one.
    std::optional<uint64_t> acked;
    bool acked_damaged = false;
    if (auto ab = io::read_file(dir + "/" + format::kAckedName); ab) {
      if (auto v = format::decode_acked(*ab); v) acked = *v;
      else {
        acked_damaged = true;
        say(std::string(format::kAckedName) + " damaged (" + v.status().message() + "): rewritten at the end of the log");
      }
    }

    // The segment files.
    std::map<uint64_t, SegInfo> segs;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        if (auto seq = format::parse_segment_file_name(e->d_name)) segs[*seq] = SegInfo{*seq, e->d_name, {}, std::nullopt};
      }
      ::closedir(d);
    } else {
      return io::error_from_errno("opendir", dir, errno);
    }
    for (auto& [seq, s] : segs) {
      auto b = io::read_file(dir + "/" + s.name);
      if (!b) return Status::error("collection " + cname + ": " + b.status().message());
      s.bytes = std::move(*b);
      if (auto h = format::decode_segment_header(std::string_view(s.bytes).substr(0, format::kSegmentHeaderBytes)); h && h->seq == seq)
        s.header = *h;
    }

    // Which files make up the log, in order: the manifest's sealed list and its tail (active and
    // newer kLog files), as recovery reads them; without a manifest, rebuilt from the headers:
    // by base offset, the newest file first at equal offsets (a compaction's output replaces
    // its inputs), skipping files that lie inside what earlier ones cover.
    struct Part {
      uint64_t seq;
      bool sealed;
      std::optional<format::SegmentMeta> meta;  // from the manifest
    };
    std::vector<Part> parts;
    if (manifest) {
      for (const auto& m : manifest->sealed) parts.push_back({m.seq, true, m});
      for (const auto& [seq, s] : segs)
        if (seq >= manifest->active_seq && (seq == manifest->active_seq || (s.header && s.header->kind == SegmentKind::kLog)))
          parts.push_back({seq, false, std::nullopt});
    } else {
      std::vector<const SegInfo*> order;
      for (const auto& [seq, s] : segs)
        if (s.header) order.push_back(&s);
      std::sort(order.begin(), order.end(), [](const SegInfo* a, const SegInfo* b) {
        if (a->header->base_offset != b->header->base_offset) return a->header->base_offset < b->header->base_offset;
        return a->seq > b->seq;
      });
      uint64_t covered = 0;
      bool first = true;
      for (const SegInfo* s : order) {
        if (!first && s->header->base_offset < covered) continue;
        auto sv = salvage_frames(s->bytes, format::kSegmentHeaderBytes);
        uint64_t next = s->header->base_offset;
        for (const auto& f : sv.frames)
          if (f.type == FrameType::kBatch && f.records > 0) next = std::max(next, f.next_offset);
        if (!first && next == s->header->base_offset && s->header->kind == SegmentKind::kCompacted) continue;
        parts.push_back({s->seq, true, std::nullopt});
        covered = std::max(covered, next);
        first = false;
      }
      // The last kLog part and the kLog parts after it are the tail.
      size_t i = parts.size();
      while (i > 0 && segs[parts[i - 1].seq].header->kind == SegmentKind::kLog) --i;
      if (i == parts.size()) {
        // No kLog file at the end: a new empty active segment.
        uint64_t seq = segs.empty() ? 1 : segs.rbegin()->first + 1;
        SegInfo s;
        s.seq = seq;
        s.name = format::segment_file_name(seq);
        s.header = format::SegmentHeader{SegmentKind::kLog, id, seq, covered};
        s.bytes = format::encode_segment_header(*s.header);
        if (auto st = write_new_file(dir, s.name, s.bytes); !st) return st;
        segs[seq] = s;
        parts.push_back({seq, false, std::nullopt});
        say("no active segment: started " + s.name);
      } else {
        for (size_t j = i; j < parts.size(); ++j) parts[j].sealed = false;
      }
    }

    // Each part, frame by frame.
    format::Manifest nm;
    nm.collection_id = id;
    nm.name = manifest ? manifest->name : "";
    nm.next_seq = manifest ? manifest->next_seq : 1;
    for (const auto& [seq, s] : segs) nm.next_seq = std::max(nm.next_seq, seq + 1);
    uint64_t next_offset = 0, upper = 0;
    std::optional<std::string> checkpoint;
    bool changed = manifest_damaged;
    bool active_set = false;
    for (const auto& part : parts) {
      auto it = segs.find(part.seq);
      std::string fname = format::segment_file_name(part.seq);
      if (it == segs.end()) {
        say(fname + " is missing (listed in the MANIFEST): its records are lost");
        if (part.meta) {
          next_offset = std::max(next_offset, part.meta->next_offset);
          rep.lost_bytes += part.meta->size_bytes;
        }
        changed = true;
        continue;
      }
      SegInfo& s = it->second;
      format::SegmentHeader h;
      bool header_damaged = !s.header || s.header->collection_id != id;
      if (!header_damaged) {
        h = *s.header;
      } else {
        h = {part.meta ? part.meta->kind : SegmentKind::kLog, id, part.seq, part.meta ? part.meta->base_offset : next_offset};
      }
      auto sv = salvage_frames(s.bytes, std::min<uint64_t>(format::kSegmentHeaderBytes, s.bytes.size()));
      bool size_mismatch = part.meta && part.meta->size_bytes != s.bytes.size();
      bool damaged = header_damaged || !sv.damaged.empty();
      bool is_tail = !part.sealed;
      // At the end of the tail, damage with nothing intact after it is a torn write that
      // recovery cuts as usual; repair leaves it to recovery.
      bool torn_only = is_tail && sv.damaged.size() == 1 && sv.damaged[0].end == s.bytes.size() && !header_damaged &&
                       &part == &parts.back();
      if (torn_only && acked) {
        // Unless what it would cut was acknowledged (ACKED): then it is damage.
        uint64_t end = next_offset;
        for (const auto& f : sv.frames)
          if (f.type == FrameType::kBatch) end = std::max(end, f.next_offset);
        if (end < *acked) torn_only = false;
      }
      if (torn_only) damaged = false;
      std::string label = fname + (nm.name.empty() ? "" : " of " + nm.name);
      if (damaged || size_mismatch) {
        ++rep.damaged_files;
        if (header_damaged) say(label + ": damaged header, rebuilt");
        if (size_mismatch)
          say(label + ": " + human(s.bytes.size()) + " bytes, the MANIFEST says " + human(part.meta->size_bytes));
        uint64_t prev_next = part.meta ? part.meta->base_offset : h.base_offset;
        size_t fi = 0;
        for (const auto& d : sv.damaged) {
          while (fi < sv.frames.size() && sv.frames[fi].pos < d.begin) {
            if (sv.frames[fi].type == FrameType::kBatch) prev_next = sv.frames[fi].next_offset;
            ++fi;
          }
          std::string lost = "bytes " + human(d.begin) + ".." + human(d.end) + " (" + human(d.end - d.begin) + " bytes, " + d.why + ")";
          std::optional<uint64_t> next_base;
          for (size_t k = fi; k < sv.frames.size(); ++k)
            if (sv.frames[k].type == FrameType::kBatch) {
              next_base = sv.frames[k].base_offset;
              break;
            }
          if (next_base && *next_base > prev_next)
            lost += ": records at offsets " + human(prev_next) + ".." + human(*next_base - 1) + " (" +
                    human(*next_base - prev_next) + " records) lost";
          else if (next_base)
            lost += ": no records lost (a tick)";
          else
            lost += ": the records from offset " + human(prev_next) + " to the end of the segment lost";
          lost += names_in(std::string_view(s.bytes).substr(d.begin, d.end - d.begin));
          say(label + ": damaged " + lost);
          rep.lost_bytes += d.end - d.begin;
        }
        // Rewrite: the header and every intact frame.
        std::string out = format::encode_segment_header(h);
        for (const auto& f : sv.frames) out.append(s.bytes, f.pos, f.bytes);
        rep.kept_frames += sv.frames.size();
        std::string tmp_name = s.name + ".repair";
        if (auto st = write_new_file(dir, tmp_name, out); !st) return st;
        auto moved = move_aside(data_dir, cname, dir + "/" + s.name);
        if (!moved) return moved.status();
        if (auto st = io::rename_path(dir + "/" + tmp_name, dir + "/" + s.name); !st) return st;
        if (auto st = io::fsync_dir(dir); !st) return st;
        say(label + ": kept " + human(sv.frames.size()) + " intact frames; the damaged file is now " + *moved);
        s.bytes = std::move(out);
        changed = true;
      }
      // State after this part.
      uint64_t seg_next = part.meta ? part.meta->next_offset : h.base_offset;
      uint64_t max_ts = 0;
      for (const auto& f : sv.frames) {
        upper = std::max(upper, f.upper_ms);
        if (f.type != FrameType::kBatch) continue;
        seg_next = std::max(seg_next, f.next_offset);
        max_ts = std::max(max_ts, f.timestamp_ms);
        if (f.checkpoint) checkpoint = f.checkpoint;
      }
      next_offset = std::max(next_offset, seg_next);
      if (part.sealed) {
        format::SegmentMeta m;
        m.seq = part.seq;
        m.kind = h.kind;
        m.base_offset = part.meta ? part.meta->base_offset : h.base_offset;
        m.next_offset = seg_next;
        m.size_bytes = s.bytes.size();
        m.max_timestamp_ms = part.meta ? std::max(part.meta->max_timestamp_ms, max_ts) : max_ts;
        nm.sealed.push_back(m);
        nm.sealed_next_offset = next_offset;
        nm.sealed_upper_ms = manifest ? std::max(manifest->sealed_upper_ms, upper) : upper;
        nm.sealed_checkpoint = checkpoint;
      } else if (!active_set) {
        nm.active_seq = part.seq;
        active_set = true;
      }
    }
    if (manifest) {
      // Keep what the manifest knew of the sealed part when the segments tell no more.
      nm.sealed_next_offset = std::max(nm.sealed_next_offset, manifest->sealed_next_offset);
      nm.sealed_upper_ms = std::max(nm.sealed_upper_ms, manifest->sealed_upper_ms);
      if (!nm.sealed_checkpoint) nm.sealed_checkpoint = manifest->sealed_checkpoint;
    }
    if (!active_set) return Status::error("collection " + cname + ": no active segment found; nothing changed in it");
    if (acked && *acked > next_offset) {
      say("acknowledged records at offsets " + human(next_offset) + ".." + human(*acked - 1) + " (" + human(*acked - next_offset) +
          " records) lost: the end of the log was damaged");
      changed = true;
    }
    if (acked_damaged) {
      auto moved = move_aside(data_dir, cname, dir + "/" + format::kAckedName);
      if (!moved) return moved.status();
      ++rep.damaged_files;
    }
    if (acked_damaged || (acked && *acked != next_offset && changed)) {
      if (auto st = io::write_file_atomic(dir, format::kAckedName, format::encode_acked(next_offset)); !st) return st;
    }
    if (changed) {
      if (manifest_damaged) {
        if (std::filesystem::exists(dir + "/" + format::kManifestName)) {
          auto moved = move_aside(data_dir, cname, dir + "/" + format::kManifestName);
          if (!moved) return moved.status();
          ++rep.damaged_files;
          say("the damaged MANIFEST is now " + *moved);
        }
      }
      if (auto st = io::write_file_atomic(dir, format::kManifestName, format::encode_manifest(nm)); !st) return st;
    }
  }
  return rep;
}

}  // namespace freshet::storage
