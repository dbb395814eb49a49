import { describe, expect, it } from "vitest";
import { buildInput, initialText, initialValues, inputFields } from "./runForm";

const schema = {
  type: "object",
  required: ["topic"],
  properties: {
    topic: { type: "string", title: "Topic", maxLength: 100 },
    depth: { type: "integer" },
    tone: { enum: ["formal", "casual"] },
    urgent: { type: "boolean" },
    tags: { type: "array" },
  },
};

describe("inputFields", () => {
  it("makes one field per property with a type that fits", () => {
    const fields = inputFields(schema)!;
    expect(fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ["topic", "text", true],
      ["depth", "integer", false],
      ["tone", "select", false],
      ["urgent", "boolean", false],
      ["tags", "json", false],
    ]);
    expect(fields[2].options).toEqual(["formal", "casual"]);
  });

  it("offers no fields for a schema without properties", () => {
    expect(inputFields(null)).toBeNull();
    expect(inputFields({ type: "string" })).toBeNull();
  });
});

describe("buildInput", () => {
  const fields = inputFields(schema)!;

  it("converts the values to the schema's types and leaves out empty optional ones", () => {
    const input = buildInput(fields, { topic: " tides ", depth: "3", urgent: true, tags: '["a"]', tone: "" });
    expect(input).toEqual({ topic: "tides", depth: 3, urgent: true, tags: ["a"] });
  });

  it("says which field is wrong", () => {
    expect(() => buildInput(fields, { topic: "" })).toThrow("Topic is required.");
    expect(() => buildInput(fields, { topic: "x", depth: "2.5" })).toThrow("depth must be a whole number.");
    expect(() => buildInput(fields, { topic: "x", tags: "[" })).toThrow("tags must be JSON");
  });
});

describe("where the run form starts", () => {
  const schema = {
    type: "object",
    properties: {
      period: { type: "string", title: "Month" },
      accounts: { type: "array" },
      strict: { type: "boolean", default: true },
      note: { type: "string" },
    },
    examples: [{ period: "2026-10", accounts: ["1200", "4000"] }],
  };

  it("starts from a template's sample input, then the defaults, and leaves the rest empty", () => {
    const fields = inputFields(schema)!;
    expect(initialValues(schema, fields)).toEqual({ period: "2026-10", accounts: '["1200","4000"]', strict: true });
  });

  it("turns the sample back into the same input when submitted unchanged", () => {
    const fields = inputFields(schema)!;
    expect(buildInput(fields, initialValues(schema, fields))).toEqual({
      period: "2026-10",
      accounts: ["1200", "4000"],
      strict: true,
    });
  });

  it("offers the example as JSON when the schema has no fields", () => {
    expect(initialText({ type: "array", examples: [[1, 2]] })).toBe("[\n  1,\n  2\n]");
    expect(initialText(null)).toBe("");
  });
});
