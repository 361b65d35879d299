// One Kafka consumer group: messages/s (its committed offsets' advance) and lag (the topics'
// end minus the committed offsets) over the last hour, and its partitions.
import { Chart } from "../chart";
import { fmtInt, fmtRate, h, replace } from "../dom";
import { store, type Snapshot } from "../store";
import type { Page } from "./page";

export function groupPage(name: string): Page {
  const charts = [
    new Chart("Consumed (committed)", "msg/s", () => store.series(`group:${name}:rate`)),
    new Chart("Lag", "msgs", () => store.series(`group:${name}:lag`)),
  ];
  const facts = h("div", { class: "facts" }, h("p", { class: "muted" }, "loading…"));
  const el = h("div", { class: "page group" }, h("h1", {}, "Consumer group ", h("code", {}, name)), facts, h("div", { class: "charts" }, charts.map((c) => c.el)));
  return {
    el,
    update(s: Snapshot) {
      charts.forEach((c) => c.update());
      const g = s.groups.find((x) => x.name === name);
      if (!g) {
        replace(facts, h("p", { class: "error" }, `no consumer group named ${name} has committed offsets`));
        return;
      }
      replace(
        facts,
        h("dl", {},
          h("dt", {}, "topics"), h("dd", {}, g.topics.map((t) => h("code", {}, t, " "))),
          h("dt", {}, "partitions"), h("dd", {}, String(g.partitions)),
          h("dt", {}, "committed"), h("dd", {}, fmtInt(g.committed)),
          h("dt", {}, "messages/s"), h("dd", {}, fmtRate(g.rate)),
          h("dt", {}, "lag"), h("dd", { class: "lag" }, Number.isFinite(g.lag) ? `${fmtInt(g.lag)} messages` : "– (a topic's end is unknown: a raw topic)"),
        ),
      );
    },
    destroy() {
      charts.forEach((c) => c.destroy());
    },
  };
}
