#include "server/secret_box.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace freshet::server {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/freshet-secretbox.XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d;
}

TEST(SecretBox, SealsAndOpens) {
  std::array<uint8_t, 32> key{};
  key[0] = 7;
  SecretBox box(key);
  std::string sealed = box.seal("hunter2-plaintext", 42);
  EXPECT_EQ(sealed.find("hunter2"), std::string::npos);
  EXPECT_NE(box.seal("hunter2-plaintext", 42), sealed);  // a fresh nonce every time
  auto plain = box.open(sealed, 42);
  ASSERT_TRUE(plain) << plain.status().message();
  EXPECT_EQ(*plain, "hunter2-plaintext");
  auto empty = box.open(box.seal("", 1), 1);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST(SecretBox, RefusesWrongKeyObjectOrTampering) {
  std::array<uint8_t, 32> k1{}, k2{};
  k2[31] = 1;
  SecretBox a(k1), b(k2);
  std::string sealed = a.seal("value", 5);
  EXPECT_FALSE(b.open(sealed, 5));      // another key
  EXPECT_FALSE(a.open(sealed, 6));      // moved to another object
  std::string bad = sealed;
  bad[10] = bad[10] == 'A' ? 'B' : 'A';  // a flipped character
  EXPECT_FALSE(a.open(bad, 5));
  EXPECT_FALSE(a.open("not base64!", 5));
  EXPECT_FALSE(a.open("", 5));
}

TEST(SecretBox, KeyFileIsCreatedOwnerOnlyAndReused) {
  std::string dir = temp_dir();
  std::string path = dir + "/secret.key";
  auto first = SecretBox::open_or_create(path);
  ASSERT_TRUE(first) << first.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  std::string sealed = first->seal("s3cret", 9);
  auto again = SecretBox::open_or_create(path);
  ASSERT_TRUE(again);
  auto plain = again->open(sealed, 9);
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, "s3cret");

  ::chmod(path.c_str(), 0644);  // readable by others: refused
  auto open_to_all = SecretBox::open_or_create(path);
  ASSERT_FALSE(open_to_all);
  EXPECT_NE(open_to_all.status().message().find("readable by group or others"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  std::ofstream(path, std::ios::trunc) << "short";
  EXPECT_FALSE(SecretBox::open_or_create(path));
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace freshet::server
