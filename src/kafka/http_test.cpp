#include "kafka/http.hpp"

#include <gtest/gtest.h>

namespace freshet::kafka {
namespace {

TEST(Http, ParsesRequestHead) {
  auto r = parse_http_head(
      "POST /api/sql?options=%7B%7D&x=a+b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n"
      "Authorization:  Basic eDp5 \r\nConnection: close");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/api/sql");
  EXPECT_EQ(r->query, "options=%7B%7D&x=a+b");
  EXPECT_EQ(r->content_length, 12u);
  EXPECT_TRUE(r->close);
  ASSERT_NE(r->header("authorization"), nullptr);
  EXPECT_EQ(*r->header("authorization"), "Basic eDp5");
  EXPECT_EQ(r->header("x-none"), nullptr);
  EXPECT_EQ(query_param(r->query, "options"), "{}");
  EXPECT_EQ(query_param(r->query, "x"), "a b");
  EXPECT_EQ(query_param(r->query, "y"), std::nullopt);
  // HTTP/1.0 closes unless it asks for keep-alive.
  EXPECT_TRUE(parse_http_head("GET / HTTP/1.0")->close);
  EXPECT_FALSE(parse_http_head("GET / HTTP/1.0\r\nConnection: Keep-Alive")->close);
  EXPECT_FALSE(parse_http_head("GET / HTTP/1.1")->close);
}

TEST(Http, RefusesMalformedHeads) {
  for (const char* bad : {"", "GET", "GET /", "GET / HTTP/2.0", "GET / FTP/1.1", "G(T / HTTP/1.1", "GET  HTTP/1.1",
                          "GET / HTTP/1.1\r\nno colon here", "GET / HTTP/1.1\r\n: empty name",
                          "POST / HTTP/1.1\r\nContent-Length: -1", "POST / HTTP/1.1\r\nContent-Length: 1x",
                          "POST / HTTP/1.1\r\nContent-Length: 9999999999",
                          "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked", "GET /a\x01 HTTP/1.1"}) {
    EXPECT_FALSE(parse_http_head(bad).has_value()) << bad;
  }
  // The same length twice is fine.
  EXPECT_TRUE(parse_http_head("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2").has_value());
}

TEST(Http, UrlDecode) {
  EXPECT_EQ(url_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(url_decode("a+b"), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");  // not escapes: kept
  EXPECT_EQ(url_decode("%e2%82%ac"), "\xe2\x82\xac");
  EXPECT_STREQ(http_reason(404), "Not Found");
}

}  // namespace
}  // namespace freshet::kafka
