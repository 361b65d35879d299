#include "storage/crc32c.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace freshet::storage {
namespace {

TEST(Crc32c, Rfc3720Vectors) {
  std::string zeros(32, '\0'), ones(32, '\xff'), inc(32, '\0'), dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<char>(i);
    dec[i] = static_cast<char>(31 - i);
  }
  for (bool hw : {false, true}) {
    auto f = [&](const std::string& s) { return hw ? crc32c(s) : crc32c_extend_portable(0, s.data(), s.size()); };
    EXPECT_EQ(f(zeros), 0x8A9136AAu);
    EXPECT_EQ(f(ones), 0x62A8AB43u);
    EXPECT_EQ(f(inc), 0x46DD794Eu);
    EXPECT_EQ(f(dec), 0x113FDB5Cu);
    EXPECT_EQ(f("123456789"), 0xE3069283u);
  }
}

TEST(Crc32c, ExtendAndImplementationsAgree) {
  std::mt19937_64 rng(1);
  for (int n = 0; n < 300; ++n) {
    std::string s(n * 7 % 1000, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    uint32_t whole = crc32c(s);
    EXPECT_EQ(whole, crc32c_extend_portable(0, s.data(), s.size()));
    size_t cut = s.empty() ? 0 : rng() % s.size();
    EXPECT_EQ(whole, crc32c_extend(crc32c(s.data(), cut), s.data() + cut, s.size() - cut));
  }
}

}  // namespace
}  // namespace freshet::storage
