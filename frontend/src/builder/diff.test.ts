import { describe, expect, it } from "vitest";
import everything from "./fixtures/everything.json";
import { diffSpecs, isEmptyDiff } from "./diff";
import type { TeamSpec } from "./spec";

const base = () => structuredClone(everything) as unknown as TeamSpec;

describe("diffSpecs", () => {
  it("finds nothing between a spec and its copy, even when nodes moved", () => {
    const moved = base();
    moved.layout.positions.intake = { x: 999, y: 999 };
    expect(isEmptyDiff(diffSpecs(base(), moved))).toBe(true);
  });

  it("lists nodes and edges added, removed and edited, and changed settings", () => {
    const after = base();
    after.nodes = after.nodes.filter((n) => n.id !== "saved");
    after.edges = after.edges.filter((e) => e.id !== "e3");
    after.nodes[0] = { ...after.nodes[0], name: "Renamed" };
    after.nodes.push({ kind: "human", id: "new", name: "New", role: "", prompt: "", answer_schema: null, timeout_s: null });
    after.edges.push({ id: "e9", source: "intake", target: "new", kind: "next", gate: null, description: "" });
    after.pattern = "swarm";
    const diff = diffSpecs(base(), after);
    expect(diff.nodes).toEqual({ added: ["new"], removed: ["saved"], edited: ["intake"] });
    expect(diff.edges).toEqual({ added: ["e9"], removed: ["e3"], edited: [] });
    expect(diff.settings).toEqual(["pattern"]);
  });
});
