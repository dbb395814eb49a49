import { describe, expect, it } from "vitest";
import { autoLayout } from "./autoLayout";
import everything from "./fixtures/everything.json";
import { specToGraph, toFlowNode } from "./mapping";
import { newAgent, type TeamSpec } from "./spec";
import { TEMPLATES } from "./templates";
import { boxOf, freePosition, groupShift, guardEdges, overlaps, searchNodes, twinEdges } from "./tidy";

const node = (id: string, x: number, y: number) => toFlowNode(newAgent(id, id), { x, y });
const noneOverlap = (nodes: ReturnType<typeof node>[]) =>
  nodes.every((a, i) => nodes.every((b, j) => i === j || !overlaps(boxOf(a), boxOf(b), 0)));

describe("freePosition", () => {
  it("keeps the wanted place when it is free", () => {
    expect(freePosition([node("a", 0, 0)], { x: 600, y: 0 })).toEqual({ x: 600, y: 0 });
  });

  it("moves a new node off the nodes already there, to the nearest free place", () => {
    const nodes = [node("a", 100, 100)];
    const at = freePosition(nodes, { x: 110, y: 105 });
    expect(noneOverlap([...nodes, node("new", at.x, at.y)])).toBe(true);
    expect(Math.hypot(at.x - 110, at.y - 105)).toBeLessThan(300);
  });

  it("finds room in a crowded canvas: ten nodes added at the same point never overlap", () => {
    const nodes: ReturnType<typeof node>[] = [];
    for (let i = 0; i < 10; i++) {
      const at = freePosition(nodes, { x: 0, y: 0 });
      nodes.push(node(`n${i}`, at.x, at.y));
    }
    expect(noneOverlap(nodes)).toBe(true);
  });

  it("uses a node's measured size", () => {
    const wide = { ...node("wide", 0, 0), measured: { width: 600, height: 100 } };
    const at = freePosition([wide], { x: 300, y: 0 });
    expect(overlaps(boxOf(wide), { x: at.x, y: at.y, width: 220, height: 120 }, 0)).toBe(false);
  });
});

describe("groupShift", () => {
  it("moves a pasted group as one, clear of the originals", () => {
    const originals = [node("a", 0, 0), node("b", 300, 0)];
    const shift = groupShift(originals, originals, { x: 40, y: 40 });
    const copies = originals.map((n) => node(`${n.id}2`, n.position.x + shift.x, n.position.y + shift.y));
    expect(noneOverlap([...originals, ...copies])).toBe(true);
  });
});

describe("guardEdges", () => {
  it("draws a gate's reviewer and a fallback agent attached to what they guard", () => {
    const g = specToGraph(structuredClone(everything) as unknown as TeamSpec);
    const drawn = guardEdges(g.nodes, g.edges).map((e) => [e.data!.guard, e.source, e.target]);
    const gated = g.edges.find((e) => e.data!.spec.gate?.reviewer)!;
    expect(drawn).toContainEqual(["reviewer", gated.source, gated.data!.spec.gate!.reviewer]);
    expect(drawn).toContainEqual(["fallback", "intake", "backup"]);
    expect(guardEdges(g.nodes, g.edges).every((e) => e.selectable === false && e.deletable === false)).toBe(true);
  });

  it("draws nothing for a reference to a node that is not there", () => {
    const lone = { ...node("a", 0, 0) };
    lone.data = { spec: { ...newAgent("a", "a"), fallback: "gone" } };
    expect(guardEdges([lone], [])).toEqual([]);
  });
});

describe("twinEdges", () => {
  it("marks both edges of a pair going both ways, and no other", () => {
    const edges = [
      { id: "ab", source: "a", target: "b" },
      { id: "ba", source: "b", target: "a" },
      { id: "bc", source: "b", target: "c" },
    ];
    expect([...twinEdges(edges)].sort()).toEqual(["ab", "ba"]);
  });
});

describe("searchNodes", () => {
  it("finds nodes by every word of the query in name, id, role or model", () => {
    const g = specToGraph(TEMPLATES[0].make());
    expect(searchNodes(g.nodes, "research").map((n) => n.id)).toEqual(["researcher"]);
    expect(searchNodes(g.nodes, "WRITER prose").map((n) => n.id)).toEqual([]);
    expect(searchNodes(g.nodes, "drafts writer").map((n) => n.id)).toEqual(["writer"]);
    expect(searchNodes(g.nodes, "  ")).toEqual([]);
  });
});

describe("autoLayout", () => {
  it("lays out every starter with no node over another, and a reviewer beside its stage", () => {
    for (const template of TEMPLATES) {
      const g = specToGraph(template.make());
      const laid = autoLayout(g.nodes, g.edges, template.pattern);
      expect(noneOverlap(laid)).toBe(true);
    }
    const g = specToGraph(TEMPLATES[1].make());
    const laid = new Map(autoLayout(g.nodes, g.edges, "pipeline").map((n) => [n.id, n.position]));
    // The editor reviews the draft: it is ranked right after the drafter, like the publisher,
    // not left alone in the first column.
    expect(laid.get("editor")!.x).toBeGreaterThan(laid.get("draft")!.x);
  });
});
