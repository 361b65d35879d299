#pragma once
// Metrics primitives for /metrics (src/server/metrics.hpp): a lock-free histogram and the
// writers of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Threads: Histogram::observe from any thread (relaxed atomics, no lock: cheap enough for the
// write path); write_* on the /metrics request's thread. A scrape may see a histogram's
// buckets and its count a few observations apart; Prometheus tolerates that.

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace freshet::metrics {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram).
void write_header(std::string& out, std::string_view name, std::string_view help, std::string_view type);
// "name{k="v",...} value\n", label values escaped (\\, \", \n).
void write_sample(std::string& out, std::string_view name, Labels labels, double value);
void write_sample(std::string& out, std::string_view name, Labels labels, uint64_t value);

class Histogram {
 public:
  static constexpr size_t kMaxBounds = 16;
  // Upper bounds in increasing order (at most kMaxBounds); +Inf is implied.
  Histogram(std::initializer_list<double> bounds);
  void observe(double value);
  // The _bucket (cumulative, with le="+Inf"), _sum and _count samples; no header.
  void write(std::string& out, std::string_view name, Labels labels = {}) const;

 private:
  std::array<double, kMaxBounds> bounds_{};
  size_t n_ = 0;
  std::array<std::atomic<uint64_t>, kMaxBounds + 1> counts_{};  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};  // the sum in units of 1e-9 (seconds -> nanoseconds)
};

}  // namespace freshet::metrics
