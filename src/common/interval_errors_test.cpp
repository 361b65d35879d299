// Interval and date/time unit errors: PostgreSQL 15's SQLSTATE and message, plus the DETAIL in
// the words of Materialize's interval.slt and dates-times.slt (src/common/README.md "Text formats").
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/functions.hpp"

namespace freshet {
namespace {

std::string input_error(std::string_view text) {
  try {
    parse_interval(text);
    return "no error";
  } catch (const SqlError& e) {
    return e.sqlstate() + " " + e.message() + " | " + e.detail();
  }
}

// Calls the operator or function `name` on intervals and (for * and /) a float8.
std::string call_error(std::string_view name, bool op, std::vector<Datum> args, std::vector<TypeId> types) {
  auto impls = op ? lookup_operators(name, args.size() == 1) : lookup_functions(name);
  for (const FunctionImpl* f : impls) {
    bool match = f->arg_types.size() == types.size();
    for (size_t i = 0; match && i < types.size(); ++i) match = f->arg_types[i].id == types[i];
    if (!match) continue;
    Arena arena;
    EvalContext ctx;
    ctx.arena = &arena;
    try {
      f->fn(args, ctx);
      return "no error";
    } catch (const SqlError& e) {
      return e.sqlstate() + " " + e.message() + " | " + e.detail();
    }
  }
  return "no such overload";
}

Datum iv(std::string_view text) { return Datum::from_interval(parse_interval(text)); }

TEST(IntervalErrors, InputOverflowNamesTheField) {
  EXPECT_EQ(input_error("2147483648 years"),
            "22015 interval field value out of range: \"2147483648 years\" | Overflows maximum months; cannot exceed "
            "2147483647/-2147483648 months");
  EXPECT_EQ(input_error("2147483647 days 2562047789 hours"),
            "22015 interval field value out of range: \"2147483647 days 2562047789 hours\" | Overflows maximum "
            "microseconds; cannot exceed 9223372036854775807/-9223372036854775808 microseconds");
  EXPECT_EQ(input_error("1 day 2147483647 days"),
            "22015 interval field value out of range: \"1 day 2147483647 days\" | Overflows maximum days; cannot "
            "exceed 2147483647/-2147483648 days");
  EXPECT_EQ(input_error("9223372036854775808 months"),
            "22015 interval field value out of range: \"9223372036854775808 months\" | Unable to parse value "
            "9223372036854775808 as a number: number too large to fit in target type");
  EXPECT_EQ(input_error("2147483647 years"),
            "22008 interval out of range | Overflows maximum months; cannot exceed 2147483647/-2147483648 months");
}

TEST(IntervalErrors, InputSyntax) {
  EXPECT_EQ(input_error("0 foo"), "22007 invalid input syntax for type interval: \"0 foo\" | unknown units foo");
  EXPECT_EQ(input_error("1x2:3.4"), "22007 invalid input syntax for type interval: \"1x2:3.4\" | unknown units x");
  EXPECT_EQ(input_error("1.5 second 42 milliseconds"),
            "22007 invalid input syntax for type interval: \"1.5 second 42 milliseconds\" | Cannot set MILLISECONDS "
            "or MICROSECONDS field if SECOND field has a fraction component");
  EXPECT_EQ(input_error("1 second 2 seconds"), "22007 invalid input syntax for type interval: \"1 second 2 seconds\" | ");
}

TEST(IntervalErrors, ArithmeticNamesTheOperation) {
  using T = TypeId;
  EXPECT_EQ(call_error("*", true, {iv("10 years"), Datum::from_float(9999999999.999999999)}, {T::kInterval, T::kFloat8}),
            "22008 interval out of range | \"10 years * 10000000000\" interval out of range");
  EXPECT_EQ(call_error("/", true, {iv("2147483647 months"), Datum::from_float(0.99)}, {T::kInterval, T::kFloat8}),
            "22008 interval out of range | \"178956970 years 7 months / 0.99\" interval out of range");
  EXPECT_EQ(call_error("+", true, {iv("-1 hours"), iv("-2562047788 hours")}, {T::kInterval, T::kInterval}),
            "22008 interval out of range | \"-01:00:00 + -2562047788:00:00\" interval out of range");
  EXPECT_EQ(call_error("-", true, {iv("-1 months"), iv("-2147483648 months")}, {T::kInterval, T::kInterval}),
            "no error");  // 2147483647 months, as in PostgreSQL 15
  EXPECT_EQ(call_error("-", true, {iv("-2147483648 months")}, {T::kInterval}),
            "22008 interval out of range | \"-178956970 years -8 months\" interval out of range");
  EXPECT_EQ(call_error("justify_hours", false, {iv("2147483647 days 24 hrs")}, {T::kInterval}),
            "22008 interval out of range | \"2147483647 days 24:00:00\" interval out of range");
}

TEST(DatetimeErrors, ExtractUnitTheTypeLacks) {
  using T = TypeId;
  EXPECT_EQ(call_error("date_part", false, {Datum::from_string("MONTH"), Datum::from_time(0)}, {T::kText, T::kTime}),
            "0A000 unit \"month\" not supported for type time without time zone | unit 'month' not supported for "
            "type time");
  EXPECT_EQ(call_error("extract", false, {Datum::from_string("second"), Datum::from_date(0)}, {T::kText, T::kDate}),
            "0A000 unit \"second\" not supported for type date | unit 'seconds' not supported for type date");
  EXPECT_EQ(call_error("date_part", false, {Datum::from_string("foo"), Datum::from_time(0)}, {T::kText, T::kTime}),
            "22023 unit \"foo\" not recognized for type time without time zone | ");
}

}  // namespace
}  // namespace freshet
