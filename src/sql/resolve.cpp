#include "sql/resolve.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"

// PostgreSQL's overload resolution (parser/parse_func.c func_get_detail + func_select_candidate,
// parser/parse_oper.c oper_select_candidate, parser/parse_coerce.c select_common_type), over
// the FunctionImpl registry instead of pg_proc/pg_operator.

namespace freshet::sql {
namespace {

constexpr const char* kNoFunctionHint =
    "No function matches the given name and argument types. You might need to add explicit type casts.";
constexpr const char* kNoOperatorHint =
    "No operator matches the given name and argument types. You might need to add explicit type casts.";
constexpr const char* kAmbiguousFunctionHint =
    "Could not choose a best candidate function. You might need to add explicit type casts.";
constexpr const char* kAmbiguousOperatorHint =
    "Could not choose a best candidate operator. You might need to add explicit type casts.";

// A candidate with its declared argument types expanded to the call's arity (variadic).
struct Candidate {
  const FunctionImpl* impl;
  std::vector<TypeId> args;
};

// "any" in a variadic position is declared as kUnknown; it accepts every type.
bool is_any(TypeId declared) { return declared == TypeId::kUnknown; }

bool coercible(TypeId from, TypeId to) { return is_any(to) || can_coerce(from, to, CastContext::kImplicit); }

std::vector<Candidate> candidates_for(std::span<const FunctionImpl* const> impls, size_t nargs) {
  std::vector<Candidate> out;
  for (const FunctionImpl* f : impls) {
    size_t declared = f->arg_types.size();
    if (f->variadic ? nargs < declared : nargs != declared) continue;
    Candidate c{f, {}};
    for (size_t i = 0; i < nargs; ++i) c.args.push_back(f->arg_types[std::min(i, declared - 1)].id);
    out.push_back(std::move(c));
  }
  return out;
}

bool is_preferred_in(TypeCategory category, TypeId t) {
  return type_category(t) == category && type_is_preferred(t);
}

// PostgreSQL's func_select_candidate. Returns nullptr when no unique best candidate exists.
const Candidate* select_candidate(std::vector<Candidate> candidates, std::span<const TypeId> input) {
  size_t nargs = input.size();
  size_t nunknowns = 0;
  for (TypeId t : input)
    if (t == TypeId::kUnknown) ++nunknowns;
  static thread_local std::vector<Candidate> keep_alive;

  auto finish = [&](std::vector<Candidate>& c) -> const Candidate* {
    keep_alive = std::move(c);
    return &keep_alive.front();
  };

  // 1. Most exact matches.
  {
    int best = -1;
    std::vector<Candidate> kept;
    for (auto& c : candidates) {
      int n = 0;
      for (size_t i = 0; i < nargs; ++i)
        if (input[i] != TypeId::kUnknown && c.args[i] == input[i]) ++n;
      if (n > best) {
        best = n;
        kept.clear();
      }
      if (n == best) kept.push_back(c);
    }
    candidates = std::move(kept);
    if (candidates.size() == 1) return finish(candidates);
  }
  // 2. Most positions where the candidate takes the input's type or its category's preferred type.
  {
    int best = -1;
    std::vector<Candidate> kept;
    for (auto& c : candidates) {
      int n = 0;
      for (size_t i = 0; i < nargs; ++i) {
        if (input[i] == TypeId::kUnknown) continue;
        if (c.args[i] == input[i] || is_preferred_in(type_category(input[i]), c.args[i])) ++n;
      }
      if (n > best) {
        best = n;
        kept.clear();
      }
      if (n == best) kept.push_back(c);
    }
    candidates = std::move(kept);
    if (candidates.size() == 1) return finish(candidates);
  }
  if (nunknowns == 0) return nullptr;
  // 3. Unknown inputs: pick a category per position (string wins conflicts), prefer its
  //    preferred type.
  {
    std::vector<TypeCategory> slot_category(nargs, TypeCategory::kUnknown);
    std::vector<bool> slot_has_preferred(nargs, false);
    bool resolved = true;
    for (size_t i = 0; i < nargs && resolved; ++i) {
      if (input[i] != TypeId::kUnknown) continue;
      bool have_conflict = false;
      bool first = true;
      for (auto& c : candidates) {
        TypeCategory cat = type_category(c.args[i]);
        bool pref = type_is_preferred(c.args[i]);
        if (first) {
          slot_category[i] = cat;
          slot_has_preferred[i] = pref;
          first = false;
        } else if (cat == slot_category[i]) {
          slot_has_preferred[i] = slot_has_preferred[i] || pref;
        } else if (cat == TypeCategory::kString) {
          slot_category[i] = cat;
          slot_has_preferred[i] = pref;
        } else {
          have_conflict = true;
        }
      }
      if (have_conflict && slot_category[i] != TypeCategory::kString) resolved = false;
    }
    if (resolved) {
      std::vector<Candidate> kept;
      for (auto& c : candidates) {
        bool keep = true;
        for (size_t i = 0; i < nargs && keep; ++i) {
          if (input[i] != TypeId::kUnknown) continue;
          if (type_category(c.args[i]) != slot_category[i]) keep = false;
          else if (slot_has_preferred[i] && !type_is_preferred(c.args[i])) keep = false;
        }
        if (keep) kept.push_back(c);
      }
      if (kept.size() == 1) return finish(kept);
      if (!kept.empty()) candidates = std::move(kept);
    }
  }
  // 4. Known inputs all of one type: assume the unknowns are that type too.
  if (nunknowns < nargs) {
    TypeId known = TypeId::kUnknown;
    bool same = true;
    for (TypeId t : input) {
      if (t == TypeId::kUnknown) continue;
      if (known == TypeId::kUnknown) known = t;
      else if (known != t) same = false;
    }
    if (same && known != TypeId::kUnknown) {
      std::vector<Candidate> kept;
      for (auto& c : candidates) {
        bool ok = true;
        for (size_t i = 0; i < nargs && ok; ++i) ok = coercible(known, c.args[i]);
        if (ok) kept.push_back(c);
        if (kept.size() > 1) break;
      }
      if (kept.size() == 1) return finish(kept);
    }
  }
  return nullptr;
}

ResolvedCall make_call(const Candidate& c, std::span<const Type> actual) {
  ResolvedCall r;
  r.impl = c.impl;
  r.result_type = c.impl->result_type;
  for (size_t i = 0; i < actual.size(); ++i) {
    TypeId want = c.args[i];
    if (is_any(want)) {
      // "any": strings pass as they are, everything else is cast to text.
      bool keep = is_string_type(actual[i].id);
      r.arg_types.push_back(keep ? actual[i] : Type(TypeId::kText));
    } else if (actual[i].id == want) {
      r.arg_types.push_back(actual[i]);
    } else {
      r.arg_types.push_back(Type(want));
    }
  }
  return r;
}

std::string type_list(std::span<const Type> types) {
  std::string s;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) s += ", ";
    s += type_name(without_typmod(types[i]));  // a list keeps its element type (integer list)
  }
  return s;
}

