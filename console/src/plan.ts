// EXPLAIN's text drawn as a graph of operators. The plan is a tree printed one operator per
// line, each input indented two spaces under the operator that reads it (src/sql's EXPLAIN);
// lines after the first blank line are notes (Maintained: ..., Arrangement: ...).

export interface PlanNode { op: string; detail: string; children: PlanNode[] }
export interface Plan { roots: PlanNode[]; notes: string[] }

export function parsePlan(text: string): Plan {
  const lines = text.replace(/\r/g, "").split("\n");
  const roots: PlanNode[] = [];
  const notes: string[] = [];
  const stack: { indent: number; node: PlanNode }[] = [];
  let inNotes = false;
  for (const line of lines) {
    if (!line.trim()) {
      if (roots.length) inNotes = true;
      continue;
    }
    if (inNotes) {
      notes.push(line.trim());
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    const space = body.search(/\s/);
    const node: PlanNode = { op: space < 0 ? body : body.slice(0, space), detail: space < 0 ? "" : body.slice(space + 1).trim(), children: [] };
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    if (stack.length) stack[stack.length - 1].node.children.push(node);
    else roots.push(node);
    stack.push({ indent, node });
  }
  return { roots, notes };
}

const kNodeW = 210;
const kNodeH = 44;
const kGapX = 16;
const kGapY = 36;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function leaves(n: PlanNode): number {
  return n.children.length ? n.children.reduce((s, c) => s + leaves(c), 0) : 1;
}
function depth(n: PlanNode): number {
  return 1 + Math.max(0, ...n.children.map(depth));
}
function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** An SVG drawing of the plan: the output at the top, inputs below, arrows in the data's direction. */
export function drawPlan(plan: Plan, nameOf: (id: number) => string | undefined = () => undefined): SVGSVGElement {
  const width = plan.roots.reduce((s, r) => s + leaves(r), 0) * (kNodeW + kGapX);
  const height = Math.max(0, ...plan.roots.map(depth)) * (kNodeH + kGapY);
  const root = svg("svg", { class: "plan", viewBox: `0 0 ${Math.max(width, 1)} ${Math.max(height, 1)}`, width, height }) as SVGSVGElement;
  const defs = svg("defs", {});
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#889" }));
  defs.appendChild(marker);
  root.appendChild(defs);
  const edges = svg("g", { class: "edges" });
  const nodes = svg("g", { class: "nodes" });
  root.append(edges, nodes);

  // Each node is centred over the leaves of its subtree.
  const place = (n: PlanNode, left: number, level: number): { x: number; y: number } => {
    const span = leaves(n) * (kNodeW + kGapX);
    const x = left + span / 2;
    const y = level * (kNodeH + kGapY) + kNodeH / 2 + 2;
    let childLeft = left;
    for (const c of n.children) {
      const p = place(c, childLeft, level + 1);
      childLeft += leaves(c) * (kNodeW + kGapX);
      edges.appendChild(svg("path", { d: `M ${p.x} ${p.y - kNodeH / 2} C ${p.x} ${p.y - kNodeH / 2 - kGapY / 2}, ${x} ${y + kNodeH / 2 + kGapY / 2}, ${x} ${y + kNodeH / 2 + 1}`, fill: "none", stroke: "#889", "marker-end": "url(#arrow)" }));
    }
    const g = svg("g", { class: `op op-${n.op.toLowerCase()}`, transform: `translate(${x - kNodeW / 2},${y - kNodeH / 2})` });
    // `Get <id>` reads a collection: show its name.
    const detail = n.op === "Get" && /^\d+$/.test(n.detail) ? nameOf(Number(n.detail)) ?? n.detail : n.detail;
    g.appendChild(svg("title", {}, `${n.op} ${detail}`.trim()));
    g.appendChild(svg("rect", { width: kNodeW, height: kNodeH, rx: 6 }));
    g.appendChild(svg("text", { x: 10, y: 18, class: "op-name" }, n.op));
    g.appendChild(svg("text", { x: 10, y: 34, class: "op-detail" }, clip(detail, 32)));
    nodes.appendChild(g);
    return { x, y };
  };
  let left = 0;
  for (const r of plan.roots) {
    place(r, left, 0);
    left += leaves(r) * (kNodeW + kGapX);
  }
  return root;
}
