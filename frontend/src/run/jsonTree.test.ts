import { describe, expect, it } from "vitest";
import { jsonEntries, jsonKind, jsonSummary, opensByItself } from "./jsonTree";

describe("jsonTree", () => {
  it("tells kinds apart, null and arrays included", () => {
    expect([null, [], {}, "a", 1, true].map(jsonKind)).toEqual([
      "null", "array", "object", "string", "number", "boolean",
    ]);
  });

  it("summarises an object by its keys and an array by its items", () => {
    expect(jsonSummary({ total: 3, rows: [1, 2] })).toBe("{ total, rows } 2 keys");
    expect(jsonSummary([1, "two", { x: 1 }, [3]])).toBe('[ 1, "two", {…}, […] ] 4 items');
    expect(jsonSummary({ one: 1 })).toBe("{ one } 1 key");
    expect(jsonSummary([])).toBe("[]");
  });

  it("cuts a long summary short", () => {
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`column_${i}`, i]));
    const summary = jsonSummary(wide);
    expect(summary).toContain("…");
    expect(summary.endsWith("} 30 keys")).toBe(true);
  });

  it("opens the first levels and folds deep or crowded nodes", () => {
    expect(opensByItself({ a: 1 }, 0)).toBe(true);
    expect(opensByItself({ a: 1 }, 1)).toBe(true);
    expect(opensByItself({ a: 1 }, 2)).toBe(false);
    expect(opensByItself(Array.from({ length: 40 }, (_, i) => i), 0)).toBe(false);
  });

  it("lists array entries by index", () => {
    expect(jsonEntries(["x", "y"])).toEqual([["0", "x"], ["1", "y"]]);
    expect(jsonEntries("scalar")).toEqual([]);
  });
});
