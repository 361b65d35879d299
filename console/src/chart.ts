// A line chart of one Series over the last hour (uPlot). The container carries the number of
// samples and the newest value as data attributes, which is how the browser test sees it move.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";
import type { Series } from "./store";

function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(n / 1e3).toPrecision(3)}k`;
  return String(+n.toPrecision(3));
}

// Tick spacings of the time axis, in seconds (whole seconds: the data comes once a second).
const kTimeIncrs = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

// An x tick (seconds since the epoch) as the local time of day.
function clock(t: number): string {
  return new Date(t * 1000).toLocaleTimeString("en-GB", { hour12: false });
}

export class Chart {
  readonly el: HTMLElement;
  private plot: uPlot | null = null;
  private readonly body: HTMLElement;

  constructor(private readonly title: string, private readonly unit: string, private readonly series: () => Series) {
    this.body = h("div", { class: "plot" });
    this.el = h("figure", { class: "chart" }, h("figcaption", {}, title), this.body);
  }

  update(): void {
    const s = this.series();
    const data: uPlot.AlignedData = [s.t, s.v];
    this.el.dataset.samples = String(s.v.length);
    this.el.dataset.last = s.v.length ? String(s.v[s.v.length - 1]) : "";
    if (!this.plot) {
      if (!this.el.isConnected) return;
      const width = Math.max(240, this.body.clientWidth || 480);
      this.plot = new uPlot(
        {
          width,
          height: 160,
          legend: { show: false },
          cursor: { show: true, drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
          axes: [{ stroke: "#667", space: 80, incrs: kTimeIncrs, values: (_u, ticks) => ticks.map(clock) }, { stroke: "#667", size: 84, values: (_u, ticks) => ticks.map((t) => `${compact(t)} ${this.unit}`) }],
          series: [{}, { label: this.title, stroke: "#2b7bb9", fill: "rgba(43,123,185,0.12)", width: 1.5, points: { show: false } }],
        },
        data,
        this.body,
      );
    } else {
      this.plot.setData(data);
    }
  }

  resize(): void {
    if (this.plot && this.body.clientWidth) this.plot.setSize({ width: this.body.clientWidth, height: 160 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
