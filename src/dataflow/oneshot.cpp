#include "dataflow/oneshot.hpp"

#include "common/error.hpp"
#include "dataflow/render.hpp"

namespace freshet::dataflow {

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot,
                                                 EvalContext& ctx, const std::atomic<bool>* cancelled,
                                                 uint64_t max_intermediate_rows) {
  RenderOptions opts;
  opts.keep_state = false;
  opts.limits.cancelled = cancelled;
  opts.limits.max_batch_rows = max_intermediate_rows;
  RenderedDataflow r = render(plan, opts);
  // The query runs at its read timestamp: mz_now() is ctx.logical_time_ms.
  const uint64_t t = ctx.logical_time_ms;
  for (const auto& [collection_id, node] : r.sources) {
    Batch batch;
    uint64_t n = 0;
    snapshot(collection_id, [&](const Row& row, int64_t diff) {
      if ((++n & 0xffff) == 0 && cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
        throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
      }
      batch.push_back(Update{row, t, diff});
    });
    r.dataflow->push(node, std::move(batch));
  }
  r.dataflow->step(t, ctx);
  Batch out = r.dataflow->take_output(r.output);
  std::vector<std::pair<Row, int64_t>> result;
  result.reserve(out.size());
  for (Update& u : out) result.emplace_back(std::move(u.row), u.diff);
  consolidate(result);
  return result;
}

}  // namespace freshet::dataflow
