#pragma once
// Helpers for the storage tests: a temporary directory and small row/batch builders.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/datum.hpp"
#include "common/row.hpp"
#include "storage/collection.hpp"
#include "storage/store.hpp"

namespace freshet::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "freshet-storage-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    FRESHET_ASSERT(p != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Row text_row(std::string_view s) {
  Datum d = Datum::from_string(s);
  return Row::pack(std::span<const Datum>(&d, 1));
}
inline Row int_row(int64_t v) {
  Datum d = Datum::from_int(v);
  return Row::pack(std::span<const Datum>(&d, 1));
}
inline std::string row_text(const Row& r) { return std::string(r.get(0).as_string()); }

inline Batch make_batch(uint64_t ts, std::vector<std::pair<std::string, std::optional<std::string>>> kvs,
                        std::optional<std::string> checkpoint = std::nullopt) {
  Batch b;
  b.timestamp_ms = ts;
  for (auto& [k, v] : kvs) {
    if (v) b.changes.push_back(Change::upsert(text_row(k), text_row(*v)));
    else b.changes.push_back(Change::del(text_row(k)));
  }
  b.checkpoint = std::move(checkpoint);
  return b;
}

// Makes a fresh collection directory and opens it.
inline std::shared_ptr<Collection> fresh_collection(const std::string& dir, const CollectionOptions& o = {},
                                                    uint64_t id = 7, std::string_view name = "t") {
  std::filesystem::create_directories(dir);
  Status s = Collection::initialize(dir, id, name);
  FRESHET_ASSERT(s.is_ok());
  auto c = Collection::open(dir, o);
  FRESHET_ASSERT(c.is_ok());
  return *c;
}

inline std::shared_ptr<Collection> reopen(const std::string& dir, const CollectionOptions& o = {}) {
  auto c = Collection::open(dir, o);
  if (!c) ADD_FAILURE() << c.status().message();
  return c ? *c : nullptr;
}

inline std::vector<Record> read_all(const Collection& c) {
  std::vector<Record> out;
  Status s = c.scan(0, UINT64_MAX, [&](const RecordView& r) {
    out.push_back(r.to_record());
    return true;
  });
  if (!s) ADD_FAILURE() << s.message();
  return out;
}

}  // namespace freshet::storage::testing
