// Auto-layout with dagre: supervisors read top-down, pipelines left to right.
import dagre from "@dagrejs/dagre";
import type { BuilderEdge, BuilderNode } from "./mapping";
import type { Pattern } from "./spec";
import { guardLinks, NODE_HEIGHT, NODE_WIDTH } from "./tidy";

export function autoLayout(nodes: BuilderNode[], edges: BuilderEdge[], pattern: Pattern): BuilderNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: pattern === "pipeline" ? "LR" : "TB", nodesep: 60, ranksep: 90 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    g.setNode(node.id, {
      width: node.measured?.width ?? NODE_WIDTH,
      height: node.measured?.height ?? NODE_HEIGHT,
    });
  }
  for (const edge of edges) g.setEdge(edge.source, edge.target);
  // A gate's reviewer and a fallback agent sit next to what they guard, not in a corner.
  for (const [from, to] of guardLinks(nodes, edges)) if (!g.hasEdge(from, to)) g.setEdge(from, to, { weight: 2 });
  dagre.layout(g);
  return nodes.map((node) => {
    const placed = g.node(node.id);
    // dagre gives centres, React Flow wants top-left corners.
    const position = { x: placed.x - placed.width / 2, y: placed.y - placed.height / 2 };
    return { ...node, position };
  });
}
