#include "sql/cse.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "common/stack_guard.hpp"

namespace freshet::sql {

using dataflow::AggregateExpr;
using dataflow::RelExpr;
using dataflow::RelKind;
using dataflow::ScalarExpr;
using dataflow::ScalarKind;

namespace {

// Bindings made per plan at most: each one is a pass over the plan.
constexpr size_t kMaxBindings = 64;
// The names of the bindings made here: above the lowering's (2^40 and up) and the binder's
// recursive ones (from 0), and above any id already in the plan.
constexpr uint64_t kFirstCseId = uint64_t{1} << 41;

uint64_t mix(uint64_t h, uint64_t v) {
  // boost::hash_combine's mixing, 64-bit.
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 12) + (h >> 4));
}

uint64_t hash_bytes(std::string_view s) { return std::hash<std::string_view>{}(s); }

uint64_t hash_type(const Type& t) { return mix(static_cast<uint64_t>(t.id), static_cast<uint64_t>(static_cast<uint32_t>(t.typmod))); }

uint64_t hash_scalar(const ScalarExpr& e) {
  check_stack_depth();
  uint64_t h = mix(static_cast<uint64_t>(e.kind), hash_type(e.type));
  h = mix(h, e.column);
  if (e.kind == ScalarKind::kLiteral) h = mix(h, hash_bytes(e.literal.bytes()));
  h = mix(h, reinterpret_cast<uintptr_t>(e.fn));
  h = mix(h, reinterpret_cast<uintptr_t>(e.subplan.get()));
  for (const ScalarExpr& a : e.args) h = mix(h, hash_scalar(a));
  return h;
}

bool scalar_lists_equal(const std::vector<ScalarExpr>& a, const std::vector<ScalarExpr>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!dataflow::exprs_equal(a[i], b[i])) return false;
  }
  return true;
}

bool sort_keys_equal(const std::vector<dataflow::SortKey>& a, const std::vector<dataflow::SortKey>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].column != b[i].column || a[i].descending != b[i].descending || a[i].nulls_first != b[i].nulls_first) return false;
  }
  return true;
}

bool aggregates_equal(const AggregateExpr& a, const AggregateExpr& b) {
  return a.kind == b.kind && dataflow::exprs_equal(a.arg, b.arg) && dataflow::exprs_equal(a.separator, b.separator) &&
         scalar_lists_equal(a.order_exprs, b.order_exprs) && sort_keys_equal(a.order_keys, b.order_keys) &&
         a.distinct == b.distinct && a.filter.has_value() == b.filter.has_value() &&
         (!a.filter || dataflow::exprs_equal(*a.filter, *b.filter)) && a.result_type == b.result_type;
}

bool bounds_equal(const dataflow::FrameBound& a, const dataflow::FrameBound& b) {
  return a.kind == b.kind && a.rows == b.rows && a.range == b.range && a.range_type == b.range_type;
}

bool window_funcs_equal(const dataflow::WindowFunc& a, const dataflow::WindowFunc& b) {
  return a.kind == b.kind && a.args == b.args && a.agg_kind == b.agg_kind && a.agg_filter == b.agg_filter &&
         a.ignore_nulls == b.ignore_nulls && a.frame.rows == b.frame.rows && a.frame.groups == b.frame.groups &&
         bounds_equal(a.frame.start, b.frame.start) && bounds_equal(a.frame.end, b.frame.end) &&
         a.frame.exclude == b.frame.exclude && a.result_type == b.result_type;
}