// Candidates that every input can be implicitly coerced to (func_match_argtypes), then the
// best of them. kind: "function" or "operator".
const Candidate* choose(std::vector<Candidate>& all, std::span<const TypeId> input, bool& ambiguous) {
  ambiguous = false;
  // Exact match.
  for (auto& c : all) {
    bool exact = true;
    for (size_t i = 0; i < input.size() && exact; ++i) exact = c.args[i] == input[i];
    if (exact) return &c;
  }
  std::vector<Candidate> matching;
  for (auto& c : all) {
    bool ok = true;
    for (size_t i = 0; i < input.size() && ok; ++i) ok = coercible(input[i], c.args[i]);
    if (ok) matching.push_back(c);
  }
  if (matching.empty()) return nullptr;
  if (matching.size() == 1) {
    for (auto& c : all)
      if (c.impl == matching[0].impl) return &c;
  }
  const Candidate* best = select_candidate(matching, input);
  if (!best) {
    ambiguous = true;
    return nullptr;
  }
  for (auto& c : all)
    if (c.impl == best->impl) return &c;
  return nullptr;
}

// Materialize's rule where signed and unsigned integers meet (func.rs, typeconv.rs
// guess_best_common_type): an unsigned operand counts as its "near match", uint2 as int4,
// uint4 as int8, uint8 as numeric, so `uint2_col = 13` is int4 = int4 rather than ambiguous.
void near_match_unsigned(std::vector<TypeId>& input) {
  if (std::none_of(input.begin(), input.end(), [](TypeId t) { return is_integer_type(t); })) return;
  for (TypeId& t : input) {
    if (t == TypeId::kUInt2) t = TypeId::kInt4;
    else if (t == TypeId::kUInt4) t = TypeId::kInt8;
    else if (t == TypeId::kUInt8) t = TypeId::kNumeric;
  }
}

}  // namespace

