import { describe, expect, it } from "vitest";
import { backoffMs } from "./socket";

describe("backoffMs", () => {
  it("grows exponentially from half a second and is capped at 15 s", () => {
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(20, () => 1)).toBe(15000);
  });

  it("spreads reconnections with jitter between half and the whole delay", () => {
    expect(backoffMs(2, () => 0)).toBe(1000);
  });
});
