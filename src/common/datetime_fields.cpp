#include "common/datetime_fields.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

namespace freshet {
namespace {

enum class FieldKind { kNumber, kDate, kTime, kString, kTz };

struct Field {
  FieldKind kind;
  std::string text;
};

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Words of PostgreSQL's datetktbl (not time zone names): a word followed by a digit or '+'
// that is one of these ends there ("t15:04:05" is `t` then a time); any other word runs on as
// one field ("x15:04:05", a zone name such as "utc+3").
bool is_core_keyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "ad",      "allballs", "am",       "apr",      "april",   "at",        "aug",      "august",   "bc",
      "d",       "dec",      "december", "dow",      "doy",     "epoch",     "feb",      "february", "fri",
      "friday",  "h",        "infinity", "isodow",   "isoyear", "j",         "jan",      "january",  "jul",
      "julian",  "july",     "jun",      "june",     "m",       "mar",       "march",    "may",      "mm",
      "mon",     "monday",   "nov",      "november", "now",     "oct",       "october",  "on",       "pm",
      "s",       "sat",      "saturday", "sep",      "sept",    "september", "sun",      "sunday",   "t",
      "thu",     "thursday", "today",    "tomorrow", "tue",     "tues",      "tuesday",  "wed",      "wednesday",
      "y",       "yesterday", "z",       "zulu"};
  for (std::string_view k : kWords)
    if (k == w) return true;
  return false;
}