bool can_coerce(TypeId from, TypeId to, CastContext ctx) {
  if (from == to || from == TypeId::kUnknown) return true;
  return cast_exists(from, to, ctx);
}

ResolvedCall resolve_function(std::string_view name, std::span<const Type> arg_types, int position) {
  std::vector<TypeId> input;
  for (const Type& t : arg_types) input.push_back(t.id);
  near_match_unsigned(input);
  auto impls = lookup_functions(name);
  std::vector<Candidate> all = candidates_for(impls, input.size());
  bool ambiguous = false;
  const Candidate* c = choose(all, input, ambiguous);
  std::string shown(name);
  if (shown.starts_with("pg_catalog.")) shown = shown.substr(11);
  if (!c) {
    if (ambiguous) {
      throw SqlError(sqlstate::kAmbiguousFunction,
                     "function " + shown + "(" + type_list(arg_types) + ") is not unique", position)
          .with_hint(kAmbiguousFunctionHint);
    }
    throw SqlError(sqlstate::kUndefinedFunction, "function " + shown + "(" + type_list(arg_types) + ") does not exist",
                   position)
        .with_hint(kNoFunctionHint);
  }
  return make_call(*c, arg_types);
}

ResolvedCall resolve_operator(std::string_view op, std::optional<Type> left, Type right, int position) {
  if (op.starts_with("pg_catalog.")) op.remove_prefix(11);
  if (op == "!=") op = "<>";
  std::vector<Type> actual;
  if (left) actual.push_back(*left);
  actual.push_back(right);
  std::vector<TypeId> input;
  for (const Type& t : actual) input.push_back(t.id);
  near_match_unsigned(input);
  auto impls = lookup_operators(op, !left.has_value());
  std::vector<Candidate> all = candidates_for(impls, input.size());
  const Candidate* c = nullptr;
  // binary_oper_exact: an unknown operand is assumed to be of the other operand's type.
  if (input.size() == 2 && (input[0] == TypeId::kUnknown) != (input[1] == TypeId::kUnknown)) {
    TypeId known = input[0] == TypeId::kUnknown ? input[1] : input[0];
    for (auto& cand : all)
      if (cand.args[0] == known && cand.args[1] == known) c = &cand;
  }
  bool ambiguous = false;
  if (!c) c = choose(all, input, ambiguous);
  if (!c) {
    std::string shown = left ? type_name(without_typmod(*left)) + " " + std::string(op) + " " + type_name(without_typmod(right))
                             : std::string(op) + " " + type_name(without_typmod(right));
    if (ambiguous) {
      throw SqlError(sqlstate::kAmbiguousFunction, "operator is not unique: " + shown, position)
          .with_hint(kAmbiguousOperatorHint);
    }
    throw SqlError(sqlstate::kUndefinedFunction, "operator does not exist: " + shown, position)
        .with_hint(kNoOperatorHint);
  }
  return make_call(*c, actual);
}

