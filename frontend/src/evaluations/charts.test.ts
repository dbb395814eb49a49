import { describe, expect, it } from "vitest";
import {
  binLabel,
  binOf,
  type ChartData,
  costScorePoints,
  formatUsd,
  histogram,
  linearScale,
  meanScore,
  niceTicks,
  scoreHistograms,
} from "./charts";

describe("histogram bins", () => {
  it("puts each score in its tenth, 1 in the last bin, and clamps what is out of range", () => {
    expect(binOf(0, 10)).toBe(0);
    expect(binOf(0.05, 10)).toBe(0);
    expect(binOf(0.1, 10)).toBe(1);
    expect(binOf(0.99, 10)).toBe(9);
    expect(binOf(1, 10)).toBe(9);
    expect(binOf(-2, 10)).toBe(0);
    expect(binOf(7, 10)).toBe(9);
    expect(binOf(Number.NaN, 10)).toBe(0);
  });

  it("counts every score once", () => {
    expect(histogram([0, 0, 0.5, 1, 1, 1], 10)).toEqual([2, 0, 0, 0, 0, 1, 0, 0, 0, 3]);
    expect(histogram([0.2, 0.7], 2)).toEqual([1, 1]);
    expect(histogram([], 4)).toEqual([0, 0, 0, 0]);
  });

  it("labels bins by their edges", () => {
    expect(binLabel(0, 10)).toBe("0.0–0.1");
    expect(binLabel(9, 10)).toBe("0.9–1.0");
  });
});

describe("scales and ticks", () => {
  it("maps a domain linearly onto a range, inverted ranges too", () => {
    const x = linearScale([0, 10], [40, 240]);
    expect(x(0)).toBe(40);
    expect(x(5)).toBe(140);
    expect(x(10)).toBe(240);
    const y = linearScale([0, 1], [200, 20]); // SVG y grows downwards
    expect(y(1)).toBe(20);
    expect(y(0.5)).toBe(110);
    expect(linearScale([3, 3], [0, 100])(3)).toBe(0);
  });

  it("rounds the axis up to a nice step", () => {
    expect(niceTicks(7, 4)).toEqual({ top: 8, ticks: [0, 2, 4, 6, 8] });
    expect(niceTicks(0.0013, 4)).toEqual({ top: 0.0015, ticks: [0, 0.0005, 0.001, 0.0015] });
    expect(niceTicks(10, 4)).toEqual({ top: 10, ticks: [0, 2.5, 5, 7.5, 10] });
    expect(niceTicks(0)).toEqual({ top: 1, ticks: [0, 1] });
    // Counts step by whole numbers.
    expect(niceTicks(2, 4, true)).toEqual({ top: 2, ticks: [0, 1, 2] });
    expect(niceTicks(9, 4, true)).toEqual({ top: 9, ticks: [0, 3, 6, 9] });
    expect(niceTicks(Number.NaN)).toEqual({ top: 1, ticks: [0, 1] });
  });

  it("writes costs with the decimals the step needs", () => {
    expect(formatUsd(0.0015, 0.0005)).toBe("$0.0015");
    expect(formatUsd(2, 0.5)).toBe("$2.0");
    expect(formatUsd(20, 5)).toBe("$20");
  });
});

const data: ChartData = {
  a: 1,
  b: 2,
  scorers: ["exact", "judge"],
  items: [
    { item_id: 10, a: { scores: { exact: 1, judge: 0.5 }, cost_usd: 0.002 }, b: { scores: { exact: 0, judge: 0.2 }, cost_usd: 0.001 } },
    { item_id: 11, a: { scores: { exact: 1, judge: 1 }, cost_usd: 0.004 }, b: { scores: {}, cost_usd: 0 } },
  ],
};

describe("the comparison's chart data", () => {
  it("scores an item by the mean of its scorers", () => {
    expect(meanScore(data.items[0].a, data.scorers)).toBe(0.75);
    expect(meanScore(data.items[1].b, data.scorers)).toBeNull();
  });

  it("gives a point per side of an item with scores", () => {
    expect(costScorePoints(data)).toEqual([
      { item_id: 10, side: "a", cost: 0.002, score: 0.75 },
      { item_id: 10, side: "b", cost: 0.001, score: 0.1 },
      { item_id: 11, side: "a", cost: 0.004, score: 1 },
    ]);
  });

  it("gives each scorer a histogram per side", () => {
    const [exact, judge] = scoreHistograms(data, 2);
    expect(exact).toEqual({ scorer: "exact", a: [0, 2], b: [1, 0] });
    expect(judge).toEqual({ scorer: "judge", a: [0, 2], b: [1, 0] });
  });
});
