// The embedded console: what the build put into the binary. Skipped when the console was not
// built (no node or npm packages at build time).
#include "console/assets.hpp"

#include <gtest/gtest.h>

namespace freshet::console {
namespace {

TEST(ConsoleAssets, IndexReferencesTheBundleAndEveryFileHasAType) {
  if (embedded_files().empty()) GTEST_SKIP() << "console not built";
  const EmbeddedFile* index = find_file("");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index, find_file("index.html"));
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("app.js?v="), std::string_view::npos);
  const EmbeddedFile* js = find_file("app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_GT(js->body.size(), 10'000u);
  ASSERT_NE(find_file("app.css"), nullptr);
  EXPECT_EQ(find_file("app.css")->content_type, "text/css; charset=utf-8");
  for (const auto& f : embedded_files()) EXPECT_FALSE(f.content_type.empty()) << f.path;
}

TEST(ConsoleAssets, UnknownPathsAreNotFound) {
  EXPECT_EQ(find_file("nope.js"), nullptr);
  EXPECT_EQ(find_file("../etc/passwd"), nullptr);
  EXPECT_EQ(find_file("app.js/"), nullptr);
}

}  // namespace
}  // namespace freshet::console