// ParseDateTime: split into typed fields; blanks and other punctuation only delimit.
bool split_fields(std::string_view s, std::vector<Field>& out) {
  const size_t n = s.size();
  size_t i = 0;
  auto digit_at = [&](size_t k) { return k < n && is_digit(s[k]); };
  while (i < n) {
    const char c = s[i];
    if (is_blank(c)) {
      ++i;
      continue;
    }
    Field f{FieldKind::kNumber, {}};
    if (is_digit(c)) {
      while (digit_at(i)) f.text += s[i++];
      if (i < n && s[i] == ':') {
        f.kind = FieldKind::kTime;
        while (i < n && (is_digit(s[i]) || s[i] == ':' || s[i] == '.')) f.text += s[i++];
      } else if (i < n && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
        const char delim = s[i];
        f.text += s[i++];
        if (digit_at(i)) {
          f.kind = delim == '.' ? FieldKind::kNumber : FieldKind::kDate;
          while (digit_at(i)) f.text += s[i++];
          if (i < n && s[i] == delim) {  // three fields need the same delimiter twice
            f.kind = FieldKind::kDate;
            while (i < n && (is_digit(s[i]) || s[i] == delim)) f.text += s[i++];
          }
        } else {
          f.kind = FieldKind::kDate;  // an embedded text month
          while (i < n && (is_alnum(s[i]) || s[i] == delim)) f.text += lower(s[i++]);
        }
      }
    } else if (c == '.') {
      f.text += s[i++];
      while (digit_at(i)) f.text += s[i++];
    } else if (is_alpha(c)) {
      f.kind = FieldKind::kString;
      while (i < n && is_alpha(s[i])) f.text += lower(s[i++]);
      bool run_on = false;
      if (i < n && (s[i] == '-' || s[i] == '/' || s[i] == '.')) run_on = true;
      else if (i < n && (s[i] == '+' || is_digit(s[i]))) run_on = !is_core_keyword(f.text);
      if (run_on) {
        f.kind = FieldKind::kDate;
        do {
          f.text += lower(s[i++]);
        } while (i < n && (s[i] == '+' || s[i] == '-' || s[i] == '/' || s[i] == '_' || s[i] == '.' ||
                           s[i] == ':' || is_alnum(s[i])));
      }
    } else if (c == '+' || c == '-') {
      f.text += s[i++];
      while (i < n && is_blank(s[i])) ++i;  // "+   00" is "+00"
      if (!digit_at(i)) return false;        // "+infinity" and the like: the ISO parser's job
      f.kind = FieldKind::kTz;
      while (i < n && (is_digit(s[i]) || s[i] == ':' || s[i] == '.' || s[i] == '-')) f.text += s[i++];
    } else if (std::ispunct(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    } else {
      return false;
    }
    out.push_back(std::move(f));
  }
  return true;
}

constexpr int kYear = 1, kMonth = 2, kDay = 4, kDateMask = kYear | kMonth | kDay;

struct DateAcc {
  int mask = 0;
  long year = 0, month = 0, day = 0;
  bool two_digit_year = false;

  // DecodeNumber with DateOrder MDY: one numeric date field.
  bool add(std::string_view digits) {
    if (digits.empty() || digits.size() > 9) return false;
    long v = 0;
    for (char c : digits) {
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    switch (mask) {
      case 0:
        if (digits.size() >= 3) year = v, mask |= kYear;
        else month = v, mask |= kMonth;
        return true;
      case kYear:
        if (digits.size() == 3) return false;  // a day of the year: not rewritten
        month = v, mask |= kMonth;
        return true;
      case kMonth:
      case kYear | kMonth:
        day = v, mask |= kDay;
        return true;
      case kMonth | kDay:
        year = v, mask |= kYear;
        two_digit_year = digits.size() <= 2;
        return true;
      default:
        return false;
    }
  }
};

}  // namespace

std::optional<std::string> canonical_datetime_fields(std::string_view text) {
  std::vector<Field> fields;
  if (!split_fields(text, fields) || fields.empty() || fields.size() > 16) return std::nullopt;
  DateAcc date;
  std::string time;
  std::string rest;
  bool past_date = false;  // a time or zone seen: no more date fields
  for (size_t k = 0; k < fields.size(); ++k) {
    const Field& f = fields[k];
    switch (f.kind) {
      case FieldKind::kNumber:
        if (past_date || f.text.find('.') != std::string::npos) return std::nullopt;
        if (f.text.size() >= 6) {
          if (date.mask != 0 || f.text.size() != 8) return std::nullopt;  // YYYYMMDD only
          if (!date.add(std::string_view(f.text).substr(0, 4)) || !date.add(std::string_view(f.text).substr(4, 2)) ||
              !date.add(std::string_view(f.text).substr(6, 2)))
            return std::nullopt;
        } else if (!date.add(f.text)) {
          return std::nullopt;
        }
        break;
      case FieldKind::kDate: {
        if (is_alpha(f.text[0])) {  // a zone name such as "america/new_york"
          if (date.mask != 0 && date.mask != kDateMask) return std::nullopt;
          past_date = true;
          rest += ' ';
          rest += f.text;
          break;
        }
        if (past_date) return std::nullopt;
        // DecodeDate: the parts between the delimiters, and the date must be complete after them.
        char delim = 0;
        for (char c : f.text)
          if (!is_digit(c)) {
            delim = c;
            break;
          }
        size_t start = 0;
        while (start <= f.text.size()) {
          size_t end = f.text.find(delim, start);
          if (end == std::string::npos) end = f.text.size();
          if (!date.add(std::string_view(f.text).substr(start, end - start))) return std::nullopt;
          start = end + 1;
        }
        if (date.mask != kDateMask) return std::nullopt;
        break;
      }
      case FieldKind::kTime:
        if (!time.empty() || (date.mask != 0 && date.mask != kDateMask)) return std::nullopt;
        time = f.text;
        past_date = true;
        break;
      case FieldKind::kString:
        if (f.text == "t") {  // the ISO 8601 separator: a time must follow
          if (k + 1 >= fields.size() || fields[k + 1].kind != FieldKind::kTime) return std::nullopt;
          break;
        }
        [[fallthrough]];
      case FieldKind::kTz:
        if (date.mask != 0 && date.mask != kDateMask) return std::nullopt;
        past_date = true;
        rest += ' ';
        rest += f.text;
        break;
    }
  }
  if (date.mask != 0 && date.mask != kDateMask) return std::nullopt;
  std::string out;
  if (date.mask == kDateMask) {
    long year = date.year;
    if (date.two_digit_year) year += year < 70 ? 2000 : 1900;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", year, date.month, date.day);
    out = buf;
  }
  if (!time.empty()) {
    if (!out.empty()) out += ' ';
    out += time;
  }
  out += rest;
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace freshet
