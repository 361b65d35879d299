#include "dataflow/oneshot.hpp"

#include "common/error.hpp"
#include "dataflow/reaper.hpp"
#include "dataflow/render.hpp"

namespace freshet::dataflow {

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot,
                                                 EvalContext& ctx, const std::atomic<bool>* cancelled,
                                                 uint64_t max_intermediate_rows) {
  StepLimits limits;
  limits.cancelled = cancelled;
  limits.max_batch_rows = max_intermediate_rows;
  return run_oneshot(plan, snapshot, ctx, limits);
}

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                 const StepLimits& limits) {
  RenderOptions opts;
  opts.keep_state = false;
  opts.limits = limits;
  opts.workers = 0;  // sharded over --workers
  RenderedDataflow r = render(plan, opts);
  // The query runs at its read timestamp: mz_now() is ctx.logical_time_ms.
  const uint64_t t = ctx.logical_time_ms;
  StepContext check{t, ctx, opts.limits};  // limits while the snapshot is copied
  Batch batch;
  try {
    for (const auto& [collection_id, node] : r.sources) {
      batch.clear();
      uint64_t n = 0;
      uint64_t bytes = 0;
      snapshot(collection_id, [&](const Row& row, int64_t diff) {
        bytes += sizeof(Update) + row.size_bytes();
        if ((++n & 0xffff) == 0) {
          check.check_cancelled();
          check.check_memory(bytes);
        }
        batch.push_back(Update{row, t, diff});
      });
      check.live_bytes += bytes;
      r.dataflow->push(node, std::move(batch));
      batch = Batch();
    }
    r.dataflow->step(t, ctx);
  } catch (...) {
    // Cancelled, timed out or over budget: answer now, free the rows on the reaper thread.
    destroy_in_background(std::move(batch));
    destroy_in_background(std::move(r.dataflow));
    throw;
  }
  Batch out = r.dataflow->take_output(r.output);
  std::vector<std::pair<Row, int64_t>> result;
  result.reserve(out.size());
  for (Update& u : out) result.emplace_back(std::move(u.row), u.diff);
  consolidate(result);
  return result;
}

}  // namespace freshet::dataflow
