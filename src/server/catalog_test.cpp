// The catalog's durability contract (catalog.hpp): a change is visible only once the change hook
// (which writes it durably) returned; when the hook throws (a full disk), the catalog in memory is
// exactly as before the call.
#include "server/catalog.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace freshet::server {
namespace {

sql::ObjectInfo table(const std::string& name) {
  sql::ObjectInfo o;
  o.schema = "public";
  o.name = name;
  o.kind = sql::ObjectKind::kTable;
  o.columns.push_back({"a", Type(TypeId::kInt4, -1), true, std::nullopt});
  return o;
}

struct Fixture {
  Catalog c;
  bool fail = false;
  std::vector<std::vector<Catalog::Change>> written;
  Fixture() {
    c.on_change = [this](const std::vector<Catalog::Change>& ch) {
      if (fail) throw SqlError("53100", "could not record a catalog change durably: No space left on device");
      written.push_back(ch);
    };
  }
};

TEST(Catalog, FailedAddLeavesNothing) {
  Fixture f;
  f.fail = true;
  EXPECT_THROW(f.c.add(table("t")), SqlError);
  EXPECT_EQ(f.c.lookup("public", "t"), nullptr);
  f.fail = false;
  const sql::ObjectInfo& t = f.c.add(table("t"));
  EXPECT_NE(f.c.lookup("public", "t"), nullptr);
  EXPECT_NE(f.c.table_data(t.id), nullptr);
  ASSERT_EQ(f.written.size(), 1u);
  EXPECT_EQ(f.written[0][0].first, t.id);
}

TEST(Catalog, FailedRemoveKeepsTheObject) {
  Fixture f;
  uint64_t id = f.c.add(table("t")).id;
  f.fail = true;
  EXPECT_THROW(f.c.remove(id), SqlError);
  EXPECT_NE(f.c.lookup("public", "t"), nullptr);
  EXPECT_NE(f.c.table_data(id), nullptr);
  EXPECT_THROW(f.c.record_removals({id}), SqlError);
  f.fail = false;
  f.c.remove(id);
  EXPECT_EQ(f.c.lookup("public", "t"), nullptr);
}

TEST(Catalog, RecordedRemovalsAreWrittenOnceInOneBatch) {
  Fixture f;
  uint64_t a = f.c.add(table("a")).id;
  uint64_t b = f.c.add(table("b")).id;
  f.written.clear();
  f.c.record_removals({a, b});
  ASSERT_EQ(f.written.size(), 1u);
  EXPECT_EQ(f.written[0].size(), 2u);
  EXPECT_EQ(f.written[0][0].second, nullptr);
  EXPECT_NE(f.c.lookup("public", "a"), nullptr);  // still there until torn down
  f.fail = true;                                  // nothing more is written
  f.c.remove(a);
  f.c.remove(b);
  EXPECT_EQ(f.c.lookup("public", "a"), nullptr);
  EXPECT_EQ(f.c.lookup("public", "b"), nullptr);
}

TEST(Catalog, FailedUpdateRevertsToTheStoredObject) {
  Fixture f;
  sql::ObjectInfo& t = f.c.add(table("t"));
  uint64_t id = t.id, other = f.c.add(table("u")).id;
  t.maintained = true;
  f.fail = true;
  EXPECT_THROW(f.c.updated(id), SqlError);
  EXPECT_FALSE(f.c.find(id)->maintained);  // reverted, same object
  EXPECT_EQ(&t, f.c.find(id));
  EXPECT_THROW(f.c.add_dependency(id, other), SqlError);
  EXPECT_TRUE(f.c.dependencies_of(id).empty());
  f.fail = false;
  f.c.add_dependency(id, other);
  EXPECT_EQ(f.c.dependencies_of(id), std::vector<uint64_t>{other});
}

}  // namespace
}  // namespace freshet::server
