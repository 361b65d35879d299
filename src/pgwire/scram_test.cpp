#include "pgwire/scram.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "common/error.hpp"

namespace freshet::pgwire {
namespace {

// RFC 7677, section 3: user "user", password "pencil".
constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramVerifier rfc_verifier(const char* password = "pencil") {
  return make_scram_verifier(password, *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

TEST(Scram, Rfc7677Example) {
  ScramServer s(rfc_verifier(), kServerNonce);
  EXPECT_EQ(s.handle_client_first(kClientFirst), kServerFirst);
  auto final_message = s.handle_client_final(kClientFinal);
  ASSERT_TRUE(final_message.has_value());
  EXPECT_EQ(*final_message, kServerFinal);
}

TEST(Scram, WrongPasswordFails) {
  ScramServer s(rfc_verifier("pencil2"), kServerNonce);
  s.handle_client_first(kClientFirst);
  EXPECT_FALSE(s.handle_client_final(kClientFinal).has_value());
}

TEST(Scram, MockVerifierNeverSucceeds) {
  ScramServer s(rfc_verifier(), kServerNonce, /*ok_possible=*/false);
  s.handle_client_first(kClientFirst);
  EXPECT_FALSE(s.handle_client_final(kClientFinal).has_value());
}

std::string sqlstate_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const SqlError& e) {
    return e.sqlstate();
  }
  return "none";
}

TEST(Scram, MalformedMessages) {
  for (const char* bad : {"", "x,,n=,r=a", "n,n=,r=a", "n,,r=a", "n,,n=,r=", "n,,n=", "p=tls-server-end-point,,n=,r=a",
                          "n,a=bob,n=,r=a", "n,,m=ext,n=,r=a"}) {
    ScramServer s(rfc_verifier(), kServerNonce);
    EXPECT_NE(sqlstate_of([&] { s.handle_client_first(bad); }), "none") << bad;
  }
  const std::string nonce = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  for (std::string bad : std::vector<std::string>{std::string("c=biws,r=wrong,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                          "c=eSws," + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                          "c=biws," + nonce, "c=biws," + nonce + ",p=abc", "c=biws," + nonce + ",p=!!!!",
                          "r=x,c=biws", std::string("")}) {
    ScramServer s(rfc_verifier(), kServerNonce);
    s.handle_client_first(kClientFirst);
    EXPECT_EQ(sqlstate_of([&] { (void)s.handle_client_final(bad); }), "08P01") << bad;
  }
  ScramServer s(rfc_verifier(), kServerNonce);
  EXPECT_EQ(sqlstate_of([&] { (void)s.handle_client_final(kClientFinal); }), "08P01");
}

TEST(Scram, Base64) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9$").has_value());
  EXPECT_FALSE(base64_decode("Z===").has_value());
  EXPECT_EQ(make_scram_nonce().size(), 24u);
}

}  // namespace
}  // namespace freshet::pgwire
