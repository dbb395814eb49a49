// The graph <-> TeamSpec mapping. The canvas holds React Flow nodes and edges whose `data.spec`
// is the whole spec object, so everything the canvas does not show (limits, schemas, nested
// specs, fields a newer server adds) survives a round trip untouched.
import { type Edge, MarkerType, type Node } from "@xyflow/react";
import type {
  EdgeKind,
  NodeKind,
  Position,
  SpecEdge,
  SpecNode,
  TeamSettings,
  TeamSpec,
  Viewport,
} from "./spec";

export type BuilderNodeData = { spec: SpecNode };
export type BuilderEdgeData = { spec: SpecEdge };
export type BuilderNode = Node<BuilderNodeData, NodeKind>;
export type BuilderEdge = Edge<BuilderEdgeData, EdgeKind>;

/** What the builder edits: the canvas plus the team's own settings. */
export interface Graph {
  settings: TeamSettings;
  nodes: BuilderNode[];
  edges: BuilderEdge[];
  viewport: Viewport | null;
}

const GRID_COLUMNS = 4;

/** Where a node without a saved position goes: a grid, so none sit on top of each other. */
export function gridPosition(index: number): Position {
  return { x: 80 + (index % GRID_COLUMNS) * 280, y: 80 + Math.floor(index / GRID_COLUMNS) * 200 };
}

export function toFlowNode(spec: SpecNode, position: Position): BuilderNode {
  return { id: spec.id, type: spec.kind, position: { ...position }, data: { spec } };
}

export function toFlowEdge(spec: SpecEdge): BuilderEdge {
  return {
    id: spec.id,
    source: spec.source,
    target: spec.target,
    type: spec.kind,
    markerEnd: { type: MarkerType.ArrowClosed },
    data: { spec },
  };
}

export function specToGraph(spec: TeamSpec): Graph {
  const { nodes, edges, layout, ...settings } = spec;
  const positions = layout?.positions ?? {};
  return {
    settings,
    nodes: nodes.map((node, i) => toFlowNode(node, positions[node.id] ?? gridPosition(i))),
    edges: edges.map(toFlowEdge),
    viewport: layout?.viewport ?? null,
  };
}

export function nodeSpec(node: BuilderNode): SpecNode {
  return { ...node.data.spec, id: node.id };
}

export function edgeSpec(edge: BuilderEdge): SpecEdge {
  const spec = edge.data?.spec;
  if (!spec) throw new Error(`Edge ${edge.id} has no spec data`);
  return { ...spec, id: edge.id, source: edge.source, target: edge.target };
}

export function graphToSpec(graph: Graph): TeamSpec {
  const positions: Record<string, Position> = {};
  for (const node of graph.nodes) {
    positions[node.id] = { x: round(node.position.x), y: round(node.position.y) };
  }
  return {
    ...graph.settings,
    nodes: graph.nodes.map(nodeSpec),
    edges: graph.edges.map(edgeSpec),
    layout: { positions, viewport: graph.viewport },
  } as TeamSpec;
}

// Sub-pixel drag positions would make every save look like a change.
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** An id matching the spec's NodeId pattern that no node or edge in `taken` uses yet. */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem =
    base
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "")
      .replace(/-+$/, "")
      .slice(0, 48) || "node";
  if (!used.has(stem)) return stem;
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

export function graphIds(graph: Pick<Graph, "nodes" | "edges">): string[] {
  return [...graph.nodes.map((n) => n.id), ...graph.edges.map((e) => e.id)];
}
