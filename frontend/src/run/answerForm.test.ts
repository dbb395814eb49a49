import { describe, expect, it } from "vitest";
import { answerFields, collectAnswer, parseJsonAnswer } from "./answerForm";

describe("answerFields", () => {
  it("makes a free-text field when there is no schema", () => {
    expect(answerFields(null)).toEqual([
      { name: null, label: "Answer", kind: "string", required: true, options: [] },
    ]);
  });

  it("makes one field per property of simple types", () => {
    const fields = answerFields({
      type: "object",
      required: ["decision"],
      properties: {
        decision: { enum: ["approve", "reject"], title: "Decision" },
        amount: { type: "number" },
        urgent: { type: "boolean" },
      },
    });
    expect(fields?.map((f) => [f.name, f.kind, f.required])).toEqual([
      ["decision", "enum", true],
      ["amount", "number", false],
      ["urgent", "boolean", false],
    ]);
    expect(fields?.[0].options).toEqual(["approve", "reject"]);
  });

  it("falls back to JSON for nested objects and arrays", () => {
    expect(answerFields({ type: "array" })).toBeNull();
    expect(
      answerFields({ type: "object", properties: { items: { type: "array" } } }),
    ).toBeNull();
  });
});

describe("collectAnswer", () => {
  const fields = answerFields({
    type: "object",
    required: ["count"],
    properties: { count: { type: "integer" }, note: { type: "string" }, ok: { type: "boolean" } },
  })!;

  it("types the values the schema asks for and leaves out empty optional ones", () => {
    expect(collectAnswer(fields, { count: "3", ok: true })).toEqual({
      answer: { count: 3, ok: true },
    });
  });

  it("says what to fix when a value is missing or not a number", () => {
    expect(collectAnswer(fields, {})).toEqual({ error: "count is required." });
    expect(collectAnswer(fields, { count: "2.5" })).toEqual({
      error: "count must be a whole number.",
    });
  });

  it("answers a single-value schema with the bare value", () => {
    expect(collectAnswer(answerFields({ type: "number" })!, { "": "1.5" })).toEqual({
      answer: 1.5,
    });
  });
});

describe("parseJsonAnswer", () => {
  it("parses JSON and explains invalid text", () => {
    expect(parseJsonAnswer('{"a": [1]}')).toEqual({ answer: { a: [1] } });
    expect(parseJsonAnswer("{a")).toMatchObject({ error: expect.stringContaining("not valid JSON") });
  });
});
