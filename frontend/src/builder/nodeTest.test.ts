import { describe, expect, it } from "vitest";
import { nodeTestRequest, takesUpstream, testStatus, typedValue } from "./nodeTest";
import type { TeamSpec } from "./spec";

const pipeline = {
  pattern: "pipeline",
  entry: "draft",
  nodes: [],
  edges: [{ id: "n1", source: "draft", target: "edit", kind: "next" }],
} as unknown as TeamSpec;

describe("typedValue", () => {
  it("keeps a sentence as text and reads a JSON object or array", () => {
    expect(typedValue("What is 6 times 7?")).toBe("What is 6 times 7?");
    expect(typedValue(' {"ticket": 42} ')).toEqual({ ticket: 42 });
    expect(typedValue("[1, 2]")).toEqual([1, 2]);
  });

  it("keeps what only looks like JSON as the text typed", () => {
    expect(typedValue("{not json")).toBe("{not json");
    expect(typedValue("42")).toBe("42");
  });
});

describe("nodeTestRequest", () => {
  it("sends the upstream output only for a stage after another", () => {
    expect(takesUpstream(pipeline, "edit")).toBe(true);
    expect(takesUpstream(pipeline, "draft")).toBe(false);
    const edit = nodeTestRequest(pipeline, "edit", { input: "", upstream: "A draft", offline: false });
    expect(edit).toEqual({ spec: pipeline, input: "", upstream: "A draft", model: "node" });
    const first = nodeTestRequest(pipeline, "draft", { input: "Go", upstream: "ignored", offline: true });
    expect(first).toEqual({ spec: pipeline, input: "Go", model: "offline" });
  });

  it("leaves out an empty upstream box", () => {
    expect(nodeTestRequest(pipeline, "edit", { input: "x", upstream: "  ", offline: false })).not.toHaveProperty("upstream");
  });
});

describe("testStatus", () => {
  it("says why a test failed", () => {
    expect(testStatus("failed", "No model named 'gpt'.")).toBe("Failed: No model named 'gpt'.");
    expect(testStatus("running", "")).toBe("Running…");
  });
});
