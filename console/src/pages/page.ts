import type { Snapshot } from "../store";

/** One screen of the console: its element, a refresh for each poll, and cleanup. */
export interface Page {
  el: HTMLElement;
  update?(s: Snapshot): void;
  destroy?(): void;
}

export const objectHref = (type: string, name: string): string =>
  type === "source" ? `#/source/${encodeURIComponent(name)}` : type === "sink" ? `#/sink/${encodeURIComponent(name)}` : `#/dataflow/${encodeURIComponent(name)}`;
