// One source: its snapshot's progress, throughput and lag over the last hour, upstream
// position and last error, and the tables it feeds.
import { Chart } from "../chart";
import { badge, fmtInt, fmtMs, fmtRate, h, progress, replace, table } from "../dom";
import { store, type Snapshot } from "../store";
import { snapshotFraction } from "./overview";
import type { Page } from "./page";

export function sourcePage(name: string): Page {
  const charts = [
    new Chart("Throughput", "rows/s", () => store.series(`source:${name}:rate`)),
    new Chart("Lag, upstream commit to visible", "ms", () => store.series(`source:${name}:lag`)),
  ];
  const facts = h("div", { class: "facts" }, h("p", { class: "muted" }, "loading…"));
  const tables = h("div");
  const el = h("div", { class: "page source" }, h("h1", {}, "Source ", h("code", {}, name)), facts, h("div", { class: "charts" }, charts.map((c) => c.el)), tables);
  return {
    el,
    update(s: Snapshot) {
      charts.forEach((c) => c.update());
      const src = s.sources.find((x) => x.name === name);
      if (!src) {
        replace(facts, h("p", { class: "error" }, `no source named ${name}`));
        return;
      }
      const fraction = snapshotFraction(src.snapshot_rows_done, src.snapshot_rows_total, src.state);
      replace(
        facts,
        h("dl", {},
          h("dt", {}, "state"), h("dd", {}, badge(src.state)),
          h("dt", {}, "type"), h("dd", {}, src.type),
          h("dt", {}, "snapshot"), h("dd", {}, progressLine(fraction, src.snapshot_rows_done, src.snapshot_rows_total)),
          h("dt", {}, "rows"), h("dd", {}, fmtInt(src.rows_total)),
          h("dt", {}, "rows/s"), h("dd", {}, fmtRate(src.rows_per_second)),
          h("dt", {}, "lag"), h("dd", {}, fmtMs(src.lag_ms)),
          h("dt", {}, "upstream position"), h("dd", {}, h("code", { class: "position" }, src.position || "–")),
          h("dt", {}, "last error"), h("dd", { class: src.last_error ? "error" : "" }, src.last_error || "none"),
        ),
      );
      replace(tables, h("h2", {}, "Tables"), table("grid", ["name", "rows", "net rows/s", "Kafka topic"],
        s.objects.filter((o) => o.type === "table" && o.on_name === name).map((t) => [t.name, fmtInt(t.rows), fmtRate(s.tableRate.get(t.name) ?? NaN), t.topic])));
    },
    destroy() {
      charts.forEach((c) => c.destroy());
    },
  };
}

function progressLine(fraction: number, done: number, total: number): HTMLElement {
  const note = total > 0 ? `${fmtInt(done)} / ${fmtInt(total)} rows` : fraction >= 1 ? "complete (nothing to snapshot)" : "not started";
  return h("div", { class: "snapshot" }, progress(fraction, "snapshot"), h("span", { class: "muted" }, note));
}
