import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import type { ChartData } from "./charts";
import { ComparisonCharts } from "./ComparisonCharts";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

afterEach(() => {
  document.body.innerHTML = "";
});

function render(data: ChartData): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  act(() => createRoot(container).render(<ComparisonCharts data={data} />));
  return container;
}

const data: ChartData = {
  a: 3,
  b: 4,
  scorers: ["exact", "contains"],
  items: [
    { item_id: 1, a: { scores: { exact: 1, contains: 1 }, cost_usd: 0.01 }, b: { scores: { exact: 0, contains: 1 }, cost_usd: 0.02 } },
    { item_id: 2, a: { scores: { exact: 1, contains: 0 }, cost_usd: 0.01 }, b: { scores: { exact: 1, contains: 1 }, cost_usd: 0.03 } },
  ],
};

describe("ComparisonCharts", () => {
  it("draws a histogram per scorer and one scatter point per item and side", () => {
    const page = render(data);
    expect(page.querySelector("[data-testid=histogram-exact]")).not.toBeNull();
    expect(page.querySelector("[data-testid=histogram-contains]")).not.toBeNull();
    const exact = page.querySelector("[data-testid=histogram-exact]")!;
    // Ten bins, a bar each for A and B; A's two items both in the last bin.
    expect(exact.querySelectorAll("rect.bar-a")).toHaveLength(10);
    const lastA = exact.querySelectorAll("rect.bar-a")[9];
    expect(lastA.querySelector("title")?.textContent).toBe("Experiment 3, 0.9–1.0: 2");
    const scatter = page.querySelector("[data-testid=cost-scatter]")!;
    expect(scatter.querySelectorAll("circle.point-a")).toHaveLength(2);
    expect(scatter.querySelectorAll("rect.point-b")).toHaveLength(2);
    expect(scatter.textContent).toContain("$0.03");
  });

  it("says so when there is nothing to chart", () => {
    expect(render({ ...data, items: [] }).textContent).toContain("No shared scored item");
  });
});
