// Error wording under --sql-dialect materialize (sql_dialect.hpp): where PostgreSQL and
// Materialize word the same error differently, Materialize's words. Only the message changes;
// the SQLSTATE, detail, hint and position stay. A table of patterns over the PostgreSQL text
// (the one place that knows both wordings), applied when the error is sent.
#include "common/sql_dialect.hpp"

#include <regex>
#include <string>
#include <vector>

namespace freshet {
namespace {

struct Rewording {
  std::regex pattern;  // over the whole PostgreSQL message
  std::string replacement;
};

// Materialize's names of types in cast errors (humanized, without PostgreSQL's
// "without time zone").
std::string mz_type_name(std::string t) {
  if (t == "timestamp without time zone") return "timestamp";
  if (t == "time without time zone") return "time";
  return t;
}

const std::vector<Rewording>& rewordings() {
  static const std::vector<Rewording> kTable = [] {
    std::vector<Rewording> t;
    auto add = [&](const char* re, const char* to) { t.push_back({std::regex(re, std::regex::ECMAScript | std::regex::optimize), to}); };
    // Messages the binder, the lowering and the functions already word as Materialize under
    // the dialect (Binder::to_bool, qualified_column_missing, type modifiers, split_part, a
    // scalar subquery's second row) are not listed. The rest:
    // src/sql/src/plan/hir.rs type_as: "<name> clause must have type boolean, not type T",
    // for the conditions checked outside Binder::to_bool (UPDATE/DELETE's WHERE).
    add(R"re(^argument of ([A-Z][A-Z ]*) must be type boolean, not type (.+)$)re", "$1 clause must have type boolean, not type $2");
    add(R"re(^schema "(.*)" already exists$)re", "schema '$1' already exists");
    add(R"re(^database "(.*)" already exists$)re", "database '$1' already exists");
    add(R"re(^window function ([A-Za-z_][A-Za-z0-9_]*) requires an OVER clause$)re", "window function pg_catalog.$1 requires an OVER clause");
    add(R"re(^(?:GROUP BY|SELECT DISTINCT ON) "(.*)" is ambiguous$)re", "column reference \"$1\" is ambiguous");
    add(R"re(^relation "(.*)" does not exist$)re", "unknown catalog item '$1'");
    add(R"re(^invalid (?:source |destination )?encoding name "(.*)"$)re", "invalid encoding name '$1'");
    add(R"re(^window functions are not allowed in JOIN conditions$)re", "window functions are not allowed in ON");
    add(R"re(^DISTINCT is not implemented for window functions$)re", "DISTINCT in window aggregates not yet supported");
    return t;
  }();
  return kTable;
}

}  // namespace

std::string materialize_error_text(const std::string& message) {
  // The patterns match short messages; a long one (a client's long name quoted in it) is left
  // as it is rather than run through std::regex, whose matcher recurses per character.
  if (message.size() > 512) return message;
  static const std::regex kCast(R"re(^cannot cast type (.+) to (.+)$)re");
  std::smatch m;
  if (std::regex_match(message, m, kCast))
    return "CAST does not support casting from " + mz_type_name(m[1].str()) + " to " + mz_type_name(m[2].str());
  for (const Rewording& r : rewordings())
    if (std::regex_match(message, r.pattern)) return std::regex_replace(message, r.pattern, r.replacement);
  return message;
}

}  // namespace freshet
