import { describe, expect, it } from "vitest";
import everything from "./fixtures/everything.json";
import { graphToSpec, specToGraph } from "./mapping";
import { copySelection, paste, removeElements, switchPattern } from "./operations";
import type { TeamSpec } from "./spec";
import { boxOf, overlaps } from "./tidy";

const graph = () => specToGraph(structuredClone(everything) as unknown as TeamSpec);

describe("switchPattern", () => {
  it("retypes every edge to the kind the pattern allows and drops gates outside pipelines", () => {
    const spec = graphToSpec(switchPattern(graph(), "swarm"));
    expect(spec.pattern).toBe("swarm");
    expect(spec.edges.map((e) => e.kind)).toEqual(["handoff", "handoff", "handoff"]);
    expect(spec.edges.every((e) => e.gate === null)).toBe(true);
  });
});

describe("copy and paste", () => {
  it("pastes selected nodes and the edges between them with new ids and references", () => {
    const g = graph();
    g.nodes = g.nodes.map((n) => ({ ...n, selected: n.id === "intake" || n.id === "approver" }));
    const pasted = paste(g, copySelection(g));
    const spec = graphToSpec(pasted);
    expect(spec.nodes).toHaveLength(7);
    const copies = pasted.nodes.filter((n) => n.selected).map((n) => n.id);
    expect(copies).toEqual(["intake-2", "approver-2"]);
    const edge = spec.edges.at(-1)!;
    expect([edge.id, edge.source, edge.target]).toEqual(["e1-2", "intake-2", "approver-2"]);
    // The copies keep their shape and land where they cover no node.
    const at = (id: string) => spec.layout.positions[id];
    expect(at("approver-2").x - at("intake-2").x).toBe(at("approver").x - at("intake").x);
    expect(at("approver-2").y - at("intake-2").y).toBe(at("approver").y - at("intake").y);
    const boxes = pasted.nodes.map(boxOf);
    for (const copy of pasted.nodes.filter((n) => n.selected)) {
      expect(boxes.filter((b) => overlaps(boxOf(copy), b, 0))).toHaveLength(1);
    }
    // The copy's fallback was not copied, so it still names the original.
    expect(spec.nodes.find((n) => n.id === "intake-2")).toMatchObject({ fallback: "backup" });
  });
});

describe("removeElements", () => {
  it("removes a node with its edges and clears references to it", () => {
    const spec = graphToSpec(removeElements(graph(), ["backup", "intake"], []));
    expect(spec.entry).toBeNull();
    expect(spec.edges.map((e) => e.id)).toEqual(["e2", "e3"]);
    expect(spec.edges[1].gate!.reviewer).toBeNull();
    expect(spec.layout.positions).not.toHaveProperty("backup");
  });
});
