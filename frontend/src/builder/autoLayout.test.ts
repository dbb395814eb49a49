import { describe, expect, it } from "vitest";
import { autoLayout } from "./autoLayout";
import { specToGraph } from "./mapping";
import { TEMPLATES } from "./templates";

const graphOf = (i: number) => specToGraph(TEMPLATES[i].make());

describe("autoLayout", () => {
  it("puts a supervisor above its workers", () => {
    const { nodes, edges } = graphOf(0);
    const placed = new Map(autoLayout(nodes, edges, "supervisor").map((n) => [n.id, n.position]));
    expect(placed.get("researcher")!.y).toBeGreaterThan(placed.get("lead")!.y);
    expect(placed.get("writer")!.y).toBe(placed.get("researcher")!.y);
    expect(placed.get("writer")!.x).not.toBe(placed.get("researcher")!.x);
  });

  it("lays a pipeline out left to right in stage order", () => {
    const { nodes, edges } = graphOf(1);
    const placed = new Map(autoLayout(nodes, edges, "pipeline").map((n) => [n.id, n.position]));
    expect(placed.get("draft")!.x).toBeGreaterThan(placed.get("outline")!.x);
    expect(placed.get("publish")!.x).toBeGreaterThan(placed.get("draft")!.x);
  });

  it("changes positions only", () => {
    const { nodes, edges } = graphOf(2);
    const placed = autoLayout(nodes, edges, "swarm");
    expect(placed.map((n) => n.data)).toEqual(nodes.map((n) => n.data));
  });
});
