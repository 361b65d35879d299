#pragma once
// Errors. Three kinds travel three paths (STYLE.md):
//  * the user's mistake (bad SQL, unknown table, division by zero, a malformed message) is a
//    SqlError thrown from the SQL front end or expression evaluation and caught at the session
//    boundary, where it becomes an ErrorResponse with its SQLSTATE. Exceptions rather than
//    Result here because evaluation errors arise deep inside expression trees and operators
//    and must abort the whole statement; the statement's work is discarded as a unit.
//  * the world's failure (I/O, a dropped connection) is a [[nodiscard]] Status / Result<T>.
//  * our bug is FRESHET_ASSERT, which stays on in optimized builds.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace freshet {

namespace sqlstate {
inline constexpr const char* kSuccessfulCompletion = "00000";
inline constexpr const char* kWarning = "01000";
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kCardinalityViolation = "21000";
inline constexpr const char* kDataException = "22000";
inline constexpr const char* kStringDataRightTruncation = "22001";
inline constexpr const char* kNumericValueOutOfRange = "22003";
inline constexpr const char* kNullValueNotAllowed = "22004";
inline constexpr const char* kInvalidDatetimeFormat = "22007";
inline constexpr const char* kDatetimeFieldOverflow = "22008";
inline constexpr const char* kDivisionByZero = "22012";
inline constexpr const char* kIntervalFieldOverflow = "22015";
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kInvalidRegularExpression = "2201B";
inline constexpr const char* kInvalidRowCountInLimitClause = "2201W";
inline constexpr const char* kInvalidRowCountInResultOffsetClause = "2201X";
inline constexpr const char* kInvalidTextRepresentation = "22P02";
inline constexpr const char* kInvalidBinaryRepresentation = "22P03";
inline constexpr const char* kBadCopyFileFormat = "22P04";
inline constexpr const char* kCharacterNotInRepertoire = "22021";
inline constexpr const char* kInvalidJsonText = "22032";
inline constexpr const char* kIntegrityConstraintViolation = "23000";
inline constexpr const char* kNotNullViolation = "23502";
inline constexpr const char* kUniqueViolation = "23505";
inline constexpr const char* kInvalidCursorState = "24000";
inline constexpr const char* kInvalidTransactionState = "25000";
inline constexpr const char* kActiveSqlTransaction = "25001";
inline constexpr const char* kNoActiveSqlTransaction = "25P01";
inline constexpr const char* kInFailedSqlTransaction = "25P02";
inline constexpr const char* kReadOnlySqlTransaction = "25006";
inline constexpr const char* kInvalidSqlStatementName = "26000";
inline constexpr const char* kInvalidAuthorizationSpecification = "28000";
inline constexpr const char* kInvalidPassword = "28P01";
inline constexpr const char* kDependentObjectsStillExist = "2BP01";
inline constexpr const char* kInvalidCursorName = "34000";
inline constexpr const char* kInvalidCatalogName = "3D000";  // an unknown database
inline constexpr const char* kInvalidSchemaName = "3F000";
inline constexpr const char* kSerializationFailure = "40001";
inline constexpr const char* kSyntaxErrorOrAccessRuleViolation = "42000";
inline constexpr const char* kSyntaxError = "42601";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kGroupingError = "42803";
inline constexpr const char* kWindowingError = "42P20";
inline constexpr const char* kInvalidRecursion = "42P19";
inline constexpr const char* kDatatypeMismatch = "42804";
inline constexpr const char* kWrongObjectType = "42809";
inline constexpr const char* kUndefinedColumn = "42703";
inline constexpr const char* kUndefinedFunction = "42883";
inline constexpr const char* kUndefinedTable = "42P01";
inline constexpr const char* kUndefinedParameter = "42P02";
inline constexpr const char* kUndefinedObject = "42704";
inline constexpr const char* kDuplicateColumn = "42701";
inline constexpr const char* kDuplicateCursor = "42P03";
inline constexpr const char* kDuplicateDatabase = "42P04";
inline constexpr const char* kDuplicateSchema = "42P06";
inline constexpr const char* kReservedName = "42939";
inline constexpr const char* kDuplicatePreparedStatement = "42P05";
inline constexpr const char* kDuplicateObject = "42710";
inline constexpr const char* kDuplicateTable = "42P07";
inline constexpr const char* kDuplicateAlias = "42712";
inline constexpr const char* kAmbiguousColumn = "42702";
inline constexpr const char* kAmbiguousFunction = "42725";
inline constexpr const char* kAmbiguousParameter = "42P08";
inline constexpr const char* kIndeterminateDatatype = "42P18";
inline constexpr const char* kInvalidColumnReference = "42P10";
inline constexpr const char* kInvalidObjectDefinition = "42P17";
inline constexpr const char* kInvalidTableDefinition = "42P16";
inline constexpr const char* kCannotCoerce = "42846";
inline constexpr const char* kInvalidName = "42602";
inline constexpr const char* kProgramLimitExceeded = "54000";
inline constexpr const char* kStatementTooComplex = "54001";
inline constexpr const char* kObjectNotInPrerequisiteState = "55000";
inline constexpr const char* kObjectInUse = "55006";
inline constexpr const char* kQueryCanceled = "57014";
inline constexpr const char* kAdminShutdown = "57P01";
inline constexpr const char* kConnectionException = "08000";
inline constexpr const char* kProtocolViolation = "08P01";
inline constexpr const char* kTooManyConnections = "53300";
inline constexpr const char* kOutOfMemory = "53200";
inline constexpr const char* kIoError = "58030";
inline constexpr const char* kInternalError = "XX000";
}  // namespace sqlstate

// A user-facing error with a PostgreSQL SQLSTATE.
class SqlError : public std::exception {
 public:
  SqlError(std::string sqlstate, std::string message, int position = 0)
      : sqlstate_(std::move(sqlstate)), message_(std::move(message)), position_(position) {}

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& message() const { return message_; }
  // 1-based character position in the statement text; 0 when there is none.
  int position() const { return position_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }
  // Where the error happened, as PostgreSQL's CONTEXT line ("COPY t, line 3, column b: ...").
  const std::string& context() const { return context_; }

  SqlError& with_position(int p) { if (position_ == 0) position_ = p; return *this; }
  SqlError& with_detail(std::string d) { detail_ = std::move(d); return *this; }
  SqlError& with_hint(std::string h) { hint_ = std::move(h); return *this; }
  SqlError& with_context(std::string c) { context_ = std::move(c); return *this; }

 private:
  std::string sqlstate_;
  std::string message_;
  int position_ = 0;
  std::string detail_;
  std::string hint_;
  std::string context_;
};

// The world's failure: I/O errors, dropped connections. Must be looked at.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { Status s; s.message_ = std::move(message); s.failed_ = true; return s; }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  bool failed_ = false;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {}     // NOLINT: implicit on purpose
  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] inline void assertion_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "freshet: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace freshet

// Our bug: stays on in optimized builds. User input must never trigger it.
#define FRESHET_ASSERT(expr) \
  ((expr) ? (void)0 : ::freshet::assertion_failed(#expr, __FILE__, __LINE__))
