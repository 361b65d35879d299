// One Kafka sink: messages/s and lag over the last hour, its topic and position.
import { Chart } from "../chart";
import { badge, fmtInt, fmtMs, fmtRate, h, replace } from "../dom";
import { store, type Snapshot } from "../store";
import type { Page } from "./page";

export function sinkPage(name: string): Page {
  const charts = [
    new Chart("Messages", "msg/s", () => store.series(`sink:${name}:rate`)),
    new Chart("Lag, wall clock minus the committed timestamp", "ms", () => store.series(`sink:${name}:lag`)),
  ];
  const facts = h("div", { class: "facts" }, h("p", { class: "muted" }, "loading…"));
  const el = h("div", { class: "page sink" }, h("h1", {}, "Sink ", h("code", {}, name)), facts, h("div", { class: "charts" }, charts.map((c) => c.el)));
  return {
    el,
    update(s: Snapshot) {
      charts.forEach((c) => c.update());
      const k = s.sinks.find((x) => x.name === name);
      if (!k) {
        replace(facts, h("p", { class: "error" }, `no sink named ${name}`));
        return;
      }
      replace(
        facts,
        h("dl", {},
          h("dt", {}, "state"), h("dd", {}, badge(k.state)),
          h("dt", {}, "from"), h("dd", {}, k.from_name),
          h("dt", {}, "topic"), h("dd", {}, h("code", {}, k.topic)),
          h("dt", {}, "messages"), h("dd", {}, fmtInt(k.messages_total)),
          h("dt", {}, "messages/s"), h("dd", {}, fmtRate(s.sinkRate.get(k.name) ?? NaN)),
          h("dt", {}, "lag"), h("dd", {}, Number.isFinite(k.committed_ts) ? fmtMs(Math.max(0, s.at - k.committed_ts)) : "–"),
          h("dt", {}, "position"), h("dd", {}, h("code", {}, k.position || "–")),
          h("dt", {}, "last error"), h("dd", { class: k.last_error ? "error" : "" }, k.last_error || "none"),
        ),
      );
    },
    destroy() {
      charts.forEach((c) => c.destroy());
    },
  };
}
