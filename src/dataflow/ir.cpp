#include "dataflow/ir.hpp"

#include "dataflow/in_set.hpp"
#include "dataflow/columns_needed.hpp"

#include <algorithm>
#include <cctype>

#include "common/format.hpp"
#include "common/stack_guard.hpp"

namespace freshet::dataflow {

namespace {

bool is_symbolic(std::string_view name) {
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') return false;
  }
  return !name.empty();
}

std::string join_args(const std::vector<ScalarExpr>& args, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) s.append(sep);
    s += args[i].to_string();
  }
  return s;
}

std::string literal_text(const Datum& d, Type t) {
  if (d.is_null()) return "null";
  std::string s;
  try {
    format_datum(d, t, s);
  } catch (...) {
    return "<unprintable>";
  }
  if (d.kind() == PhysicalKind::kString || t.id == TypeId::kDate || t.id == TypeId::kTimestamp ||
      t.id == TypeId::kTimestampTz || t.id == TypeId::kTime || t.id == TypeId::kInterval ||
      t.id == TypeId::kUuid) {
    std::string q = "'";
    for (char c : s) {
      if (c == '\'') q += '\'';
      q += c;
    }
    q += '\'';
    return q;
  }
  if (t.id == TypeId::kBool) return d.as_bool() ? "true" : "false";
  return s;
}

std::string type_text(Type t) {
  try {
    return type_name(t);
  } catch (...) {
    return "?";
  }
}

}  // namespace

bool exprs_equal(const ScalarExpr& a, const ScalarExpr& b) {
  check_stack_depth();
  if (a.kind != b.kind || !(a.type == b.type) || a.column != b.column || a.fn != b.fn || a.subplan != b.subplan ||
      a.in_set != b.in_set || !(a.literal == b.literal) || a.args.size() != b.args.size())
    return false;
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!exprs_equal(a.args[i], b.args[i])) return false;
  return true;
}

std::string ScalarExpr::to_string() const {
  check_stack_depth();
  switch (kind) {
    case ScalarKind::kColumn:
      return "#" + std::to_string(column);
    case ScalarKind::kLiteral:
      return literal_text(literal_value(), type);
    case ScalarKind::kParam:
      return "$" + std::to_string(column + 1);
    case ScalarKind::kCall: {
      std::string name = fn != nullptr ? std::string(fn->name) : "?";
      if (is_symbolic(name) && args.size() == 2) {
        return "(" + args[0].to_string() + " " + name + " " + args[1].to_string() + ")";
      }
      if (is_symbolic(name) && args.size() == 1) return "(" + name + args[0].to_string() + ")";
      return name + "(" + join_args(args, ", ") + ")";
    }
    case ScalarKind::kCast:
      return args[0].to_string() + "::" + type_text(type);
    case ScalarKind::kAnd:
      return "(" + join_args(args, " AND ") + ")";
    case ScalarKind::kOr:
      return "(" + join_args(args, " OR ") + ")";
    case ScalarKind::kNot:
      return "NOT " + args[0].to_string();
    case ScalarKind::kIsNull:
      return "(" + args[0].to_string() + " IS NULL)";
    case ScalarKind::kIsNotNull:
      return "(" + args[0].to_string() + " IS NOT NULL)";
    case ScalarKind::kIsTrue:
      return "(" + args[0].to_string() + " IS TRUE)";
    case ScalarKind::kIsFalse:
      return "(" + args[0].to_string() + " IS FALSE)";
    case ScalarKind::kIsDistinct:
      return "(" + args[0].to_string() + " IS DISTINCT FROM " + args[1].to_string() + ")";
    case ScalarKind::kCase: {
      std::string s = "CASE";
      size_t i = 0;
      for (; i + 1 < args.size(); i += 2) {
        s += " WHEN " + args[i].to_string() + " THEN " + args[i + 1].to_string();
      }
      if (i < args.size()) s += " ELSE " + args[i].to_string();
      return s + " END";
    }
    case ScalarKind::kCoalesce:
      return "coalesce(" + join_args(args, ", ") + ")";
    case ScalarKind::kNullIf:
      return "nullif(" + join_args(args, ", ") + ")";
    case ScalarKind::kGreatest:
      return "greatest(" + join_args(args, ", ") + ")";
    case ScalarKind::kLeast:
      return "least(" + join_args(args, ", ") + ")";
    case ScalarKind::kMzNow:
      return "mz_now()";
    case ScalarKind::kArray:
      return "ARRAY[" + join_args(args, ", ") + "]";
    case ScalarKind::kArrayIndex:
      return args[0].to_string() + "[" + args[1].to_string() + "]";
    case ScalarKind::kListFn: {
      static const char* const kNames[] = {"list_length", "list_append",     "list_prepend", "list_cat",     "to_jsonb",
                                           "list_slice",  "list_n_layers",   "list_length_max", "list_remove", "list_contains"};
      return std::string(column < std::size(kNames) ? kNames[column] : "?") + "(" + join_args(args, ", ") + ")";
    }
    case ScalarKind::kArrayCompare:
      return "(" + args[0].to_string() + " " + (fn != nullptr ? std::string(fn->name) : "?") + (column == 0 ? " ANY(" : " ALL(") +
             args[1].to_string() + "))";
    case ScalarKind::kInSet: {
      // The subplan's tree, indented under the expression's line, in braces.
      std::string sub = subplan != nullptr ? subplan->to_string(2) : std::string();
      while (!sub.empty() && sub.back() == '\n') sub.pop_back();
      if (column == kInSetValue) return "(VALUE OF initplan {\n" + sub + "})";
      if (column == kInSetExists) return "(EXISTS initplan {\n" + sub + "})";
      return "(" + args[0].to_string() + " IN hashed subplan {\n" + sub + "})";
    }
  }
  return "?";
}

