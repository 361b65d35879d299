#include "common/functions.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/format.hpp"

namespace freshet {
namespace {

// Expected values are what PostgreSQL 15 prints for the same call.

struct Arg {
  std::string text;  // the value's text form; "NULL" for NULL
  Type type;
};

class Eval {
 public:
  // Calls the overload of name/op whose declared types equal the arguments' types.
  std::string call(std::string_view name, std::vector<Arg> args, bool op = false) {
    std::span<const FunctionImpl* const> impls =
        op ? lookup_operators(name, args.size() == 1) : lookup_functions(name);
    const FunctionImpl* impl = nullptr;
    for (const FunctionImpl* f : impls) {
      bool match = f->variadic ? args.size() >= f->arg_types.size() : f->arg_types.size() == args.size();
      for (size_t i = 0; match && i < args.size(); ++i) {
        TypeId want = f->arg_types[std::min(i, f->arg_types.size() - 1)].id;
        match = want == args[i].type.id || want == TypeId::kUnknown;
      }
      if (match) impl = f;
    }
    if (!impl) return "no such overload";
    std::vector<Datum> datums;
    bool any_null = false;
    for (auto& a : args) {
      if (a.text == "NULL") {
        datums.push_back(Datum::null());
        any_null = true;
      } else {
        datums.push_back(parse_datum(a.text, a.type, arena_));
      }
    }
    if (impl->strict && any_null) return "NULL";
    EvalContext ctx;
    ctx.arena = &arena_;
    ctx.statement_time_us = 763'000'000'000'000LL;  // 2024-03-06 00:26:40 UTC
    try {
      Datum d = impl->fn(datums, ctx);
      return d.is_null() ? "NULL" : format_datum(d, impl->result_type);
    } catch (const SqlError& e) {
      return e.sqlstate() + " " + e.message();
    }
  }
  std::string op(std::string_view sym, std::vector<Arg> args) { return call(sym, std::move(args), true); }
  std::string cast(std::string_view text, Type from, Type to, bool explicit_cast = true) {
    EvalContext ctx;
    ctx.arena = &arena_;
    try {
      Datum d = cast_datum(parse_datum(text, from, arena_), from, to, ctx, explicit_cast);
      return format_datum(d, to);
    } catch (const SqlError& e) {
      return e.sqlstate() + " " + e.message();
    }
  }

