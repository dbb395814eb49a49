import { describe, expect, it } from "vitest";
import everything from "./fixtures/everything.json";
import { importNote, readSpec } from "./importSpec";
import type { TeamSpec } from "./spec";

describe("readSpec", () => {
  it("reads an exported team unchanged", () => {
    expect(readSpec(JSON.stringify(everything))).toEqual(everything);
  });

  it("refuses what the canvas cannot draw, saying what is wrong", () => {
    expect(() => readSpec("{")).toThrow("This is not JSON");
    expect(() => readSpec("[]")).toThrow("A team is a JSON object.");
    expect(() => readSpec('{"pattern": "mesh"}')).toThrow('"pattern" must be one of');
    expect(() => readSpec('{"pattern": "swarm", "nodes": [{"id": "a"}]}')).toThrow("Every node needs");
    expect(() => readSpec('{"pattern": "swarm", "edges": [{"id": "e"}]}')).toThrow("Every edge needs");
  });
});

describe("readSpec of a hand-written document", () => {
  it("fills in the defaults the server would, keeping what is there", () => {
    const spec = readSpec(
      JSON.stringify({
        pattern: "pipeline",
        nodes: [{ kind: "agent", id: "a", name: "A", limits: { max_turns: 3 } }],
        edges: [{ id: "e", source: "a", target: "a", gate: { kind: "schema" } }],
      }),
    );
    expect(spec.nodes[0]).toMatchObject({ tools: [], model: "offline", limits: { max_turns: 3, timeout_s: 120 } });
    expect(spec.edges[0]).toMatchObject({ kind: "next", description: "", gate: { kind: "schema", max_attempts: 3 } });
    expect(spec.layout).toEqual({ positions: {}, viewport: null });
    expect(spec.name).toBe("Untitled team");
  });
});

describe("importNote", () => {
  const named = (name: string) => ({ ...(everything as unknown as TeamSpec), name });

  it("says plainly when the file's name renames the team", () => {
    const note = importNote("Support desk", named("Code review"));
    expect(note).toContain('saving renames this team from "Support desk" to the file\'s name');
    expect(note).toContain('Imported "Code review"');
  });

  it("says nothing about the name when it stays", () => {
    expect(importNote("Code review", named("Code review"))).toBe("Imported: save to keep it.");
  });
});
