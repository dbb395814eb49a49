import { describe, expect, it } from "vitest";
import { jsonProblem } from "./jsonProblem";

describe("jsonProblem", () => {
  it("accepts an object and an empty text", () => {
    expect(jsonProblem('{"type": "object"}')).toBeNull();
    expect(jsonProblem("  ")).toBeNull();
  });

  it("says the text does not parse yet", () => {
    expect(jsonProblem('{"type": ')).toMatchObject({ kind: "syntax" });
    expect(jsonProblem('{"type": ')!.message).toMatch(/^Not valid JSON yet: /);
  });

  it("says a schema must be an object", () => {
    for (const text of ["[]", "3", '"x"', "null"]) expect(jsonProblem(text)).toMatchObject({ kind: "not-object" });
  });
});
