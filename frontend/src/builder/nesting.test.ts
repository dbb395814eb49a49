import { describe, expect, it } from "vitest";
import everything from "./fixtures/everything.json";
import { graphToSpec, specToGraph, toFlowNode } from "./mapping";
import { breadcrumb, enter, isOpenable, leave, rootGraph } from "./nesting";
import { updateNodeSpec } from "./operations";
import { newAgent, newTeamNode, type TeamSpec, emptySpec } from "./spec";

const team = () => specToGraph(structuredClone(everything) as unknown as TeamSpec);
const nodeOf = (spec: TeamSpec, id: string) => spec.nodes.find((n) => n.id === id)!;

describe("opening a nested team", () => {
  it("shows the inline team's own graph and only inline teams open", () => {
    const root = team();
    const opened = enter([], root, "sub");
    expect(opened.stack).toHaveLength(1);
    expect(opened.graph.settings.name).toBe("Nested");
    expect(opened.graph.settings.pattern).toBe("swarm");
    expect(opened.graph.nodes.map((n) => n.id)).toEqual(["a"]);
    // A saved team is referenced, not inline: it does not open here; nor does an agent.
    expect(enter([], root, "saved")).toEqual({ stack: [], graph: root });
    expect(enter([], root, "intake").stack).toEqual([]);
    expect(isOpenable(root.nodes.find((n) => n.id === "sub")!.data.spec)).toBe(true);
  });

  it("leaving without an edit changes nothing, even after panning", () => {
    const root = team();
    const opened = enter([], root, "sub");
    const panned = { ...opened.graph, viewport: { x: 50, y: 9, zoom: 0.5 } };
    const back = leave(opened.stack, panned, 0);
    expect(back.stack).toEqual([]);
    expect(graphToSpec(back.graph)).toEqual(graphToSpec(root));
  });

  it("writes edits made inside into the parent's team node", () => {
    const opened = enter([], team(), "sub");
    const added = { ...opened.graph, nodes: [...opened.graph.nodes, toFlowNode(newAgent("b", "B"), { x: 300, y: 2 })] };
    const renamed = updateNodeSpec(added, "a", { name: "Alpha" });

    const whole = graphToSpec(rootGraph(opened.stack, renamed));
    const inner = nodeOf(whole, "sub");
    expect(inner.kind === "team" && inner.spec!.nodes.map((n) => [n.id, n.name])).toEqual([
      ["a", "Alpha"],
      ["b", "B"],
    ]);
    expect(inner.kind === "team" && inner.spec!.layout.positions.b).toEqual({ x: 300, y: 2 });
    // The rest of the parent is untouched.
    expect(whole.nodes.map((n) => n.id)).toEqual(graphToSpec(team()).nodes.map((n) => n.id));
    expect(nodeOf(whole, "intake")).toEqual(nodeOf(graphToSpec(team()), "intake"));
  });

  it("goes two levels down and back to any level through the breadcrumb", () => {
    // A team node with an empty inline team inside "sub": open sub, add it, open it.
    const first = enter([], team(), "sub");
    const withChild = {
      ...first.graph,
      nodes: [...first.graph.nodes, toFlowNode({ ...newTeamNode("deep", "Deep team"), spec: emptySpec("pipeline", "Deep") }, { x: 0, y: 200 })],
    };
    const second = enter(first.stack, withChild, "deep");
    expect(breadcrumb(second.stack, second.graph).map((c) => c.label)).toEqual(["Everything team", "Sub team", "Deep team"]);
    const deeper = { ...second.graph, nodes: [toFlowNode(newAgent("x", "X"), { x: 0, y: 0 })] };

    // Back to "Sub team" (depth 1): the deep edit is in sub's canvas.
    const up = leave(second.stack, deeper, 1);
    expect(up.stack).toHaveLength(1);
    const deep = up.graph.nodes.find((n) => n.id === "deep")!.data.spec;
    expect(deep.kind === "team" && deep.spec!.nodes.map((n) => n.id)).toEqual(["x"]);

    // And straight from the deepest level to the top: both levels land in the saved spec.
    const whole = graphToSpec(rootGraph(second.stack, deeper));
    const sub = nodeOf(whole, "sub");
    const inner = sub.kind === "team" ? nodeOf(sub.spec!, "deep") : null;
    expect(inner?.kind === "team" && inner.spec!.nodes.map((n) => n.id)).toEqual(["x"]);
  });

  it("opens a new team node with no inline spec yet as an empty pipeline", () => {
    const root = team();
    const bare = { ...root, nodes: [...root.nodes, toFlowNode(newTeamNode("fresh", "Fresh"), { x: 0, y: 0 })] };
    const opened = enter([], bare, "fresh");
    expect(opened.graph.nodes).toEqual([]);
    expect(opened.graph.settings.name).toBe("Fresh");
  });
});