 private:
  Arena arena_;
};

Arg i2(std::string s) { return {std::move(s), TypeId::kInt2}; }
Arg i4(std::string s) { return {std::move(s), TypeId::kInt4}; }
Arg i8(std::string s) { return {std::move(s), TypeId::kInt8}; }
Arg f8(std::string s) { return {std::move(s), TypeId::kFloat8}; }
Arg num(std::string s) { return {std::move(s), TypeId::kNumeric}; }
Arg txt(std::string s) { return {std::move(s), TypeId::kText}; }
Arg date(std::string s) { return {std::move(s), TypeId::kDate}; }
Arg ts(std::string s) { return {std::move(s), TypeId::kTimestamp}; }
Arg tstz(std::string s) { return {std::move(s), TypeId::kTimestampTz}; }
Arg iv(std::string s) { return {std::move(s), TypeId::kInterval}; }
Arg tm(std::string s) { return {std::move(s), TypeId::kTime}; }
Arg jb(std::string s) { return {std::move(s), TypeId::kJsonb}; }

TEST(FunctionsTest, IntegerArithmetic) {
  Eval e;
  EXPECT_EQ(e.op("+", {i4("2147483647"), i4("1")}), "22003 integer out of range");
  EXPECT_EQ(e.op("*", {i2("-32768"), i2("-1")}), "22003 smallint out of range");
  EXPECT_EQ(e.op("+", {i8("9223372036854775807"), i8("1")}), "22003 bigint out of range");
  EXPECT_EQ(e.op("+", {i4("2147483647"), i8("1")}), "2147483648");
  EXPECT_EQ(e.op("/", {i4("5"), i4("2")}), "2");
  EXPECT_EQ(e.op("/", {i4("-5"), i4("2")}), "-2");
  EXPECT_EQ(e.op("%", {i4("-5"), i4("3")}), "-2");
  EXPECT_EQ(e.op("/", {i4("1"), i4("0")}), "22012 division by zero");
  EXPECT_EQ(e.op("%", {i8("-9223372036854775808"), i8("-1")}), "0");
  EXPECT_EQ(e.op("/", {i8("-9223372036854775808"), i8("-1")}), "22003 bigint out of range");
  EXPECT_EQ(e.call("abs", {i4("-2147483648")}), "22003 integer out of range");
  EXPECT_EQ(e.op("-", {i4("5")}), "-5");
}

// Materialize's unsigned integers: expectations from Materialize's
// test/sqllogictest/unsigned_int.slt (PostgreSQL has no such types).
TEST(FunctionsTest, UnsignedIntegers) {
  Eval e;
  const Type u2 = TypeId::kUInt2, u4 = TypeId::kUInt4, u8 = TypeId::kUInt8;
  auto a2 = [&](std::string s) { return Arg{std::move(s), u2}; };
  auto a8 = [&](std::string s) { return Arg{std::move(s), u8}; };
  // Encoding: uint8 is a scale-0 numeric that keeps all 64 bits and orders by value.
  Arena arena;
  Datum max8 = parse_datum("18446744073709551615", u8, arena);
  EXPECT_EQ(max8.kind(), PhysicalKind::kNumeric);
  EXPECT_EQ(format_datum(max8, u8), "18446744073709551615");
  EXPECT_GT(compare_datums(max8, parse_datum("9223372036854775808", u8, arena)), 0);
  EXPECT_EQ(hash_datum(max8), hash_datum(parse_datum("18446744073709551615", u8, arena)));
  EXPECT_EQ(format_datum(parse_datum("65535", u2, arena), u2), "65535");
  EXPECT_EQ(type_name(u4), "uint4");
  EXPECT_EQ(type_oid(TypeId::kUInt8), 16464u);
  // Arithmetic and its overflow errors.
  EXPECT_EQ(e.op("+", {a2("10"), a2("3")}), "13");
  EXPECT_EQ(e.op("+", {a2("65535"), a2("1")}), "22003 \"65535 + 1\" uint2 out of range");
  EXPECT_EQ(e.op("-", {a8("45"), a8("50")}), "22003 \"45 - 50\" uint8 out of range");
  EXPECT_EQ(e.op("*", {a8("18446744073709551615"), a8("2")}), "22003 \"18446744073709551615 * 2\" uint8 out of range");
  EXPECT_EQ(e.op("*", {a8("4294967295"), a8("2")}), "8589934590");
  EXPECT_EQ(e.op("/", {a2("20"), a2("0")}), "22012 division by zero");
  EXPECT_EQ(e.op("%", {a8("13"), a8("5")}), "3");
  EXPECT_EQ(e.op("~", {a2("42")}), "65493");
  EXPECT_EQ(e.op("~", {a8("42")}), "18446744073709551573");
  EXPECT_EQ(e.op("<<", {a8("64"), Arg{"1", u4}}), "128");
  EXPECT_EQ(e.op("<", {a8("9223372036854775807"), a8("9223372036854775808")}), "t");
  // Text input.
  EXPECT_EQ(e.cast("-44", TypeId::kText, u2), "22P02 invalid input syntax for type uint2: invalid digit found in string: \"-44\"");
  EXPECT_EQ(e.cast("18446744073709551616", TypeId::kText, u8),
            "22P02 invalid input syntax for type uint8: number too large to fit in target type: \"18446744073709551616\"");
  // Casts: rounding half away from zero, the rounded value in the error.
  EXPECT_EQ(e.cast("-666", TypeId::kInt4, u2), "22003 \"-666\" uint2 out of range");
  EXPECT_EQ(e.cast("65535.4", TypeId::kNumeric, u2), "65535");
  EXPECT_EQ(e.cast("65535.5", TypeId::kNumeric, u2), "22003 \"65536\" uint2 out of range");
  EXPECT_EQ(e.cast("18446744073709551615.4", TypeId::kNumeric, u8), "18446744073709551615");
  EXPECT_EQ(e.cast("18446744073709553664", TypeId::kFloat8, u8), "18446744073709551615");
  EXPECT_EQ(e.cast("18446744073709553665", TypeId::kFloat8, u8), "22003 \"18446744073709556000\" uint8 out of range");
  EXPECT_EQ(e.cast("-12", TypeId::kFloat8, u8), "22003 \"-12\" uint8 out of range");
  EXPECT_EQ(e.cast("2147483648", u4, TypeId::kInt4), "22003 \"2147483648\" integer out of range");
  EXPECT_EQ(e.cast("9223372036854775808", u8, TypeId::kInt8), "22003 \"9223372036854775808\" bigint out of range");
  EXPECT_EQ(e.cast("18446744073709551615", u8, TypeId::kNumeric), "18446744073709551615");
  EXPECT_TRUE(cast_exists(TypeId::kUInt2, TypeId::kInt4, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kInt4, TypeId::kUInt2, CastContext::kImplicit));
  EXPECT_TRUE(cast_exists(TypeId::kInt4, TypeId::kUInt2, CastContext::kAssignment));
  EXPECT_FALSE(cast_exists(TypeId::kUInt8, TypeId::kInt8, CastContext::kImplicit));
}

// Materialize's mz_timestamp: its type reference's cast table and test/sqllogictest/mztimestamp.slt.
TEST(FunctionsTest, MzTimestamp) {
  Eval e;
  const Type m = TypeId::kMzTimestamp;
  Arena arena;
  Datum max = parse_datum("18446744073709551615", m, arena);
  EXPECT_EQ(max.kind(), PhysicalKind::kNumeric);  // a uint8's Datum
  EXPECT_EQ(format_datum(max, m), "18446744073709551615");
  EXPECT_GT(compare_datums(max, parse_datum("9223372036854775808", m, arena)), 0);
  EXPECT_EQ(type_name(m), "mz_timestamp");
  EXPECT_EQ(type_oid(TypeId::kMzTimestamp), 16552u);
  EXPECT_EQ(e.cast("1990-01-04 11:00", TypeId::kText, m), "631450800000");
  EXPECT_EQ(e.cast("1960-01-01 11:00", TypeId::kText, m),
            "22P02 invalid input syntax for type mz_timestamp: could not parse mz_timestamp: out of range for mz_timestamp: \"1960-01-01 11:00\"");
  EXPECT_EQ(e.cast("-1", TypeId::kInt8, m), "22003 \"-1\" mz_timestamp out of range");
  EXPECT_EQ(e.cast("2.5", TypeId::kNumeric, m), "22003 \"2.5\" mz_timestamp out of range");
  EXPECT_EQ(e.cast("1970-01-02", TypeId::kDate, m), "86400000");
  EXPECT_EQ(e.cast("8210266815600000", m, TypeId::kTimestampTz), "262142-12-31 07:00:00+00");
  EXPECT_EQ(e.cast("8210266898400000", m, TypeId::kTimestamp), "22008 timestamp out of range");
  EXPECT_EQ(e.op("<", {Arg{"2", m}, Arg{"10", m}}), "t");
  EXPECT_TRUE(cast_exists(TypeId::kInt4, TypeId::kMzTimestamp, CastContext::kImplicit));
  EXPECT_TRUE(cast_exists(TypeId::kTimestampTz, TypeId::kMzTimestamp, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kMzTimestamp, TypeId::kTimestamp, CastContext::kImplicit));
  EXPECT_TRUE(cast_exists(TypeId::kMzTimestamp, TypeId::kTimestamp, CastContext::kAssignment));
  EXPECT_TRUE(cast_exists(TypeId::kText, TypeId::kMzTimestamp, CastContext::kAssignment));
  EXPECT_FALSE(cast_exists(TypeId::kMzTimestamp, TypeId::kInt8, CastContext::kExplicit));
}

TEST(FunctionsTest, FloatAndNumeric) {
  Eval e;
  EXPECT_EQ(e.op("/", {f8("1"), f8("0")}), "22012 division by zero");
  EXPECT_EQ(e.op("*", {f8("1e308"), f8("10")}), "22003 value out of range: overflow");
  EXPECT_EQ(e.op("/", {num("1"), num("0")}), "22012 division by zero");
  EXPECT_EQ(e.op("/", {num("1"), num("3")}), "0.33333333333333333333");
  EXPECT_EQ(e.call("round", {f8("2.5")}), "2");
  EXPECT_EQ(e.call("round", {num("-2.5")}), "-3");
  EXPECT_EQ(e.call("round", {num("1234.5678"), i4("-2")}), "1200");
  EXPECT_EQ(e.call("sqrt", {num("2")}), "1.414213562373095");
  EXPECT_EQ(e.call("sqrt", {num("100")}), "10.000000000000000");
  EXPECT_EQ(e.call("exp", {num("1")}), "2.7182818284590452");
  EXPECT_EQ(e.call("ln", {num("2")}), "0.6931471805599453");
  EXPECT_EQ(e.call("power", {num("2"), num("10")}), "1024.0000000000000000");
  EXPECT_EQ(e.call("power", {num("2"), num("0.5")}), "1.4142135623730950");
  EXPECT_EQ(e.call("log", {num("100")}), "2.0000000000000000");
  EXPECT_EQ(e.call("log", {num("2"), num("8")}), "3.0000000000000000");
  EXPECT_EQ(e.call("div", {num("7.5"), num("2")}), "3");
  EXPECT_EQ(e.call("sign", {num("-2.5")}), "-1");
  EXPECT_EQ(e.call("ceil", {num("1.2")}), "2");
  EXPECT_EQ(e.call("floor", {num("-1.2")}), "-2");
  EXPECT_EQ(e.call("trunc", {f8("1.99")}), "1");
  EXPECT_EQ(e.call("exp", {f8("1")}), "2.718281828459045");
  EXPECT_EQ(e.call("mod", {i4("-5"), i4("3")}), "-2");
  EXPECT_EQ(e.call("ln", {f8("0")}), "2201E cannot take logarithm of zero");
}

TEST(FunctionsTest, Casts) {
  Eval e;
  EXPECT_EQ(e.cast("2.5", TypeId::kFloat8, TypeId::kInt4), "2");
  EXPECT_EQ(e.cast("3.5", TypeId::kFloat8, TypeId::kInt4), "4");
  EXPECT_EQ(e.cast("1e10", TypeId::kFloat8, TypeId::kInt4), "22003 integer out of range");
  EXPECT_EQ(e.cast("2.5", TypeId::kNumeric, TypeId::kInt4), "3");
  EXPECT_EQ(e.cast("-2.5", TypeId::kNumeric, TypeId::kInt4), "-3");
  EXPECT_EQ(e.cast("70000", TypeId::kInt4, TypeId::kInt2), "22003 smallint out of range");
  EXPECT_EQ(e.cast("12.345", TypeId::kNumeric, Type(TypeId::kNumeric, (5 << 16) | 2)), "12.35");
  EXPECT_EQ(e.cast("abcdef", TypeId::kText, Type(TypeId::kVarchar, 3)), "abc");
  EXPECT_EQ(e.cast("abcdef", TypeId::kText, Type(TypeId::kVarchar, 3), false),
            "22001 value too long for type character varying(3)");
  EXPECT_EQ(e.cast("0.1", TypeId::kFloat4, TypeId::kNumeric), "0.1");
  EXPECT_EQ(e.cast("1.5", TypeId::kFloat8, TypeId::kNumeric), "1.5");
  EXPECT_EQ(e.cast("12345678", TypeId::kInt4, TypeId::kFloat4), "1.2345678e+07");
  EXPECT_EQ(e.cast("1", TypeId::kInt4, TypeId::kBool), "t");
  EXPECT_EQ(e.cast("true", TypeId::kBool, TypeId::kInt4), "1");
  EXPECT_EQ(e.cast("true", TypeId::kBool, TypeId::kText), "true");
  EXPECT_EQ(e.cast("x", TypeId::kText, Type(TypeId::kBpchar, 3)), "x  ");
  EXPECT_EQ(e.cast("x  ", Type(TypeId::kBpchar, 3), TypeId::kText), "x");
  EXPECT_EQ(e.cast("42", TypeId::kText, TypeId::kInt4), "42");
  EXPECT_EQ(e.cast("4x", TypeId::kText, TypeId::kInt4), "22P02 invalid input syntax for type integer: \"4x\"");
  EXPECT_EQ(e.cast("2024-01-31 12:30:00", TypeId::kTimestamp, TypeId::kDate), "2024-01-31");
  EXPECT_EQ(e.cast("2024-01-31", TypeId::kDate, TypeId::kTimestampTz), "2024-01-31 00:00:00+00");
  EXPECT_EQ(e.cast("5", TypeId::kJsonb, TypeId::kInt4), "5");
  EXPECT_EQ(e.cast("\"x\"", TypeId::kJsonb, TypeId::kInt4), "22023 cannot cast jsonb string to type integer");
  EXPECT_EQ(e.cast("{\"b\":1,\"a\":2}", TypeId::kText, TypeId::kJsonb), "{\"a\": 2, \"b\": 1}");
  EXPECT_TRUE(cast_exists(TypeId::kInt4, TypeId::kInt8, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kInt8, TypeId::kInt4, CastContext::kImplicit));
  EXPECT_TRUE(cast_exists(TypeId::kNumeric, TypeId::kFloat8, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kFloat8, TypeId::kNumeric, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kBool, TypeId::kInt4, CastContext::kAssignment));
  EXPECT_TRUE(cast_exists(TypeId::kDate, TypeId::kTimestamp, CastContext::kImplicit));
  EXPECT_FALSE(cast_exists(TypeId::kUuid, TypeId::kInt4, CastContext::kExplicit));
}

TEST(FunctionsTest, Strings) {
  Eval e;
  EXPECT_EQ(e.call("substr", {txt("hello"), i4("0"), i4("3")}), "he");
  EXPECT_EQ(e.call("lpad", {txt("hi"), i4("5"), txt("xy")}), "xyxhi");
  EXPECT_EQ(e.call("rpad", {txt("abc"), i4("2")}), "ab");
  EXPECT_EQ(e.call("split_part", {txt("a,b,c"), txt(","), i4("-1")}), "c");
  EXPECT_EQ(e.call("initcap", {txt("hello wORLD")}), "Hello World");
  EXPECT_EQ(e.call("md5", {txt("abc")}), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(e.call("to_hex", {i4("255")}), "ff");
  EXPECT_EQ(e.call("to_hex", {i4("-1")}), "ffffffff");
  EXPECT_EQ(e.call("quote_ident", {txt("Foo")}), "\"Foo\"");
  EXPECT_EQ(e.call("quote_ident", {txt("select")}), "\"select\"");
  EXPECT_EQ(e.call("quote_literal", {txt("a'b\\c")}), "E'a''b\\\\c'");
  EXPECT_EQ(e.call("btrim", {txt("xxhixx"), txt("x")}), "hi");
  EXPECT_EQ(e.call("regexp_replace", {txt("hello world"), txt("o"), txt("0"), txt("g")}), "hell0 w0rld");
  EXPECT_EQ(e.call("regexp_replace", {txt("abc"), txt("(b)"), txt("[\\1]")}), "a[b]c");
  EXPECT_EQ(e.call("left", {txt("abcde"), i4("-2")}), "abc");
  EXPECT_EQ(e.call("right", {txt("abcde"), i4("-2")}), "cde");
  EXPECT_EQ(e.call("concat_ws", {txt(","), txt("a"), txt("NULL"), txt("c")}), "a,c");
  EXPECT_EQ(e.call("ascii", {txt("é")}), "233");
  EXPECT_EQ(e.call("chr", {i4("233")}), "é");
  EXPECT_EQ(e.call("repeat", {txt("ab"), i4("3")}), "ababab");
  EXPECT_EQ(e.call("strpos", {txt("héllo"), txt("l")}), "3");
  EXPECT_EQ(e.call("length", {txt("héllo")}), "5");
  EXPECT_EQ(e.call("octet_length", {txt("héllo")}), "6");
  EXPECT_EQ(e.call("reverse", {txt("héllo")}), "olléh");
  EXPECT_EQ(e.op("~~", {txt("a%b"), txt("a\\%b")}), "t");
  EXPECT_EQ(e.op("~~", {txt("axb"), txt("a\\%b")}), "f");
  EXPECT_EQ(e.op("~~", {txt("héllo"), txt("h_llo")}), "t");
  EXPECT_EQ(e.op("~~*", {txt("ABC"), txt("a%")}), "t");
  EXPECT_EQ(e.op("!~~", {txt("abc"), txt("%b%")}), "f");
  EXPECT_EQ(e.op("~", {txt("abc"), txt("^a")}), "t");
  EXPECT_EQ(e.op("~*", {txt("ABC"), txt("^a")}), "t");
  EXPECT_EQ(e.op("||", {txt("a"), i4("1")}), "a1");
  EXPECT_EQ(e.call("regexp_match", {txt("foobarbequebaz"), txt("(bar)(beque)")}), "{bar,beque}");
}

TEST(FunctionsTest, DateTime) {
  Eval e;
  EXPECT_EQ(e.call("date_trunc", {txt("month"), ts("2024-03-15 10:20:30")}), "2024-03-01 00:00:00");
  EXPECT_EQ(e.call("date_trunc", {txt("week"), ts("2024-03-17 10:00")}), "2024-03-11 00:00:00");
  EXPECT_EQ(e.call("date_trunc", {txt("quarter"), ts("2024-05-17")}), "2024-04-01 00:00:00");
  EXPECT_EQ(e.call("date_part", {txt("dow"), date("2024-03-15")}), "5");
  EXPECT_EQ(e.call("extract", {txt("epoch"), tstz("2024-03-15 10:20:30.5+00")}), "1710498030.500000");
  EXPECT_EQ(e.call("extract", {txt("year"), date("2024-03-15")}), "2024");
  EXPECT_EQ(e.call("extract", {txt("second"), tm("10:20:30.5")}), "30.500000");
  EXPECT_EQ(e.call("extract", {txt("doy"), date("2024-03-01")}), "61");
  EXPECT_EQ(e.call("extract", {txt("week"), date("2024-01-01")}), "1");
  EXPECT_EQ(e.call("extract", {txt("isodow"), date("2024-03-17")}), "7");
  EXPECT_EQ(e.call("extract", {txt("century"), date("2000-01-01")}), "20");
  EXPECT_EQ(e.call("extract", {txt("millisecond"), ts("2024-01-01 00:00:01.5")}), "1500.000");
  EXPECT_EQ(e.call("extract", {txt("julian"), date("2024-01-01")}), "2460311");
  EXPECT_EQ(e.call("extract", {txt("epoch"), date("2024-01-01")}), "1704067200");
  EXPECT_EQ(e.call("date_part", {txt("epoch"), ts("2024-01-01 00:00:00.25")}), "1704067200.25");
  EXPECT_EQ(e.call("extract", {txt("epoch"), iv("1 mon")}), "2592000.000000");
  EXPECT_EQ(e.call("extract", {txt("month"), iv("14 mons")}), "2");
  EXPECT_EQ(e.call("date_part", {txt("epoch"), iv("1 day")}), "86400");
  EXPECT_EQ(e.op("+", {date("2024-01-31"), i4("1")}), "2024-02-01");
  EXPECT_EQ(e.op("-", {date("2024-03-01"), date("2024-01-01")}), "60");
  EXPECT_EQ(e.op("+", {date("2024-01-31"), iv("1 month")}), "2024-02-29 00:00:00");
  EXPECT_EQ(e.op("-", {date("2024-03-31"), iv("1 month")}), "2024-02-29 00:00:00");
  EXPECT_EQ(e.op("-", {ts("2024-01-31 10:00"), ts("2024-01-01")}), "30 days 10:00:00");
  EXPECT_EQ(e.op("*", {iv("1 day"), f8("1.5")}), "1 day 12:00:00");
  EXPECT_EQ(e.op("*", {iv("1 mon"), f8("0.5")}), "15 days");
  EXPECT_EQ(e.op("*", {iv("1 day 3 hours"), f8("2.5")}), "2 days 19:30:00");
  EXPECT_EQ(e.op("/", {iv("1 mon"), f8("3")}), "10 days");
  EXPECT_EQ(e.op("/", {iv("-1 day"), f8("7")}), "-03:25:42.857143");
  EXPECT_EQ(e.op("+", {tm("23:00"), iv("2 hours")}), "01:00:00");
  EXPECT_EQ(e.op("-", {tm("10:00"), tm("12:30")}), "-02:30:00");
  EXPECT_EQ(e.op("-", {iv("1 day"), iv("1 hour")}), "1 day -01:00:00");
  EXPECT_EQ(e.op("-", {iv("1 day 2 hours")}), "-1 days -02:00:00");
  EXPECT_EQ(e.call("age", {ts("2024-03-15"), ts("2023-01-20")}), "1 year 1 mon 26 days");
  EXPECT_EQ(e.call("to_timestamp", {f8("1700000000.5")}), "2023-11-14 22:13:20.5+00");
  EXPECT_EQ(e.call("make_date", {i4("2024"), i4("2"), i4("29")}), "2024-02-29");
  EXPECT_EQ(e.call("make_timestamp", {i4("2024"), i4("2"), i4("29"), i4("1"), i4("2"), f8("3.5")}),
            "2024-02-29 01:02:03.5");
  EXPECT_EQ(e.call("justify_hours", {iv("30 hours")}), "1 day 06:00:00");
  EXPECT_EQ(e.call("justify_days", {iv("40 days")}), "1 mon 10 days");
  EXPECT_EQ(e.call("now", {}), "2024-03-06 00:26:40+00");
  EXPECT_EQ(e.call("current_date", {}), "2024-03-06");
  EXPECT_EQ(e.op("<", {date("2024-01-01"), ts("2024-01-01 00:00:01")}), "t");
}

TEST(FunctionsTest, JsonbAndCatalog) {
  Eval e;
  EXPECT_EQ(e.op("->", {jb("{\"a\":{\"b\":[1,2]}}"), txt("a")}), "{\"b\": [1, 2]}");
  EXPECT_EQ(e.op("->>", {jb("{\"a\":{\"b\":[1,2]}}"), txt("a")}), "{\"b\": [1, 2]}");
  EXPECT_EQ(e.op("->", {jb("[1,\"x\",null]"), i4("1")}), "\"x\"");
  EXPECT_EQ(e.op("->>", {jb("[1,\"x\",null]"), i4("1")}), "x");
  EXPECT_EQ(e.op("->>", {jb("[1,\"x\",null]"), i4("2")}), "NULL");
  EXPECT_EQ(e.op("->", {jb("[1,2,3]"), i4("-1")}), "3");
  EXPECT_EQ(e.op("->", {jb("{\"a\":1}"), txt("zz")}), "NULL");
  EXPECT_EQ(e.call("jsonb_typeof", {jb("1.5")}), "number");
  EXPECT_EQ(e.op("@>", {jb("{\"a\":1,\"b\":[1,2]}"), jb("{\"b\":[2]}")}), "t");
  EXPECT_EQ(e.op("@>", {jb("[1,2]"), jb("1")}), "t");
  EXPECT_EQ(e.op("@>", {jb("{\"a\":1}"), jb("{\"a\":2}")}), "f");
  EXPECT_EQ(e.op("||", {jb("{\"a\":1}"), jb("{\"b\":2, \"a\":3}")}), "{\"a\": 3, \"b\": 2}");
  EXPECT_EQ(e.op("#>>", {jb("{\"a\":\"x\"}"), {"{a}", TypeId::kTextArray}}), "x");
  EXPECT_EQ(e.call("format_type", {{"1043", TypeId::kOid}, i4("14")}), "character varying(10)");
  EXPECT_EQ(e.call("format_type", {{"23", TypeId::kOid}, i4("NULL")}), "integer");
  EXPECT_EQ(e.call("format_type", {{"1700", TypeId::kOid}, i4("655366")}), "numeric(10,2)");
  EXPECT_EQ(e.call("format_type", {{"1042", TypeId::kOid}, i4("-1")}), "bpchar");
  EXPECT_EQ(e.call("pg_encoding_to_char", {i4("6")}), "UTF8");
  EXPECT_EQ(e.call("array_to_string", {{"{a,NULL,c}", TypeId::kTextArray}, txt("-")}), "a-c");
  EXPECT_EQ(e.call("array_to_string", {{"{a,NULL,c}", TypeId::kTextArray}, txt("-"), txt("*")}), "a-*-c");
  EXPECT_EQ(e.call("obj_description", {{"1", TypeId::kOid}, {"pg_class", TypeId::kName}}), "NULL");
  EXPECT_EQ(e.call("version", {}).substr(0, 15), "PostgreSQL 15.0");
  EXPECT_EQ(e.call("gen_random_uuid", {}).size(), 36u);
  EXPECT_EQ(e.call("gen_random_uuid", {})[14], '4');
}

TEST(FunctionsTest, Aggregates) {
  AggregateSignature s;
  std::vector<Type> none;
  ASSERT_TRUE(resolve_aggregate("count", none, s));
  EXPECT_EQ(s.kind, AggKind::kCountStar);
  EXPECT_EQ(s.result_type, Type(TypeId::kInt8));
  auto result_of = [&](std::string_view name, std::vector<Type> args) {
    AggregateSignature sig;
    EXPECT_TRUE(resolve_aggregate(name, args, sig));
    return type_name(sig.result_type);
  };
  EXPECT_EQ(result_of("sum", {TypeId::kInt4}), "bigint");
  EXPECT_EQ(result_of("sum", {TypeId::kInt8}), "numeric");
  EXPECT_EQ(result_of("sum", {TypeId::kFloat4}), "real");
  EXPECT_EQ(result_of("sum", {TypeId::kInterval}), "interval");
  EXPECT_EQ(result_of("avg", {TypeId::kInt2}), "numeric");
  EXPECT_EQ(result_of("avg", {TypeId::kFloat4}), "double precision");
  EXPECT_EQ(result_of("max", {TypeId::kVarchar}), "text");
  EXPECT_EQ(result_of("min", {TypeId::kDate}), "date");
  EXPECT_EQ(result_of("count", {TypeId::kText}), "bigint");
  EXPECT_EQ(result_of("string_agg", {TypeId::kText, TypeId::kUnknown}), "text");
  EXPECT_EQ(result_of("every", {TypeId::kBool}), "boolean");
  EXPECT_FALSE(resolve_aggregate("lower", std::vector<Type>{TypeId::kText}, s));
  try {
    resolve_aggregate("sum", std::vector<Type>{TypeId::kText}, s);
    ADD_FAILURE();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "42883");
    EXPECT_EQ(e.message(), "function sum(text) does not exist");
  }
}

}  // namespace
}  // namespace freshet