// The fields of one node, without its inputs.
bool nodes_equal(const RelExpr& a, const RelExpr& b) {
  if (a.kind != b.kind || a.column_types != b.column_types || a.inputs.size() != b.inputs.size() ||
      a.collection_id != b.collection_id || a.columns != b.columns || a.group_columns != b.group_columns ||
      a.limit != b.limit || a.offset != b.offset || a.local_ids != b.local_ids || a.local_id != b.local_id ||
      a.recursion_limit.max_iterations != b.recursion_limit.max_iterations ||
      a.recursion_limit.return_at_limit != b.recursion_limit.return_at_limit || a.table_func != b.table_func ||
      a.with_ordinality != b.with_ordinality || a.constant_rows != b.constant_rows || !scalar_lists_equal(a.exprs, b.exprs) ||
      !scalar_lists_equal(a.group_key, b.group_key) || !sort_keys_equal(a.order_by, b.order_by) ||
      a.equivalences.size() != b.equivalences.size() || a.aggregates.size() != b.aggregates.size() ||
      a.temporal_bounds.size() != b.temporal_bounds.size() || a.window_funcs.size() != b.window_funcs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.equivalences.size(); ++i) {
    if (!scalar_lists_equal(a.equivalences[i], b.equivalences[i])) return false;
  }
  for (size_t i = 0; i < a.aggregates.size(); ++i) {
    if (!aggregates_equal(a.aggregates[i], b.aggregates[i])) return false;
  }
  for (size_t i = 0; i < a.temporal_bounds.size(); ++i) {
    if (a.temporal_bounds[i].op != b.temporal_bounds[i].op ||
        !dataflow::exprs_equal(a.temporal_bounds[i].expr, b.temporal_bounds[i].expr)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.window_funcs.size(); ++i) {
    if (!window_funcs_equal(a.window_funcs[i], b.window_funcs[i])) return false;
  }
  return true;
}

// The scalar expressions a node holds itself (not its inputs').
void for_each_own_scalar(const RelExpr& e, const std::function<void(const ScalarExpr&)>& f) {
  for (const ScalarExpr& x : e.exprs) f(x);
  for (const auto& cls : e.equivalences)
    for (const ScalarExpr& x : cls) f(x);
  for (const ScalarExpr& x : e.group_key) f(x);
  for (const AggregateExpr& a : e.aggregates) {
    f(a.arg);
    f(a.separator);
    for (const ScalarExpr& o : a.order_exprs) f(o);
    if (a.filter) f(*a.filter);
  }
  for (const dataflow::TemporalBound& b : e.temporal_bounds) f(b.expr);
}

bool has_volatile(const ScalarExpr& e) {
  if (e.fn != nullptr && e.fn->volatility == Volatility::kVolatile) return true;
  for (const ScalarExpr& a : e.args) {
    if (has_volatile(a)) return true;
  }
  return false;
}

// What one pass learns about a node (and its subtree).
struct Info {
  RelExpr* node = nullptr;
  uint64_t hash = 0;
  size_t size = 0;                  // nodes in the subtree
  bool shareable = false;           // may be bound (see cse.hpp)
};

class Pass {
 public:
  // Analyses `root` and returns the occurrences of the largest shareable subplan that occurs
  // at least twice (empty when there is none).
  std::vector<RelExpr*> largest_repeat(RelExpr& root) {
    infos_.clear();
    analyse(root);
    std::unordered_map<uint64_t, std::vector<size_t>> by_hash;
    for (size_t i = 0; i < infos_.size(); ++i) {
      if (infos_[i].shareable) by_hash[infos_[i].hash].push_back(i);
    }
    std::vector<RelExpr*> best;
    size_t best_size = 0;
    size_t best_first = SIZE_MAX;  // the earliest first occurrence among equal sizes
    for (auto& [h, members] : by_hash) {
      if (members.size() < 2) continue;
      std::sort(members.begin(), members.end());
      // Partition by exact equality (a hash collision splits a group).
      std::vector<bool> taken(members.size(), false);
      for (size_t i = 0; i < members.size(); ++i) {
        if (taken[i]) continue;
        const Info& a = infos_[members[i]];
        if (a.size < best_size || (a.size == best_size && members[i] > best_first)) continue;
        std::vector<RelExpr*> same{a.node};
        for (size_t k = i + 1; k < members.size(); ++k) {
          if (taken[k] || infos_[members[k]].size != a.size) continue;
          if (cse_detail::rels_equal(*a.node, *infos_[members[k]].node)) {
            taken[k] = true;
            same.push_back(infos_[members[k]].node);
          }
        }
        if (same.size() >= 2) {
          best = std::move(same);
          best_size = a.size;
          best_first = members[i];
        }
      }
    }
    return best;
  }

 private:
  struct Sub {
    uint64_t hash = 0;
    size_t size = 0;
    bool costly = false;    // holds an operator worth sharing
    bool blocked = false;   // a volatile function, a kLetRec
    std::vector<uint64_t> free_locals;
  };

  Sub analyse(RelExpr& e) {
    check_stack_depth();
    Sub s;
    s.size = 1;
    if (e.kind == RelKind::kLetRec) {
      // Not looked into: its bindings are iterated, and what it reads from outside it is
      // rendered by the recursion operator itself.
      s.blocked = true;
      s.hash = mix(static_cast<uint64_t>(e.kind), e.inputs.size());
      collect_free_locals(e, s.free_locals);
      return s;
    }
    uint64_t h = mix(static_cast<uint64_t>(e.kind), e.column_types.size());
    for (const Type& t : e.column_types) h = mix(h, hash_type(t));
    h = mix(h, e.collection_id);
    h = mix(h, e.local_id);
    h = mix(h, e.constant_rows.size());
    for (uint32_t c : e.columns) h = mix(h, c);
    for (uint32_t c : e.group_columns) h = mix(h, c);
    for (uint64_t id : e.local_ids) h = mix(h, id);
    for_each_own_scalar(e, [&](const ScalarExpr& x) {
      h = mix(h, hash_scalar(x));
      s.blocked = s.blocked || has_volatile(x);
    });
    for (const AggregateExpr& a : e.aggregates) h = mix(h, static_cast<uint64_t>(a.kind));
    switch (e.kind) {
      case RelKind::kReduce:
      case RelKind::kDistinct:
      case RelKind::kTopK:
      case RelKind::kThreshold:
      case RelKind::kWindow:
      case RelKind::kFlatMap:
        s.costly = true;
        break;
      case RelKind::kJoin:
        s.costly = e.inputs.size() >= 2;
        break;
      case RelKind::kGetLocal:
        s.free_locals.push_back(e.local_id);
        break;
      default:
        break;
    }
    const size_t index = infos_.size();
    infos_.push_back(Info{&e, 0, 0, false});
    for (RelExpr& in : e.inputs) {
      Sub c = analyse(in);
      h = mix(h, c.hash);
      s.size += c.size;
      s.costly = s.costly || c.costly;
      s.blocked = s.blocked || c.blocked;
      s.free_locals.insert(s.free_locals.end(), c.free_locals.begin(), c.free_locals.end());
    }
    if (e.kind == RelKind::kLet) {
      const uint64_t bound = e.local_ids.at(0);
      std::erase(s.free_locals, bound);
    }
    std::sort(s.free_locals.begin(), s.free_locals.end());
    s.free_locals.erase(std::unique(s.free_locals.begin(), s.free_locals.end()), s.free_locals.end());
    s.hash = h;
    Info& info = infos_[index];
    info.hash = h;
    info.size = s.size;
    info.shareable = s.costly && !s.blocked && s.free_locals.empty();
    return s;
  }

  // The locals a kLetRec reads that it does not bind.
  static void collect_free_locals(const RelExpr& e, std::vector<uint64_t>& out) {
    std::vector<uint64_t> found;
    std::function<void(const RelExpr&)> walk = [&](const RelExpr& x) {
      check_stack_depth();
      if (x.kind == RelKind::kGetLocal) found.push_back(x.local_id);
      for (const RelExpr& in : x.inputs) walk(in);
    };
    walk(e);
    std::vector<uint64_t> bound;
    std::function<void(const RelExpr&)> binders = [&](const RelExpr& x) {
      if (x.kind == RelKind::kLet || x.kind == RelKind::kLetRec) bound.insert(bound.end(), x.local_ids.begin(), x.local_ids.end());
      for (const RelExpr& in : x.inputs) binders(in);
    };
    binders(e);
    for (uint64_t id : found) {
      if (std::find(bound.begin(), bound.end(), id) == bound.end()) out.push_back(id);
    }
  }

  std::vector<Info> infos_;
};

uint64_t max_local_id(const RelExpr& e) {
  check_stack_depth();
  uint64_t m = e.kind == RelKind::kGetLocal ? e.local_id : 0;
  for (uint64_t id : e.local_ids) m = std::max(m, id);
  for (const RelExpr& in : e.inputs) m = std::max(m, max_local_id(in));
  return m;
}

}  // namespace

