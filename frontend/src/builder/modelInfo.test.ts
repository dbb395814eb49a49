import { describe, expect, it } from "vitest";
import type { ModelInfo } from "./builderApi";
import {
  addFallback,
  capabilities,
  fallbackCandidates,
  modelOptionLabel,
  moveFallback,
  priceLabel,
  removeFallback,
} from "./modelInfo";

const caps = { tools: true, structured_output: false, vision: true, context_window: 128000 };
const model = (name: string, extra: Partial<ModelInfo> = {}): ModelInfo => ({
  name, provider: "openai", model: "gpt-4.1-mini", simulated: false,
  input_usd_per_mtok: 0.4, output_usd_per_mtok: 1.6, price_source: "model", capabilities: caps, ...extra,
}); // prettier-ignore

describe("what the picker says about a model", () => {
  it("gives the price in and out per 1M tokens, marking catalogue prices", () => {
    expect(priceLabel(model("a"))).toBe("$0.40 in / $1.60 out per 1M tokens");
    expect(priceLabel(model("a", { price_source: "catalogue", input_usd_per_mtok: 3, output_usd_per_mtok: 15 }))).toBe(
      "$3.00 in / $15.00 out per 1M tokens (catalogue)",
    );
    expect(priceLabel(model("a", { input_usd_per_mtok: 0.005 }))).toBe("$0.005 in / $1.60 out per 1M tokens");
    expect(priceLabel(model("a", { price_source: "unknown" }))).toBe("price unknown");
    expect(priceLabel(model("offline", { simulated: true }))).toBe("free (simulated)");
  });

  it("lists tools, structured output and vision, unknown when the catalogue is silent", () => {
    expect(capabilities(model("a")).map((c) => [c.name, c.has])).toEqual([
      ["tools", true],
      ["structured output", false],
      ["vision", true],
    ]);
    expect(capabilities(model("a", { capabilities: null })).every((c) => c.has === null)).toBe(true);
  });

  it("puts the provider and price in each option", () => {
    expect(modelOptionLabel(model("fast"))).toBe("fast · openai: gpt-4.1-mini · $0.40/$1.60 per 1M");
  });
});

describe("the fallback chain", () => {
  it("offers models that are neither the agent's own nor already chained", () => {
    const models = [model("a"), model("b"), model("c")];
    expect(fallbackCandidates(models, "a", ["c"]).map((m) => m.name)).toEqual(["b"]);
  });

  it("adds once, removes and reorders without losing a model", () => {
    expect(addFallback(["b"], "c")).toEqual(["b", "c"]);
    expect(addFallback(["b"], "b")).toEqual(["b"]);
    expect(removeFallback(["b", "c", "d"], 1)).toEqual(["b", "d"]);
    expect(moveFallback(["b", "c", "d"], 2, -1)).toEqual(["b", "d", "c"]);
    expect(moveFallback(["b", "c"], 0, -1)).toEqual(["b", "c"]);
  });
});
