#pragma once
// Row: a packed, self-describing sequence of Datums (format in doc/row_format.md). Rows are
// what dataflow updates, arrangements and results carry; equality and hashing are over the
// packed bytes, so packing is canonical (one encoding per value). Reading a Row needs no
// schema. Access is sequential: unpack() to a vector of Datums for random access; those
// Datums borrow the Row's bytes.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/datum.hpp"

namespace freshet {

// A borrowed packed row.
class RowRef {
 public:
  RowRef() = default;
  explicit RowRef(std::string_view bytes) : bytes_(bytes) {}
  std::string_view bytes() const { return bytes_; }
  RowRef ref() const { return *this; }
  size_t size_bytes() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // Appends the datums to out (borrowing this row's bytes).
  void unpack_into(std::vector<Datum>& out) const;
  std::vector<Datum> unpack() const {
    std::vector<Datum> v;
    unpack_into(v);
    return v;
  }
  size_t arity() const;
  // The i-th datum; O(i).
  Datum get(size_t i) const;
  friend bool operator==(RowRef a, RowRef b) { return a.bytes_ == b.bytes_; }

 private:
  std::string_view bytes_;
};

class Row {
 public:
  Row() = default;
  explicit Row(std::string bytes) : bytes_(std::move(bytes)) {}
  // A copy of a borrowed row (one allocation unless it fits the string's inline buffer).
  // Implicit so that state keyed by Row (maps, arrangements) takes a batch's RowRef directly.
  Row(RowRef r) : bytes_(r.bytes()) {}  // NOLINT(google-explicit-constructor)
  // Borrowing view; the Row must outlive it.
  operator RowRef() const { return RowRef(bytes_); }  // NOLINT(google-explicit-constructor)
  static Row pack(std::span<const Datum> datums);

  RowRef ref() const { return RowRef(bytes_); }
  std::string_view bytes() const { return bytes_; }
  std::vector<Datum> unpack() const { return ref().unpack(); }
  void unpack_into(std::vector<Datum>& out) const { ref().unpack_into(out); }
  size_t arity() const { return ref().arity(); }
  Datum get(size_t i) const { return ref().get(i); }
  size_t size_bytes() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  friend bool operator==(const Row& a, const Row& b) { return a.bytes_ == b.bytes_; }
  friend bool operator<(const Row& a, const Row& b) { return a.bytes_ < b.bytes_; }

 private:
  friend class RowPacker;
  std::string bytes_;
};

// An immutable Row shared by its copies when it is large: a plan's literal. Plans are copied
// whole several times between binding and rendering (optimizer passes, the one-shot runner,
// the renderer), and a literal can be as large as a value may be (a folded `repeat('x',
// 540000000)`): with a Row each copy copied its bytes (a 540 MB literal took 13 s of CPU and
// 2.6 GB to plan). Rows up to kInlineBytes stay inline and are copied as a Row is (most are in
// the string's own buffer), so the many small literals of an INSERT's VALUES allocate nothing
// more than before.
class SharedRow {
 public:
  static constexpr size_t kInlineBytes = 256;
  SharedRow() = default;
  SharedRow(Row r) {  // NOLINT(google-explicit-constructor)
    if (r.size_bytes() > kInlineBytes) big_ = std::make_shared<const Row>(std::move(r));
    else inline_ = std::move(r);
  }
  operator RowRef() const { return ref(); }  // NOLINT(google-explicit-constructor)
  RowRef ref() const { return big_ ? big_->ref() : inline_.ref(); }
  std::string_view bytes() const { return ref().bytes(); }
  std::vector<Datum> unpack() const { return ref().unpack(); }
  void unpack_into(std::vector<Datum>& out) const { ref().unpack_into(out); }
  size_t arity() const { return ref().arity(); }
  Datum get(size_t i) const { return ref().get(i); }
  size_t size_bytes() const { return bytes().size(); }
  bool empty() const { return bytes().empty(); }
  friend bool operator==(const SharedRow& a, const SharedRow& b) { return a.bytes() == b.bytes(); }

 private:
  Row inline_;
  std::shared_ptr<const Row> big_;
};

// Appends datums to a row under construction.
class RowPacker {
 public:
  explicit RowPacker(std::string& out) : out_(out) {}
  void push(const Datum& d);
  void push_all(std::span<const Datum> ds) {
    for (const auto& d : ds) push(d);
  }
  // Appends an already packed row's datums.
  void push_packed(RowRef r) { out_.append(r.bytes()); }

 private:
  std::string& out_;
};

// Order of rows by their datums (compare_datums column by column), the order ORDER BY and
// arrangements use. Rows must have the same column types.
int compare_rows(RowRef a, RowRef b);

uint64_t hash_bytes(std::string_view s);

struct RowHash {
  size_t operator()(const Row& r) const { return hash_bytes(r.bytes()); }
  size_t operator()(RowRef r) const { return hash_bytes(r.bytes()); }
};

}  // namespace freshet

template <>
struct std::hash<freshet::Row> {
  size_t operator()(const freshet::Row& r) const { return freshet::hash_bytes(r.bytes()); }
};
