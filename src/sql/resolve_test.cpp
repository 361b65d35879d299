#include "sql/resolve.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace freshet::sql {
namespace {

// Expected types are what PostgreSQL 15's pg_typeof() reports for the same expression.
constexpr Type kUnk = TypeId::kUnknown;
constexpr Type kI2 = TypeId::kInt2;
constexpr Type kI4 = TypeId::kInt4;
constexpr Type kI8 = TypeId::kInt8;
constexpr Type kNum = TypeId::kNumeric;
constexpr Type kF4 = TypeId::kFloat4;
constexpr Type kF8 = TypeId::kFloat8;
constexpr Type kText = TypeId::kText;

std::string op_type(std::string_view op, std::optional<Type> l, Type r) {
  return type_name(resolve_operator(op, l, r).result_type);
}
std::string fn_type(std::string_view name, std::vector<Type> args) {
  return type_name(resolve_function(name, args).result_type);
}
std::string error_of(auto&& f) {
  try {
    f();
  } catch (const SqlError& e) {
    return e.sqlstate() + " " + e.message() + (e.hint().empty() ? "" : " | " + e.hint());
  }
  return "no error";
}

TEST(ResolveTest, Operators) {
  EXPECT_EQ(op_type("+", kI4, kI8), "bigint");
  EXPECT_EQ(op_type("+", kI4, kNum), "numeric");
  EXPECT_EQ(op_type("||", kUnk, kI4), "text");
  EXPECT_EQ(op_type("||", kUnk, kUnk), "text");
  EXPECT_EQ(op_type("+", kI2, kUnk), "smallint");
  EXPECT_EQ(op_type("=", TypeId::kFloat8, kNum), "boolean");
  EXPECT_EQ(resolve_operator("=", kF8, kNum).arg_types[1], kF8);
  EXPECT_EQ(op_type("+", kF4, kI4), "double precision");
  EXPECT_EQ(op_type("-", TypeId::kDate, kI4), "date");
  EXPECT_EQ(op_type("+", TypeId::kDate, TypeId::kInterval), "timestamp without time zone");
  EXPECT_EQ(op_type("+", TypeId::kTimestampTz, kUnk), "timestamp with time zone");
  EXPECT_EQ(op_type("+", TypeId::kTimestamp, kUnk), "timestamp without time zone");
  EXPECT_EQ(op_type("*", kI2, kI2), "smallint");
  EXPECT_EQ(op_type("*", kNum, kI4), "numeric");
  EXPECT_EQ(op_type("*", kF4, kNum), "double precision");
  EXPECT_EQ(op_type("/", kI8, kI2), "bigint");
  EXPECT_EQ(op_type("->", TypeId::kJsonb, kUnk), "jsonb");
  EXPECT_EQ(op_type("||", TypeId::kJsonb, kUnk), "jsonb");
  EXPECT_EQ(op_type("-", std::nullopt, kI4), "integer");
  EXPECT_EQ(op_type("~~", TypeId::kVarchar, kUnk), "boolean");
  EXPECT_EQ(op_type("!=", kText, TypeId::kVarchar), "boolean");
  EXPECT_EQ(op_type("<", TypeId::kDate, TypeId::kTimestampTz), "boolean");
  EXPECT_EQ(resolve_operator("=", kI4, kUnk).arg_types[1], kI4);
}

TEST(ResolveTest, OperatorErrors) {
  EXPECT_EQ(error_of([] { resolve_operator("+", kI4, kText); }),
            "42883 operator does not exist: integer + text | No operator matches the given name and argument types. "
            "You might need to add explicit type casts.");
  EXPECT_EQ(error_of([] { resolve_operator("+", kUnk, kUnk); }),
            "42725 operator is not unique: unknown + unknown | Could not choose a best candidate operator. You might "
            "need to add explicit type casts.");
  EXPECT_EQ(error_of([] { resolve_operator("-", std::nullopt, kUnk); }).substr(0, 40),
            "42725 operator is not unique: - unknown ");
  EXPECT_EQ(error_of([] { resolve_operator("+", Type(TypeId::kDate), kUnk); }).substr(0, 45),
            "42725 operator is not unique: date + unknown ");
  EXPECT_EQ(error_of([] { resolve_operator("||", kI4, kI4); }).substr(0, 46),
            "42883 operator does not exist: integer || inte");
}

TEST(ResolveTest, Functions) {
  EXPECT_EQ(fn_type("round", {kI4}), "double precision");
  EXPECT_EQ(fn_type("round", {kNum, kI4}), "numeric");
  EXPECT_EQ(fn_type("length", {kUnk}), "integer");
  EXPECT_EQ(fn_type("abs", {kI4}), "integer");
  EXPECT_EQ(fn_type("sqrt", {kI4}), "double precision");
  EXPECT_EQ(fn_type("power", {kI4, kI4}), "double precision");
  EXPECT_EQ(fn_type("mod", {kI4, kI4}), "integer");
  EXPECT_EQ(fn_type("trunc", {kNum}), "numeric");
  EXPECT_EQ(fn_type("log", {kI4}), "double precision");
  EXPECT_EQ(fn_type("substr", {kUnk, kI4}), "text");
  EXPECT_EQ(fn_type("position", {kUnk, kUnk}), "integer");
  EXPECT_EQ(fn_type("pg_catalog.extract", {kText, TypeId::kTimestampTz}), "numeric");
  EXPECT_EQ(fn_type("date_part", {kUnk, TypeId::kTimestampTz}), "double precision");
  ResolvedCall c = resolve_function("concat", std::vector<Type>{kI4, kUnk, TypeId::kVarchar});
  EXPECT_EQ(type_name(c.result_type), "text");
  EXPECT_EQ(c.arg_types[0], kText);
  EXPECT_EQ(c.arg_types[2], Type(TypeId::kVarchar));
  EXPECT_EQ(fn_type("now", {}), "timestamp with time zone");
  EXPECT_EQ(fn_type("format_type", {TypeId::kOid, kUnk}), "text");
  EXPECT_EQ(error_of([] { resolve_function("foo", std::vector<Type>{kI4}); }),
            "42883 function foo(integer) does not exist | No function matches the given name and argument types. "
            "You might need to add explicit type casts.");
  EXPECT_EQ(error_of([] { resolve_function("concat", std::vector<Type>{}); }).substr(0, 39),
            "42883 function concat() does not exist ");
}

TEST(ResolveTest, CommonType) {
  EXPECT_EQ(common_type(std::vector<Type>{kI4, kNum}, "UNION"), kNum);
  EXPECT_EQ(common_type(std::vector<Type>{kI4, kF8, kNum}, "UNION"), kF8);
  EXPECT_EQ(common_type(std::vector<Type>{kUnk, kUnk}, "CASE"), kText);
  EXPECT_EQ(common_type(std::vector<Type>{kUnk, kI4}, "CASE"), kI4);
  EXPECT_EQ(common_type(std::vector<Type>{kI4, kI8, kI2}, "VALUES"), kI8);
  // PostgreSQL keeps the first of two mutually coercible types.
  EXPECT_EQ(common_type(std::vector<Type>{TypeId::kVarchar, kText}, "UNION"), Type(TypeId::kVarchar));
  EXPECT_EQ(common_type(std::vector<Type>{kText, TypeId::kVarchar}, "UNION"), kText);
  EXPECT_EQ(common_type(std::vector<Type>{TypeId::kDate, TypeId::kTimestampTz}, "UNION"), Type(TypeId::kTimestampTz));
  EXPECT_EQ(common_type(std::vector<Type>{Type(TypeId::kVarchar, 5), Type(TypeId::kVarchar, 5)}, "UNION"),
            Type(TypeId::kVarchar, 5));
  EXPECT_EQ(error_of([] { common_type(std::vector<Type>{kI4, kText}, "UNION"); }),
            "42804 UNION types integer and text cannot be matched");
  EXPECT_TRUE(can_coerce(TypeId::kInt4, TypeId::kInt8, CastContext::kImplicit));
  EXPECT_FALSE(can_coerce(TypeId::kInt8, TypeId::kInt4, CastContext::kImplicit));
  EXPECT_TRUE(can_coerce(TypeId::kInt8, TypeId::kInt4, CastContext::kAssignment));
  EXPECT_TRUE(can_coerce(TypeId::kInt4, TypeId::kText, CastContext::kAssignment));
  EXPECT_FALSE(can_coerce(TypeId::kText, TypeId::kInt4, CastContext::kAssignment));
  EXPECT_TRUE(can_coerce(TypeId::kText, TypeId::kInt4, CastContext::kExplicit));
}

}  // namespace
}  // namespace freshet::sql
