// Everything at once: sources, tables, views, indexes, materialized views, sinks and Kafka
// topics, with their state, rows, rate and lag, refreshed every poll.
import { Chart } from "../chart";
import { badge, fmtBytes, fmtInt, fmtMs, fmtRate, h, link, progress, replace, table } from "../dom";
import { store, type Snapshot } from "../store";
import { objectHref, type Page } from "./page";

export function snapshotFraction(done: number, total: number, state: string): number {
  if (total > 0) return done / total;
  // No snapshot to take (a load generator, a Kafka source) or not counted yet.
  return state === "running" ? 1 : 0;
}

export function overviewPage(): Page {
  const charts = [
    new Chart("Ingest, all sources", "rows/s", () => store.series("total:ingest")),
    new Chart("Freshness, slowest dataflow", "ms", () => store.series("total:lag")),
  ];
  const body = h("div", { class: "sections" }, h("p", { class: "muted" }, "loading…"));
  const el = h("div", { class: "page overview" }, h("h1", {}, "Overview"), h("div", { class: "charts" }, charts.map((c) => c.el)), body);
  return {
    el,
    update(s: Snapshot) {
      charts.forEach((c) => c.update());
      replace(body, sections(s));
    },
    destroy() {
      charts.forEach((c) => c.destroy());
    },
  };
}

function sections(s: Snapshot): HTMLElement[] {
  const byType = (t: string) => s.objects.filter((o) => o.type === t);
  const dataflow = (name: string) => s.dataflows.find((d) => d.object_name === name);
  const arrangement = (name: string) => s.arrangements.find((a) => a.object_name === name);
  const fresh = (name: string) => {
    const d = dataflow(name);
    return d ? fmtMs(d.lag_ms) : "–";
  };
  const hydration = (name: string) => {
    const d = dataflow(name);
    return d ? badge(d.error ? "failed" : d.hydrated ? "hydrated" : "hydrating") : "–";
  };
  const indexed = new Set(byType("index").map((i) => i.on_name));
  return [
    section("Sources", table("grid", ["name", "type", "state", "snapshot", "rows", "rows/s", "lag"], s.sources.map((x) => [
      link(objectHref("source", x.name), x.name), x.type, badge(x.state),
      progress(snapshotFraction(x.snapshot_rows_done, x.snapshot_rows_total, x.state), "snapshot"),
      fmtInt(x.rows_total), fmtRate(x.rows_per_second), fmtMs(x.lag_ms),
    ]))),
    section("Tables", table("grid", ["name", "fed by", "rows", "net rows/s", "Kafka topic"], byType("table").map((t) => [
      t.name, t.on_name ? link(objectHref("source", t.on_name), t.on_name) : "–", fmtInt(t.rows), fmtRate(s.tableRate.get(t.name) ?? NaN), t.topic,
    ]))),
    section("Views", table("grid", ["name", "indexed", "freshness", "records"], byType("view").map((v) => [
      link(objectHref("view", v.name), v.name), indexed.has(v.name) ? "yes" : "no", fresh(v.name), fmtInt(arrangement(v.name)?.records ?? NaN),
    ]))),
    section("Indexes", table("grid", ["name", "on", "freshness", "hydration", "records", "bytes"], byType("index").map((i) => [
      link(objectHref("index", i.name), i.name), i.on_name, fresh(i.on_name), hydration(i.on_name),
      fmtInt(arrangement(i.on_name)?.records ?? NaN), fmtBytes(arrangement(i.on_name)?.bytes ?? NaN),
    ]))),
    section("Materialized views", table("grid", ["name", "freshness", "hydration", "records", "bytes", "Kafka topic"], byType("materialized-view").map((m) => [
      link(objectHref("materialized-view", m.name), m.name), fresh(m.name), hydration(m.name),
      fmtInt(arrangement(m.name)?.records ?? NaN), fmtBytes(arrangement(m.name)?.bytes ?? NaN), m.topic,
    ]))),
    section("Sinks", table("grid", ["name", "state", "from", "topic", "messages", "messages/s", "lag"], s.sinks.map((k) => [
      link(objectHref("sink", k.name), k.name), badge(k.state), k.from_name, k.topic, fmtInt(k.messages_total),
      fmtRate(s.sinkRate.get(k.name) ?? NaN), Number.isFinite(k.committed_ts) ? fmtMs(Math.max(0, s.at - k.committed_ts)) : "–",
    ]))),
    section("Kafka consumer groups", table("grid", ["group", "topics", "partitions", "committed", "messages/s", "lag (messages)"], s.groups.map((g) => [
      link(`#/group/${encodeURIComponent(g.name)}`, g.name), g.topics.join(", "), g.partitions, fmtInt(g.committed), fmtRate(g.rate), fmtInt(g.lag),
    ]))),
    section("Kafka topics", table("grid", ["topic", "serves", "type"], s.objects.filter((o) => o.topic).map((o) => [o.topic, o.name, o.type]))),
  ];
}

function section(title: string, content: HTMLElement): HTMLElement {
  return h("section", { "data-section": title }, h("h2", {}, title), content);
}
