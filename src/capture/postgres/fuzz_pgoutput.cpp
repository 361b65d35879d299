// Fuzz target for the logical replication decoders: the input is a sequence of frames, each a
// 2-byte big-endian length and that many bytes. A frame that starts with 'w' or 'k' is a
// walsender CopyData payload (decode_stream_message, whose XLogData payload goes on to the
// change decoder); any other frame is a pgoutput message fed straight to a ChangeDecoder that
// captures two tables (public.t: int4 key, text, numeric(10,2), timestamptz, uuid, jsonb,
// bytea, interval; public.f: REPLICA IDENTITY FULL). Any input must end in a Transaction or an
// error Status (or SqlError from the frame decoders), never a crash, an assertion or a
// sanitizer report. The seeds in fuzz_corpus/ hold well-formed sessions. README.md says how
// to run it under libFuzzer.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "capture/postgres/change_decoder.hpp"
#include "capture/postgres/pgoutput.hpp"
#include "common/error.hpp"

namespace {

using namespace freshet;
using namespace freshet::capture;
using namespace freshet::capture::postgres;

std::vector<CapturedTable> fuzz_tables() {
  CapturedTable t;
  t.relid = 16384;
  t.schema.upstream_schema = "public";
  t.schema.upstream_name = "t";
  t.schema.name = "t";
  const uint32_t oids[] = {23, 25, 1700, 1184, 2950, 3802, 17, 1186};
  const int32_t typmods[] = {-1, -1, ((10 << 16) | 2) + 4, -1, -1, -1, -1, -1};
  const char* names[] = {"id", "name", "price", "ts", "u", "j", "b", "iv"};
  for (int i = 0; i < 8; ++i) {
    t.schema.columns.push_back({names[i], map_pg_type(oids[i], typmods[i]), true});
    t.type_oids.push_back(oids[i]);
    t.typmods.push_back(typmods[i]);
  }
  t.schema.key = {0};
  CapturedTable f;
  f.relid = 16500;
  f.schema.upstream_schema = "public";
  f.schema.upstream_name = "f";
  f.schema.name = "f";
  f.schema.columns = {{"a", Type(TypeId::kInt4)}, {"b", Type(TypeId::kText)}};
  f.type_oids = {23, 25};
  f.typmods = {-1, -1};
  f.schema.key = {0, 1};
  return {t, f};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<CapturedTable> tables = fuzz_tables();
  ChangeDecoder decoder(tables, 0x100, 1 << 20);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (in.size() >= 2) {
    size_t len = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    std::string_view frame = in.substr(0, len);
    in.remove_prefix(frame.size());
    std::string_view payload = frame;
    if (!frame.empty() && (frame[0] == 'w' || frame[0] == 'k')) {
      try {
        StreamMessage m = decode_stream_message(frame);
        auto* x = std::get_if<XLogData>(&m);
        if (!x) continue;
        payload = x->payload;
      } catch (const SqlError&) {
        continue;
      }
    }
    auto r = decoder.feed(payload);
    if (!r.is_ok()) {
      decoder.reset_session(0x100);
      continue;
    }
    if (r->has_value()) {
      const Transaction& t = **r;
      // A transaction may carry only a stopped table (an upstream schema change): never nothing.
      FRESHET_ASSERT(!t.changes.empty() || !t.stopped_tables.empty());
      FRESHET_ASSERT(parse_lsn(t.position).has_value());
      for (const auto& c : t.changes) {
        FRESHET_ASSERT(c.table < tables.size());
        FRESHET_ASSERT(c.key.arity() == tables[c.table].schema.key.size());
        if (c.op == Change::Op::kUpsert) FRESHET_ASSERT(c.value.arity() == tables[c.table].schema.columns.size());
      }
    }
  }
  return 0;
}