namespace {

template <typename Rel, typename Scalar>
void visit_scalars(Rel& e, const std::function<void(Scalar&)>& f) {
  for (auto& x : e.exprs) f(x);
  for (auto& cls : e.equivalences)
    for (auto& x : cls) f(x);
  for (auto& x : e.group_key) f(x);
  for (auto& a : e.aggregates) {
    f(a.arg);
    f(a.separator);
    for (auto& x : a.order_exprs) f(x);
    if (a.filter) f(*a.filter);
  }
  for (auto& b : e.temporal_bounds) f(b.expr);
  for (auto& in : e.inputs) visit_scalars<Rel, Scalar>(in, f);
}

template <typename Scalar>
void visit_in_sets(Scalar& e, const std::function<void(Scalar&)>& f) {
  if (e.kind == ScalarKind::kInSet) f(e);
  for (auto& a : e.args) visit_in_sets<Scalar>(a, f);
}

}  // namespace

void for_each_scalar(RelExpr& e, const std::function<void(ScalarExpr&)>& f) { visit_scalars<RelExpr, ScalarExpr>(e, f); }
void for_each_scalar(const RelExpr& e, const std::function<void(const ScalarExpr&)>& f) {
  visit_scalars<const RelExpr, const ScalarExpr>(e, f);
}
void for_each_in_set(RelExpr& e, const std::function<void(ScalarExpr&)>& f) {
  for_each_scalar(e, [&](ScalarExpr& s) { visit_in_sets<ScalarExpr>(s, f); });
}
void for_each_in_set(const RelExpr& e, const std::function<void(const ScalarExpr&)>& f) {
  for_each_scalar(e, [&](const ScalarExpr& s) { visit_in_sets<const ScalarExpr>(s, f); });
}

namespace {

const char* agg_name(AggKind k) {
  switch (k) {
    case AggKind::kCountStar:
      return "count";
    case AggKind::kCount:
      return "count";
    case AggKind::kSum:
      return "sum";
    case AggKind::kAvg:
      return "avg";
    case AggKind::kMin:
      return "min";
    case AggKind::kMax:
      return "max";
    case AggKind::kBoolAnd:
      return "bool_and";
    case AggKind::kBoolOr:
      return "bool_or";
    case AggKind::kStringAgg:
      return "string_agg";
    case AggKind::kArrayAgg:
      return "array_agg";
    case AggKind::kJsonbAgg:
      return "jsonb_agg";
    case AggKind::kJsonbObjectAgg:
      return "jsonb_object_agg";
    case AggKind::kVarSamp:
      return "var_samp";
    case AggKind::kVarPop:
      return "var_pop";
    case AggKind::kStddevSamp:
      return "stddev_samp";
    case AggKind::kStddevPop:
      return "stddev_pop";
  }
  return "?";
}

std::string frame_text(const WindowFrame& f) {
  auto bound = [&](const FrameBound& b) -> std::string {
    std::string n = f.rows || f.groups ? std::to_string(b.rows) : b.range.size_bytes() > 0 ? format_datum(b.range.get(0), b.range_type) : "?";
    switch (b.kind) {
      case FrameBoundKind::kUnboundedPreceding: return "unbounded preceding";
      case FrameBoundKind::kPreceding: return n + " preceding";
      case FrameBoundKind::kCurrentRow: return "current row";
      case FrameBoundKind::kFollowing: return n + " following";
      case FrameBoundKind::kUnboundedFollowing: return "unbounded following";
    }
    return "?";
  };
  static const char* const kExclude[] = {"", " exclude current row", " exclude group", " exclude ties"};
  return std::string(f.rows ? "rows" : f.groups ? "groups" : "range") + " between " + bound(f.start) + " and " + bound(f.end) +
         kExclude[static_cast<int>(f.exclude)];
}

}  // namespace