namespace cse_detail {
bool rels_equal(const RelExpr& a, const RelExpr& b) {
  check_stack_depth();
  if (!nodes_equal(a, b)) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (!rels_equal(a.inputs[i], b.inputs[i])) return false;
  }
  return true;
}
}  // namespace cse_detail

RelExpr bind_common_subexpressions(RelExpr plan) {
  uint64_t next_id = std::max(kFirstCseId, max_local_id(plan) + 1);
  Pass pass;
  for (size_t made = 0; made < kMaxBindings; ++made) {
    std::vector<RelExpr*> occurrences = pass.largest_repeat(plan);
    if (occurrences.empty()) break;
    // The occurrences are disjoint subtrees (equal trees cannot nest): replacing one leaves
    // the others where they are.
    RelExpr value = *occurrences[0];
    const uint64_t id = next_id++;
    for (RelExpr* o : occurrences) {
      RelExpr get;
      get.kind = RelKind::kGetLocal;
      get.local_id = id;
      get.column_types = o->column_types;
      *o = std::move(get);
    }
    // Bound around everything: the value reads no local of the plan, and bindings made
    // earlier (whose values may now read this one) are inside it.
    RelExpr let;
    let.kind = RelKind::kLet;
    let.local_ids = {id};
    let.column_types = plan.column_types;
    let.inputs.push_back(std::move(value));
    let.inputs.push_back(std::move(plan));
    plan = std::move(let);
  }
  return plan;
}

}  // namespace freshet::sql
