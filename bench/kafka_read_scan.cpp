// kafka_read_scan: the storage-side limit for bench/kafka_read.sh. Opens a stopped Freshet's
// data directory with src/storage's Store (the process must not be running: Store takes the
// directory's lock), and streams every record of one collection with Collection::scan — the
// call CollectionKafkaBackend::read makes for a Fetch — unpacking each key (and value) into
// Datums as the backend does before Avro encoding. Prints records, bytes (key + value as
// stored), seconds, records/s, MB/s.
//
//   kafka_read_scan DATA_DIR [COLLECTION_ID]     (default: the collection with the most records)
//
// Built by bench/kafka_read.sh against the build's libraries (no CMake target: bench/ has no
// CMakeLists and src/storage/CMakeLists.txt belongs to the storage module).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/row.hpp"
#include "storage/store.hpp"

using namespace freshet;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kafka_read_scan DATA_DIR [COLLECTION_ID]\n");
    return 2;
  }
  storage::StoreOptions opts;
  opts.background_compaction = false;
  auto store = storage::Store::open(argv[1], opts);
  if (!store) {
    std::fprintf(stderr, "kafka_read_scan: %s\n", store.status().message().c_str());
    return 1;
  }
  uint64_t id = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  if (id == 0) {
    uint64_t most = 0;
    for (const auto& ci : (*store)->list()) {
      uint64_t n = ci.bounds.next_offset - ci.bounds.start_offset;
      if (n > most) most = n, id = ci.id;
    }
  }
  auto c = (*store)->get(id);
  if (!c) {
    std::fprintf(stderr, "kafka_read_scan: no collection %llu\n", static_cast<unsigned long long>(id));
    return 1;
  }
  auto b = c->bounds();
  uint64_t records = 0, bytes = 0, datums = 0;
  std::vector<Datum> k, v;
  auto t0 = std::chrono::steady_clock::now();
  Status s = c->scan(b.start_offset, b.next_offset, [&](const storage::RecordView& rec) {
    k.clear();
    RowRef(rec.key).unpack_into(k);
    datums += k.size();
    bytes += rec.key.size();
    if (rec.value) {
      v.clear();
      RowRef(*rec.value).unpack_into(v);
      datums += v.size();
      bytes += rec.value->size();
    }
    ++records;
    return true;
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s) {
    std::fprintf(stderr, "kafka_read_scan: scan: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("collection %llu records %llu bytes %llu datums %llu seconds %.3f records_per_s %.0f MB_per_s %.1f\n",
              static_cast<unsigned long long>(id), static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(datums), secs,
              records / secs, bytes / secs / 1e6);
  return 0;
}
