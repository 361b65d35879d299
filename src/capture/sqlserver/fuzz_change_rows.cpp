// Fuzz target for the decoding of SQL Server change rows: the input is a sequence of rows of
// cdc.fn_cdc_get_all_changes_<instance> as the client hands them over (text cells or NULL),
// decoded against a table with one column of every mapped type and fed, in order, to one
// ChangeAssembler. Cells: 0x00 = NULL, 0x01 len(1) bytes = a value; rows are separated by
// 0xFF. The first byte picks the resume position. Any input must end in Transactions or an
// error Status, never a crash, an assertion or a sanitizer report; every Transaction must
// carry a position after the resume position and in increasing order.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "capture/sqlserver/change_rows.hpp"

namespace {

using namespace freshet;
using namespace freshet::capture;
using namespace freshet::capture::sqlserver;

CapturedTable table() {
  CapturedTable t;
  t.capture_instance = "dbo_all";
  t.schema.upstream_schema = "dbo";
  t.schema.upstream_name = "all_types";
  t.schema.name = "all_types";
  const char* types[][2] = {{"int", "0"},        {"bigint", "0"},          {"bit", "0"},       {"decimal", "0"},
                            {"money", "0"},      {"float", "0"},           {"real", "0"},      {"nvarchar", "20"},
                            {"char", "4"},       {"date", "0"},            {"time", "0"},      {"datetime2", "0"},
                            {"datetime", "0"},   {"datetimeoffset", "0"},  {"uniqueidentifier", "0"},
                            {"varbinary", "8"},  {"smallint", "0"}};
  int i = 0;
  for (auto& ty : types) {
    RawColumn c{"c" + std::to_string(i++), ty[0], std::atoi(ty[1]), 10, 2, i != 1};
    if (std::string(ty[0]) == "float") c.precision = 53;
    if (std::string(ty[0]).rfind("date", 0) == 0 || std::string(ty[0]) == "time") c.scale = 7;
    auto type = map_type(c, "dbo.all_types");
    if (!type) std::abort();
    t.schema.columns.push_back({c.name, *type, c.nullable});
  }
  t.schema.key = {0};
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const CapturedTable t = table();
  if (size == 0) return 0;
  Position start;
  if (data[0] & 1) {
    auto p = Position::parse("0000002A000000100001:0000002A000000100001");
    if (!p) std::abort();
    start = *p;
  }
  ChangeAssembler a(start);
  Arena arena;
  TextRow row;
  bool failed = false;
  auto end_row = [&] {
    if (failed) return;
    auto c = decode_change_row(t, 0, row, arena);
    row.clear();
    if (!c) return;  // a bad row is an error for the source; keep going to reach more states
    if (!a.add(std::move(*c))) failed = true;
  };
  size_t i = 1;
  while (i < size) {
    uint8_t tag = data[i++];
    if (tag == 0xFF) {
      end_row();
    } else if (tag == 0x00) {
      row.emplace_back(std::nullopt);
    } else {
      if (i >= size) break;
      size_t n = data[i++];
      if (n > size - i) n = size - i;
      row.emplace_back(std::string(reinterpret_cast<const char*>(data + i), n));
      i += n;
    }
    if (row.size() > 64) row.clear();
  }
  if (!row.empty()) end_row();
  if (failed) return 0;
  if (!a.finish()) return 0;
  std::string prev = start.to_string();
  for (const Transaction& txn : a.take()) {
    if (!(txn.position > prev)) std::abort();  // positions strictly increase past the resume point
    prev = txn.position;
    for (const Change& ch : txn.changes)
      if (ch.table != 0) std::abort();
  }
  return 0;
}
