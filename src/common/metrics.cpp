#include "common/metrics.hpp"

#include <charconv>
#include <cmath>

namespace freshet::metrics {

namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);  // shortest exact
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void append_labels(std::string& out, Labels labels, std::string_view extra_key = {}, std::string_view extra_value = {}) {
  if (labels.size() == 0 && extra_key.empty()) return;
  out += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (!extra_key.empty()) one(extra_key, extra_value);
  out += '}';
}

}  // namespace

void write_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, Labels labels, double value) {
  out += name;
  append_labels(out, labels);
  out += ' ';
  append_number(out, value);
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, Labels labels, uint64_t value) {
  out += name;
  append_labels(out, labels);
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

Histogram::Histogram(std::initializer_list<double> bounds) {
  for (double b : bounds) {
    if (n_ == kMaxBounds) break;
    bounds_[n_++] = b;
  }
}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < n_ && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0) sum_nanos_.fetch_add(static_cast<uint64_t>(value * 1e9), std::memory_order_relaxed);
}

void Histogram::write(std::string& out, std::string_view name, Labels labels) const {
  std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= n_; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string le;
    if (i == n_) {
      le = "+Inf";
    } else {
      append_number(le, bounds_[i]);
    }
    out += bucket;
    append_labels(out, labels, "le", le);
    out += ' ' + std::to_string(cumulative) + '\n';
  }
  // _count equals the +Inf bucket (the exposition format requires it).
  out += std::string(name) + "_sum";
  append_labels(out, labels);
  out += ' ';
  append_number(out, static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9);
  out += '\n' + std::string(name) + "_count";
  append_labels(out, labels);
  out += ' ' + std::to_string(cumulative) + '\n';
}

}  // namespace freshet::metrics
