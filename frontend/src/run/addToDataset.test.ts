import { describe, expect, it } from "vitest";
import { ApiError } from "../lib/api";
import { canAddToDataset, datasetError, initialChoice, NEW_DATASET, parseTarget, suggestedName } from "./addToDataset";

const datasets = [
  { id: 7, name: "Refunds", version: 3, items: 12 },
  { id: 4, name: "Shipping", version: 1, items: 2 },
];

describe("the dataset a run is added to", () => {
  it("starts on the newest dataset, or a new one when the workspace has none", () => {
    expect(initialChoice(datasets)).toBe("7");
    expect(initialChoice([])).toBe(NEW_DATASET);
  });

  it("is an existing dataset of the list, by id", () => {
    expect(parseTarget("4", "", datasets)).toEqual({ ok: true, target: { kind: "existing", id: 4 } });
    expect(parseTarget("99", "", datasets)).toEqual({ ok: false, error: "Choose a dataset." });
  });

  it("is a new dataset with a trimmed name that is not empty nor too long", () => {
    expect(parseTarget(NEW_DATASET, "  Billing  ", datasets)).toEqual({ ok: true, target: { kind: "new", name: "Billing" } });
    expect(parseTarget(NEW_DATASET, "   ", datasets)).toEqual({ ok: false, error: "Give the new dataset a name." });
    expect(parseTarget(NEW_DATASET, "x".repeat(201), datasets).ok).toBe(false);
  });

  it("suggests a name from the team's", () => {
    expect(suggestedName("Support desk")).toBe("Support desk cases");
    expect(suggestedName("y".repeat(300))).toHaveLength(200);
  });
});

describe("datasetError", () => {
  it("says what the API said, problems included", () => {
    const err = new ApiError(422, { detail: "Nothing was stored.", problems: [{ line: null, message: "Run 3 has not succeeded." }] });
    expect(datasetError(err)).toBe("Nothing was stored. Run 3 has not succeeded.");
    expect(datasetError(new ApiError(403, { detail: "Creating and changing datasets needs the editor role." }))).toMatch(/editor role/);
    expect(datasetError(new ApiError(500, null))).toBe("The server refused (500).");
    expect(datasetError(new TypeError("fetch failed"))).toMatch(/could not be reached/);
  });
});

describe("canAddToDataset", () => {
  it("is offered for a succeeded run to a role that may change datasets", () => {
    expect(canAddToDataset("succeeded", "", "acme")).toBe(true);
  });

  it("is not offered for a run without an output, to a role without the permission, or outside a workspace", () => {
    for (const status of ["running", "waiting", "failed", "cancelled"]) expect(canAddToDataset(status, "", "acme")).toBe(false);
    expect(canAddToDataset("succeeded", "Creating and changing datasets in Acme needs the editor role.", "acme")).toBe(false);
    expect(canAddToDataset("succeeded", "", "")).toBe(false);
  });
});