const char* table_func_name(TableFunc f) {
  switch (f) {
    case TableFunc::kUnnest: return "unnest";
    case TableFunc::kGenerateSeries: return "generate_series";
    case TableFunc::kJsonbArrayElements: return "jsonb_array_elements";
    case TableFunc::kJsonbArrayElementsText: return "jsonb_array_elements_text";
    case TableFunc::kJsonbEach: return "jsonb_each";
    case TableFunc::kJsonbEachText: return "jsonb_each_text";
    case TableFunc::kJsonbObjectKeys: return "jsonb_object_keys";
  }
  return "?";
}

namespace {

std::string list(const std::vector<ScalarExpr>& es) { return join_args(es, ", "); }

std::string uint_list(const std::vector<uint32_t>& cs) {
  std::string s;
  for (size_t i = 0; i < cs.size(); ++i) {
    if (i > 0) s += ", ";
    s += "#" + std::to_string(cs[i]);
  }
  return s;
}

}  // namespace

std::string sort_keys_text(const std::vector<SortKey>& order_by) {
  std::string s;
  for (size_t i = 0; i < order_by.size(); ++i) {
    if (i > 0) s += ", ";
    s += "#" + std::to_string(order_by[i].column) + (order_by[i].descending ? " desc" : " asc");
    s += order_by[i].nulls_first ? " nulls_first" : " nulls_last";
  }
  return s;
}

bool uses_delta_join(const RelExpr& join) {
  return join.kind == RelKind::kJoin && join.inputs.size() >= 3 && join.inputs.size() <= 64;
}

