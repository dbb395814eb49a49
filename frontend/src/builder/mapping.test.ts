import { describe, expect, it } from "vitest";
import everything from "./fixtures/everything.json";
import { readSpec } from "./importSpec";
import { gridPosition, graphToSpec, specToGraph, uniqueId } from "./mapping";
import { emptySpec, type TeamSpec } from "./spec";
import { TEMPLATES } from "./templates";

// The docs' example teams, when the repository has them: every one must survive the builder.
const examples = import.meta.glob<TeamSpec>("../../../docs/examples/*.json", {
  eager: true,
  import: "default",
});

describe("specToGraph then graphToSpec", () => {
  it("keeps every field of a spec that uses them all, including unknown ones", () => {
    const spec = everything as unknown as TeamSpec;
    expect(graphToSpec(specToGraph(spec))).toEqual(spec);
  });

  it.each(Object.entries(examples))("keeps the example %s", (_path, example) => {
    // Examples leave defaults out; importing fills them in and changes nothing present.
    const spec = readSpec(JSON.stringify(example));
    expect(spec).toMatchObject({ ...example, layout: expect.anything() });
    const roundTripped = graphToSpec(specToGraph(spec));
    // Nodes without positions are placed on a grid, and then have positions.
    expect({ ...roundTripped, layout: spec.layout }).toEqual(spec);
  });

  it.each(TEMPLATES.map((t) => [t.label, t.make()] as const))("keeps the template %s", (_l, spec) => {
    const again = graphToSpec(specToGraph(graphToSpec(specToGraph(spec))));
    expect({ ...again, layout: spec.layout }).toEqual(spec);
  });
});

describe("specToGraph", () => {
  it("draws each node at its saved position with its kind as node type", () => {
    const graph = specToGraph(everything as unknown as TeamSpec);
    const approver = graph.nodes.find((n) => n.id === "approver")!;
    expect(approver.type).toBe("human");
    expect(approver.position).toEqual({ x: 300, y: 0 });
    expect(graph.viewport).toEqual({ x: -12.5, y: 40, zoom: 0.75 });
  });

  it("types each edge by its kind and keeps the gate", () => {
    const graph = specToGraph(everything as unknown as TeamSpec);
    const gated = graph.edges.find((e) => e.id === "e3")!;
    expect(gated.type).toBe("next");
    expect(gated.data!.spec.gate!.reviewer).toBe("backup");
  });

  it("places nodes without a saved position on a grid, not on top of each other", () => {
    const spec = TEMPLATES[0].make();
    const graph = specToGraph(spec);
    const spots = graph.nodes.map((n) => `${n.position.x},${n.position.y}`);
    expect(new Set(spots).size).toBe(spec.nodes.length);
    expect(graph.nodes[1].position).toEqual(gridPosition(1));
  });
});

describe("graphToSpec", () => {
  it("saves where nodes were moved and where edges were reconnected", () => {
    const graph = specToGraph(everything as unknown as TeamSpec);
    graph.nodes[0] = { ...graph.nodes[0], position: { x: 10.123, y: -5 } };
    graph.edges[0] = { ...graph.edges[0], target: "backup" };
    const spec = graphToSpec(graph);
    expect(spec.layout.positions.intake).toEqual({ x: 10.12, y: -5 });
    expect(spec.edges[0].target).toBe("backup");
  });

  it("writes an empty team as an empty team", () => {
    const spec = emptySpec("swarm");
    expect(graphToSpec(specToGraph(spec))).toEqual(spec);
  });
});

describe("uniqueId", () => {
  it("makes a valid id from a name and avoids taken ones", () => {
    expect(uniqueId("Code Reviewer!", [])).toBe("code-reviewer");
    expect(uniqueId("agent", ["agent", "agent-2"])).toBe("agent-3");
    expect(uniqueId("***", [])).toBe("node");
  });
});
