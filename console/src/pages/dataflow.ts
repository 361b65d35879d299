// One index, materialized view or view: freshness (its frontier's lag behind the wall clock),
// hydration, arrangement size, and its plan (EXPLAIN) drawn as a graph of operators.
import { ident, sql, SqlError, str, subscribe } from "../api";
import { Chart } from "../chart";
import { badge, fmtBytes, fmtInt, fmtMs, h, progress, replace } from "../dom";
import { drawPlan, parsePlan } from "../plan";
import { store, type Snapshot } from "../store";
import type { Page } from "./page";
import { LiveTable } from "./shell";

const kExplain: Record<string, string> = { index: "INDEX", "materialized-view": "MATERIALIZED VIEW", view: "VIEW" };

export function dataflowPage(name: string): Page {
  // An index's dataflow is its view's (mz_dataflow_frontiers names the view).
  let dataflowName = name;
  const chart = new Chart("Freshness, frontier lag behind the wall clock", "ms", () => store.series(`dataflow:${dataflowName}:lag`));
  const title = h("h1", {}, h("code", {}, name));
  const facts = h("div", { class: "facts" }, h("p", { class: "muted" }, "loading…"));
  const planEl = h("div", { class: "plan-box" }, h("p", { class: "muted" }, "loading the plan…"));
  // Its results as they change: a SUBSCRIBE with the current rows first.
  const watchBtn = h("button", { type: "button", class: "watch" }, "Watch its rows change");
  const watchEl = h("div", { class: "watch-box" }, watchBtn);
  let stopWatch: (() => void) | null = null;
  let relation = name;
  watchBtn.addEventListener("click", () => {
    if (stopWatch) {
      stopWatch();
      stopWatch = null;
      watchBtn.textContent = "Watch its rows change";
      return;
    }
    const live = new LiveTable();
    replace(watchEl, watchBtn, live.el);
    watchBtn.textContent = "Stop";
    stopWatch = subscribe(`SUBSCRIBE ${ident(relation)} WITH (SNAPSHOT = true)`, {
      columns: (cols) => live.setColumns(cols),
      rows: (rows) => live.apply(rows),
      error: (e) => replace(watchEl, watchBtn, h("p", { class: "error" }, e.message)),
      end: () => {},
    });
  });
  const el = h("div", { class: "page dataflow" }, title, facts, h("div", { class: "charts" }, chart.el),
    h("h2", {}, "Plan"), planEl, h("h2", {}, "Rows"), watchEl);
  let explained = false;

  const explain = async (type: string) => {
    explained = true;
    try {
      const [r] = await sql(`EXPLAIN PLAN FOR ${kExplain[type]} ${ident(name)}`);
      const text = r.rows.map((row) => str(row[0])).join("\n");
      const plan = parsePlan(text);
      const nameOf = (id: number) => store.snapshot?.objects.find((o) => o.id === id)?.name;
      replace(planEl, h("div", { class: "plan-scroll" }, drawPlan(plan, nameOf)), plan.notes.length ? h("ul", { class: "notes" }, plan.notes.map((n) => h("li", {}, n))) : null,
        h("details", {}, h("summary", {}, "EXPLAIN text"), h("pre", {}, text)));
    } catch (e) {
      replace(planEl, h("p", { class: "error" }, e instanceof SqlError ? e.message : String(e)));
    }
  };

  return {
    el,
    update(s: Snapshot) {
      const obj = s.objects.find((o) => o.name === name);
      if (!obj || !kExplain[obj.type]) {
        replace(facts, h("p", { class: "error" }, `no index, view or materialized view named ${name}`));
        return;
      }
      if (obj.type === "index") dataflowName = relation = obj.on_name;
      replace(title, obj.type.replace("-", " "), " ", h("code", {}, name), obj.type === "index" ? [" on ", h("code", {}, obj.on_name)] : null);
      if (!explained) void explain(obj.type);
      chart.update();
      const d = s.dataflows.find((x) => x.object_name === dataflowName);
      const a = s.arrangements.find((x) => x.object_name === dataflowName);
      replace(
        facts,
        d
          ? h("dl", {},
              h("dt", {}, "freshness"), h("dd", { class: "freshness" }, fmtMs(d.lag_ms)),
              h("dt", {}, "frontier"), h("dd", {}, new Date(d.frontier_ms).toISOString()),
              h("dt", {}, "hydration"), h("dd", {}, progress(d.hydrated ? 1 : 0, d.hydrated ? "hydrated" : `hydrating, ${d.pending_steps} steps behind`)),
              h("dt", {}, "pending steps"), h("dd", {}, fmtInt(d.pending_steps)),
              h("dt", {}, "arrangement"), h("dd", {}, a ? `${fmtInt(a.records)} records, ${fmtBytes(a.bytes)}` : "–"),
              h("dt", {}, "state"), h("dd", {}, d.error ? [badge("failed"), " ", h("span", { class: "error" }, d.error)] : badge(d.hydrated ? "running" : "hydrating")),
            )
          : h("p", { class: "muted" }, "not maintained: no index keeps this view up to date, so each query computes it."),
      );
    },
    destroy() {
      chart.destroy();
      stopWatch?.();
    },
  };
}
