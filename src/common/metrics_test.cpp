#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace freshet::metrics {
namespace {

TEST(Metrics, HeaderAndSamplesInTheTextFormat) {
  std::string out;
  write_header(out, "x_total", "Things\nwith a \\ backslash.", "counter");
  write_sample(out, "x_total", {{"a", "q\"uote"}, {"b", "new\nline\\"}}, uint64_t{7});
  write_sample(out, "y", {}, 0.25);
  write_sample(out, "z", {}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out,
            "# HELP x_total Things\\nwith a \\\\ backslash.\n# TYPE x_total counter\n"
            "x_total{a=\"q\\\"uote\",b=\"new\\nline\\\\\"} 7\n"
            "y 0.25\n"
            "z +Inf\n");
}

TEST(Metrics, HistogramIsCumulativeWithSumAndCount) {
  Histogram h{0.001, 0.01, 0.1};
  h.observe(0.0005);
  h.observe(0.001);  // on a bound: counted in that bucket (le)
  h.observe(0.05);
  h.observe(3);
  std::string out;
  h.write(out, "lat_seconds", {{"k", "v"}});
  EXPECT_EQ(out,
            "lat_seconds_bucket{k=\"v\",le=\"0.001\"} 2\n"
            "lat_seconds_bucket{k=\"v\",le=\"0.01\"} 2\n"
            "lat_seconds_bucket{k=\"v\",le=\"0.1\"} 3\n"
            "lat_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{k=\"v\"} 3.0515\n"
            "lat_seconds_count{k=\"v\"} 4\n");
}

TEST(Metrics, HistogramCountsFromManyThreads) {
  Histogram h{1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.observe(0.5);
    });
  for (auto& t : threads) t.join();
  std::string out;
  h.write(out, "h");
  EXPECT_NE(out.find("h_count 40000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_sum 20000\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace freshet::metrics