std::string RelExpr::to_string(int indent, bool maintained) const {
  check_stack_depth();
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  std::string s = pad;
  switch (kind) {
    case RelKind::kGet:
      s += "Get " + std::to_string(collection_id);
      break;
    case RelKind::kConstant: {
      s += "Constant";
      if (constant_rows.empty()) {
        s += " <empty>";
        break;
      }
      for (const auto& [row, diff] : constant_rows) {
        std::vector<Datum> ds = row.unpack();
        s += " (";
        for (size_t i = 0; i < ds.size(); ++i) {
          if (i > 0) s += ", ";
          s += literal_text(ds[i], i < column_types.size() ? column_types[i] : Type());
        }
        s += ")";
        if (diff != 1) s += " x" + std::to_string(diff);
      }
      break;
    }
    case RelKind::kMap:
      s += "Map (" + list(exprs) + ")";
      break;
    case RelKind::kFilter:
      s += "Filter " + join_args(exprs, " AND ");
      break;
    case RelKind::kProject:
      s += "Project (" + uint_list(columns) + ")";
      break;
    case RelKind::kJoin: {
      s += "Join";
      if (maintained && uses_delta_join(*this)) s += " (delta join)";
      if (!equivalences.empty()) {
        s += " on=(";
        for (size_t i = 0; i < equivalences.size(); ++i) {
          if (i > 0) s += " AND ";
          s += join_args(equivalences[i], " = ");
        }
        s += ")";
      }
      break;
    }
    case RelKind::kReduce: {
      s += "Reduce";
      if (!group_key.empty()) s += " group_by=[" + list(group_key) + "]";
      s += " aggregates=[";
      for (size_t i = 0; i < aggregates.size(); ++i) {
        if (i > 0) s += ", ";
        const AggregateExpr& a = aggregates[i];
        s += agg_name(a.kind);
        s += "(";
        if (a.distinct) s += "distinct ";
        if (a.kind == AggKind::kCountStar) {
          s += "*";
        } else {
          s += a.arg.to_string();
          if (a.kind == AggKind::kStringAgg || a.kind == AggKind::kJsonbObjectAgg) s += ", " + a.separator.to_string();
        }
        for (size_t k = 0; k < a.order_keys.size(); ++k) {
          s += k == 0 ? " order_by " : ", ";
          s += a.order_exprs[a.order_keys[k].column].to_string() + (a.order_keys[k].descending ? " desc" : "");
        }
        s += ")";
        if (a.filter) s += " filter (" + a.filter->to_string() + ")";
      }
      s += "]";
      break;
    }
    case RelKind::kTopK: {
      s += "TopK";
      if (!group_columns.empty()) s += " group_by=[" + uint_list(group_columns) + "]";
      if (!order_by.empty()) {
        s += " order_by=[";
        for (size_t i = 0; i < order_by.size(); ++i) {
          if (i > 0) s += ", ";
          s += "#" + std::to_string(order_by[i].column) + (order_by[i].descending ? " desc" : " asc");
          s += order_by[i].nulls_first ? " nulls_first" : " nulls_last";
        }
        s += "]";
      }
      if (limit) s += " limit=" + std::to_string(*limit);
      if (offset != 0) s += " offset=" + std::to_string(offset);
      break;
    }
    case RelKind::kUnion:
      s += "Union";
      break;
    case RelKind::kNegate:
      s += "Negate";
      break;
    case RelKind::kThreshold:
      s += "Threshold";
      break;
    case RelKind::kDistinct:
      s += "Distinct";
      break;
    case RelKind::kLetRec: {
      s += "LetRec ids=[";
      for (size_t i = 0; i < local_ids.size(); ++i) s += (i > 0 ? ", l" : "l") + std::to_string(local_ids[i]);
      s += "] limit=" + std::to_string(recursion_limit.max_iterations);
      s += recursion_limit.return_at_limit ? " return" : " error";
      break;
    }
    case RelKind::kGetLocal:
      s += "GetLocal l" + std::to_string(local_id);
      break;
    case RelKind::kLet:
      s += "Let l" + std::to_string(local_ids.at(0));
      break;
    case RelKind::kFlatMap:
      s += std::string("FlatMap ") + table_func_name(table_func) + "(" + list(exprs) + ")";
      if (with_ordinality) s += " with_ordinality";
      break;
    case RelKind::kWindow: {
      s += "Window";
      if (!group_columns.empty()) s += " partition_by=[" + uint_list(group_columns) + "]";
      if (!order_by.empty()) s += " order_by=[" + sort_keys_text(order_by) + "]";
      s += " functions=[";
      for (size_t i = 0; i < window_funcs.size(); ++i) {
        if (i > 0) s += ", ";
        const WindowFunc& f = window_funcs[i];
        static const char* const kNames[] = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
                                             "lag", "lead", "first_value", "last_value", "nth_value"};
        s += f.kind == WindowFuncKind::kAggregate ? agg_name(f.agg_kind) : kNames[static_cast<int>(f.kind)];
        s += "(" + uint_list(f.args) + ")";
        if (f.ignore_nulls) s += " ignore nulls";
        if (f.kind >= WindowFuncKind::kFirstValue) s += " " + frame_text(f.frame);
      }
      s += "]";
      break;
    }
    case RelKind::kTemporalFilter: {
      s += "TemporalFilter";
      static const char* const kOps[] = {"=", "<", "<=", ">", ">="};
      for (size_t i = 0; i < temporal_bounds.size(); ++i) {
        s += i > 0 ? " AND " : " ";
        s += std::string("mz_now() ") + kOps[static_cast<int>(temporal_bounds[i].op)] + " " + temporal_bounds[i].expr.to_string();
      }
      break;
    }
  }
  s += "\n";
  for (const RelExpr& in : inputs) s += in.to_string(indent + 1, maintained && kind != RelKind::kLetRec);
  return s;
}

size_t columns_needed(const ScalarExpr& e) {
  check_stack_depth();
  size_t n = e.kind == ScalarKind::kColumn ? static_cast<size_t>(e.column) + 1 : 0;
  for (const ScalarExpr& a : e.args) n = std::max(n, columns_needed(a));
  return n;
}

size_t columns_needed(const std::vector<ScalarExpr>& es) {
  size_t n = 0;
  for (const ScalarExpr& e : es) n = std::max(n, columns_needed(e));
  return n;
}

}  // namespace freshet::dataflow
