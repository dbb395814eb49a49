// A nested team opened as its own canvas. The builder edits one level at a time: `graph` is
// the level on screen, and `stack` holds every level above it (each with the id of the team
// node that was opened). The parent's spec is only ever rebuilt from the stack and the level
// on screen (`rootGraph`), so what is saved, validated and exported is always the whole team.
import { autoLayout } from "./autoLayout";
import { type Graph, graphToSpec, specToGraph } from "./mapping";
import { updateNodeSpec } from "./operations";
import { emptySpec, type SpecNode, type TeamNode, type TeamSpec, withDefaults } from "./spec";

export interface Level {
  /** The parent level as it was when the nested team was opened. */
  graph: Graph;
  /** The team node of that level whose inner team is open below it. */
  nodeId: string;
}

export interface Crumb {
  label: string;
  depth: number;
}

/** Whether a node can be opened as a canvas: a team defined inline (not a saved team). */
export function isOpenable(node: SpecNode | undefined): node is TeamNode {
  return node?.kind === "team" && node.team_id == null;
}

/** The inner team of `nodeId` as a canvas of its own, or null when it has none to open. */
export function innerGraph(parent: Graph, nodeId: string): Graph | null {
  const node = parent.nodes.find((n) => n.id === nodeId)?.data.spec;
  if (!isOpenable(node)) return null;
  const spec: TeamSpec = node.spec ? withDefaults(node.spec) : emptySpec("pipeline", node.name);
  const graph = specToGraph(spec);
  const placed = spec.layout.positions;
  if (spec.nodes.every((n) => placed[n.id])) return graph;
  return { ...graph, nodes: autoLayout(graph.nodes, graph.edges, graph.settings.pattern) };
}

/** Open `nodeId` of the level on screen: the new stack and the level to show (unchanged
 * when the node cannot be opened). */
export function enter(stack: Level[], graph: Graph, nodeId: string): { stack: Level[]; graph: Graph } {
  const inner = innerGraph(graph, nodeId);
  if (!inner) return { stack, graph };
  return { stack: [...stack, { graph: unselected(graph), nodeId }], graph: inner };
}

/** `parent` with the inner team of `nodeId` replaced by `child` (as a spec), or `parent`
 * itself when nothing in it changed, so leaving without edits is no edit. */
export function withInner(parent: Graph, nodeId: string, child: Graph): Graph {
  const spec = graphToSpec(child);
  const opened = innerGraph(parent, nodeId);
  if (opened && sameTeam(graphToSpec(opened), spec)) return parent;
  return updateNodeSpec(parent, nodeId, { spec } as Partial<SpecNode>);
}

// Where the view of the inner canvas was panned to is not an edit of the team.
const sameTeam = (a: TeamSpec, b: TeamSpec) =>
  JSON.stringify({ ...a, layout: a.layout.positions }) === JSON.stringify({ ...b, layout: b.layout.positions });

/** Go up to `depth` (0: the team itself): the shorter stack and that level, with every edit
 * made below it written into its team nodes. */
export function leave(stack: Level[], graph: Graph, depth: number): { stack: Level[]; graph: Graph } {
  let child = graph;
  for (let i = stack.length - 1; i >= depth; i--) child = withInner(stack[i].graph, stack[i].nodeId, child);
  return { stack: stack.slice(0, depth), graph: child };
}

/** The whole team as it is now, whatever level is on screen. */
export function rootGraph(stack: Level[], graph: Graph): Graph {
  return leave(stack, graph, 0).graph;
}

/** "Team › Nested › …": the team's name, then each opened node's name. */
export function breadcrumb(stack: Level[], graph: Graph): Crumb[] {
  const root = stack[0]?.graph ?? graph;
  const opened = stack.map((level, i) => ({
    label: level.graph.nodes.find((n) => n.id === level.nodeId)?.data.spec.name ?? level.nodeId,
    depth: i + 1,
  }));
  return [{ label: root.settings.name, depth: 0 }, ...opened];
}

const unselected = (graph: Graph): Graph => ({
  ...graph,
  nodes: graph.nodes.map((n) => ({ ...n, selected: false })),
  edges: graph.edges.map((e) => ({ ...e, selected: false })),
});
