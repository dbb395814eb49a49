// Pure edits of the graph that more than one control performs: switching pattern,
// copy/paste with fresh ids, replacing or updating a node or edge spec.
import {
  type BuilderEdge,
  type BuilderNode,
  type Graph,
  graphIds,
  toFlowEdge,
  toFlowNode,
  uniqueId,
} from "./mapping";
import {
  EDGE_KIND_FOR_PATTERN,
  type Pattern,
  type SpecEdge,
  type SpecNode,
} from "./spec";
import { groupShift } from "./tidy";

/** Switch the team's pattern: every edge takes the kind the new pattern allows. Gates only
 * exist on pipeline edges, so they are dropped when leaving pipeline. */
export function switchPattern(graph: Graph, pattern: Pattern): Graph {
  const kind = EDGE_KIND_FOR_PATTERN[pattern];
  const edges = graph.edges.map((edge) => {
    const spec = edge.data!.spec;
    const next: SpecEdge = { ...spec, kind, gate: kind === "next" ? spec.gate : null };
    return { ...edge, type: kind, data: { spec: next } };
  });
  return { ...graph, settings: { ...graph.settings, pattern }, edges };
}

export interface Clipboard {
  nodes: BuilderNode[];
  edges: BuilderEdge[];
}

/** The selected nodes and the edges between them. */
export function copySelection(graph: Graph): Clipboard {
  const nodes = graph.nodes.filter((n) => n.selected);
  const ids = new Set(nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return { nodes: structuredClone(nodes), edges: structuredClone(edges) };
}

const PASTE_OFFSET = 40;

/** Paste a copy with new ids, shifted (keeping its shape) to the nearest place where it covers
 * no node, the original included; the copy is selected.
 * References inside the copy (edges, fallbacks, gate reviewers) follow to the new ids. */
export function paste(graph: Graph, clip: Clipboard): Graph {
  const taken = graphIds(graph);
  const renamed = new Map<string, string>();
  for (const node of clip.nodes) {
    const id = uniqueId(node.id, taken);
    taken.push(id);
    renamed.set(node.id, id);
  }
  const follow = (id: string | null) => (id && renamed.has(id) ? renamed.get(id)! : id);
  const shift = groupShift(graph.nodes, clip.nodes, { x: PASTE_OFFSET, y: PASTE_OFFSET });
  const nodes = clip.nodes.map((node) => {
    const spec = { ...structuredClone(node.data.spec), id: renamed.get(node.id)! } as SpecNode;
    if (spec.kind === "agent") spec.fallback = follow(spec.fallback);
    const position = { x: node.position.x + shift.x, y: node.position.y + shift.y };
    return { ...toFlowNode(spec, position), selected: true };
  });
  const edges = clip.edges.map((edge) => {
    const old = edge.data!.spec;
    const id = uniqueId(edge.id, taken);
    taken.push(id);
    const gate = old.gate ? { ...old.gate, reviewer: follow(old.gate.reviewer) } : null;
    const spec: SpecEdge = {
      ...structuredClone(old),
      id,
      source: renamed.get(edge.source)!,
      target: renamed.get(edge.target)!,
      gate,
    };
    return { ...toFlowEdge(spec), selected: true };
  });
  const deselect = <T extends { selected?: boolean }>(item: T) => ({ ...item, selected: false });
  return {
    ...graph,
    nodes: [...graph.nodes.map(deselect), ...nodes],
    edges: [...graph.edges.map(deselect), ...edges],
  };
}

export function updateNodeSpec(graph: Graph, id: string, patch: Partial<SpecNode>): Graph {
  const nodes = graph.nodes.map((node) =>
    node.id === id ? { ...node, data: { spec: { ...node.data.spec, ...patch } as SpecNode } } : node,
  );
  return { ...graph, nodes };
}

export function updateEdgeSpec(graph: Graph, id: string, patch: Partial<SpecEdge>): Graph {
  const edges = graph.edges.map((edge) =>
    edge.id === id ? { ...edge, data: { spec: { ...edge.data!.spec, ...patch } } } : edge,
  );
  return { ...graph, edges };
}

/** Remove nodes and edges; edges touching a removed node go too, and so do references
 * (entry, fallback, gate reviewer) that would otherwise point at nothing. */
export function removeElements(graph: Graph, nodeIds: string[], edgeIds: string[]): Graph {
  const gone = new Set(nodeIds);
  const goneEdges = new Set(edgeIds);
  const clear = (id: string | null) => (id && gone.has(id) ? null : id);
  const nodes = graph.nodes
    .filter((n) => !gone.has(n.id))
    .map((n) => {
      const spec = n.data.spec;
      if (spec.kind !== "agent" || !spec.fallback || !gone.has(spec.fallback)) return n;
      return { ...n, data: { spec: { ...spec, fallback: null } } };
    });
  const edges = graph.edges
    .filter((e) => !goneEdges.has(e.id) && !gone.has(e.source) && !gone.has(e.target))
    .map((e) => {
      const gate = e.data!.spec.gate;
      if (!gate?.reviewer || !gone.has(gate.reviewer)) return e;
      return { ...e, data: { spec: { ...e.data!.spec, gate: { ...gate, reviewer: null } } } };
    });
  return { ...graph, nodes, edges, settings: { ...graph.settings, entry: clear(graph.settings.entry) } };
}
