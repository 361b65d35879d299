#pragma once
// Which columns of its input row an expression reads, for operators that decode only the
// prefix of a row they need (common/row_prefix.hpp).

#include <cstddef>
#include <vector>

#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// 1 + the largest input column `e` reads (0 when it reads none): the prefix of a row that
// evaluating it needs decoded. O(size of e).
size_t columns_needed(const ScalarExpr& e);
size_t columns_needed(const std::vector<ScalarExpr>& es);

}  // namespace freshet::dataflow
