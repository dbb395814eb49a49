// What keeps the canvas tidy, as pure functions of the graph: free places for new and pasted
// nodes, the drawn-only edges that attach gate reviewers and fallback agents to what they
// guard, the edges that need drawing apart from their twin, and node search.
import { type Edge, MarkerType } from "@xyflow/react";
import type { BuilderEdge, BuilderNode } from "./mapping";
import type { Position } from "./spec";

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 120;
const MARGIN = 24;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function boxOf(node: Pick<BuilderNode, "position" | "measured">): Box {
  return {
    x: node.position.x,
    y: node.position.y,
    width: node.measured?.width ?? NODE_WIDTH,
    height: node.measured?.height ?? NODE_HEIGHT,
  };
}

export function overlaps(a: Box, b: Box, margin = MARGIN): boolean {
  return (
    a.x < b.x + b.width + margin &&
    b.x < a.x + a.width + margin &&
    a.y < b.y + b.height + margin &&
    b.y < a.y + a.height + margin
  );
}

// Candidate offsets from the wanted place, nearest first: rings of a grid one node apart.
function* offsets(): Generator<Position> {
  const dx = NODE_WIDTH + MARGIN;
  const dy = NODE_HEIGHT + MARGIN;
  yield { x: 0, y: 0 };
  for (let ring = 1; ring < 50; ring++) {
    const ringCells: Position[] = [];
    for (let i = -ring; i <= ring; i++) {
      for (let j = -ring; j <= ring; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) === ring) ringCells.push({ x: i * dx, y: j * dy });
      }
    }
    ringCells.sort((a, b) => Math.hypot(a.x, a.y) - Math.hypot(b.x, b.y) || a.y - b.y || a.x - b.x);
    yield* ringCells;
  }
}

/** The place nearest to `wanted` where a node of `size` covers none of `nodes`. */
export function freePosition(
  nodes: Pick<BuilderNode, "position" | "measured">[],
  wanted: Position,
  size = { width: NODE_WIDTH, height: NODE_HEIGHT },
): Position {
  const boxes = nodes.map(boxOf);
  for (const offset of offsets()) {
    const candidate = { x: wanted.x + offset.x, y: wanted.y + offset.y, ...size };
    if (!boxes.some((box) => overlaps(candidate, box))) return { x: candidate.x, y: candidate.y };
  }
  return wanted;
}

/** How far to move a group of new nodes (a paste) so that none of them covers an existing
 * node; the group keeps its own shape. Starts from `first`, the usual paste offset. */
export function groupShift(
  existing: Pick<BuilderNode, "position" | "measured">[],
  group: Pick<BuilderNode, "position" | "measured">[],
  first: Position,
): Position {
  const boxes = existing.map(boxOf);
  for (const offset of offsets()) {
    const shift = { x: first.x + offset.x, y: first.y + offset.y };
    const clear = group.every((node) => {
      const box = boxOf(node);
      const moved = { ...box, x: box.x + shift.x, y: box.y + shift.y };
      return !boxes.some((other) => overlaps(moved, other));
    });
    if (clear) return shift;
  }
  return first;
}

export type GuardKind = "reviewer" | "fallback";
export type GuardEdge = Edge<{ guard: GuardKind; guarded: string }, "guard">;

/** Drawn-only edges (never saved): from the stage whose output a gate checks to the gate's
 * reviewer, and from an agent to its fallback agent. Not selectable: they are edited in the
 * side panel. */
export function guardEdges(nodes: BuilderNode[], edges: BuilderEdge[]): GuardEdge[] {
  const ids = new Set(nodes.map((n) => n.id));
  const out: GuardEdge[] = [];
  for (const edge of edges) {
    const reviewer = edge.data?.spec.gate?.reviewer;
    if (!reviewer || !ids.has(reviewer) || !ids.has(edge.source) || reviewer === edge.source) continue;
    out.push(guard(`reviewer:${edge.id}`, edge.source, reviewer, "reviewer", edge.id));
  }
  for (const node of nodes) {
    const spec = node.data.spec;
    if (spec.kind !== "agent" || !spec.fallback || !ids.has(spec.fallback) || spec.fallback === node.id) continue;
    out.push(guard(`fallback:${node.id}`, node.id, spec.fallback, "fallback", node.id));
  }
  return out;
}

function guard(id: string, source: string, target: string, kind: GuardKind, guarded: string): GuardEdge {
  return {
    id,
    source,
    target,
    type: "guard",
    data: { guard: kind, guarded },
    selectable: false,
    focusable: false,
    deletable: false,
    markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14 },
  };
}

/** The pairs a layout should keep together: reviewer beside the stage it reviews, fallback
 * beside the agent it stands in for. */
export function guardLinks(nodes: BuilderNode[], edges: BuilderEdge[]): [string, string][] {
  return guardEdges(nodes, edges).map((e) => [e.source, e.target]);
}

/** Edges that share their two nodes with another edge (A->B and B->A, or the same pair
 * twice): each is drawn bent to its own side so neither hides the other. */
export function twinEdges(edges: Pick<BuilderEdge, "id" | "source" | "target">[]): Set<string> {
  const count = new Map<string, number>();
  const pair = (e: { source: string; target: string }) => [e.source, e.target].sort().join("\u0000");
  for (const edge of edges) count.set(pair(edge), (count.get(pair(edge)) ?? 0) + 1);
  return new Set(edges.filter((e) => (count.get(pair(e)) ?? 0) > 1).map((e) => e.id));
}

/** Nodes whose name, id, role or model contains every word of `query` (case-insensitive). */
export function searchNodes(nodes: BuilderNode[], query: string): BuilderNode[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  return nodes.filter((node) => {
    const spec = node.data.spec;
    const text = [spec.name, node.id, spec.role, spec.kind === "agent" ? spec.model : ""].join(" ").toLowerCase();
    return words.every((w) => text.includes(w));
  });
}
