import { describe, expect, it } from "vitest";
import { buildInput, inputFields } from "./runForm";

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