Type common_type(std::span<const Type> types_in, std::string_view context, int position) {
  if (types_in.empty()) return Type(TypeId::kText);
  std::vector<TypeId> ids;
  for (const Type& t : types_in) ids.push_back(t.id);
  near_match_unsigned(ids);
  std::vector<Type> matched(types_in.begin(), types_in.end());
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] != matched[i].id) matched[i] = Type(ids[i]);
  std::span<const Type> types = matched;
  // Lists (Materialize): every known input a list; the result is the list of the elements'
  // common type. The typmod of a list is its element type, so it must never be dropped.
  bool any_list = false;
  for (const Type& t : types) any_list |= t.id == TypeId::kList;
  if (any_list) {
    // Named list types (CREATE TYPE ... AS LIST), as Materialize: the inputs' named type when
    // every other input is it or a list with no named type inside; two different named types
    // do not match.
    auto has_named = [](Type t) {
      for (; t.id == TypeId::kList; t = list_element_type(t))
        if (named_type_oid(t) != 0) return true;
      return named_type_oid(t) != 0;
    };
    const Type* named = nullptr;
    for (const Type& t : types)
      if (t.id == TypeId::kList && named_type_oid(t) != 0 && named == nullptr) named = &t;
    if (named != nullptr) {
      for (const Type& t : types) {
        if (t.id == TypeId::kUnknown || t == *named) continue;
        if (t.id != TypeId::kList || has_named(t))
          throw SqlError(sqlstate::kDatatypeMismatch,
                         std::string(context) + " types " + type_name(*named) + " and " + type_name(t) + " cannot be matched",
                         position);
      }
      return *named;
    }
    std::vector<Type> elements;
    const Type* first = nullptr;  // the first known type; a mismatch is named after it, in order
    for (const Type& t : types) {
      if (t.id == TypeId::kUnknown) continue;
      if (first == nullptr) first = &t;
      if ((t.id == TypeId::kList) != (first->id == TypeId::kList))
        throw SqlError(sqlstate::kDatatypeMismatch,
                       std::string(context) + " types " + type_name(*first) + " and " + type_name(t) + " cannot be matched",
                       position);
      if (t.id == TypeId::kList) elements.push_back(list_element_type(t));
    }
    return list_type_of(common_type(elements, context, position));
  }
  // All the same known type (typmod kept when all agree).
  bool all_same = types[0].id != TypeId::kUnknown;
  for (const Type& t : types)
    if (t.id != types[0].id) all_same = false;
  if (all_same) {
    int32_t typmod = types[0].typmod;
    for (const Type& t : types)
      if (t.typmod != typmod) typmod = -1;
    return Type(types[0].id, typmod);
  }
  TypeId ptype = types[0].id;
  TypeCategory pcategory = type_category(ptype);
  bool pispreferred = type_is_preferred(ptype);
  for (size_t i = 1; i < types.size(); ++i) {
    TypeId ntype = types[i].id;
    if (ntype == TypeId::kUnknown || ntype == ptype) continue;
    TypeCategory ncategory = type_category(ntype);
    bool nispreferred = type_is_preferred(ntype);
    if (ptype == TypeId::kUnknown) {
      ptype = ntype;
      pcategory = ncategory;
      pispreferred = nispreferred;
    } else if (ncategory != pcategory) {
      throw SqlError(sqlstate::kDatatypeMismatch,
                     std::string(context) + " types " + type_name(Type(ptype)) + " and " + type_name(Type(ntype)) +
                         " cannot be matched",
                     position);
    } else if (!pispreferred && can_coerce(ptype, ntype, CastContext::kImplicit) &&
               !can_coerce(ntype, ptype, CastContext::kImplicit)) {
      ptype = ntype;
      pcategory = ncategory;
      pispreferred = nispreferred;
    }
  }
  if (ptype == TypeId::kUnknown) return Type(TypeId::kText);
  // verify_common_type: every input must convert implicitly.
  for (const Type& t : types) {
    if (!can_coerce(t.id, ptype, CastContext::kImplicit)) {
      throw SqlError(sqlstate::kCannotCoerce,
                     std::string(context) + " could not convert type " + type_name(Type(t.id)) + " to " +
                         type_name(Type(ptype)),
                     position);
    }
  }
  return Type(ptype);
}

}  // namespace freshet::sql
