// The comparison page's charts, drawn in the browser from the numbers the server embeds.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import type { ChartData } from "../evaluations/charts";
import { ComparisonCharts } from "../evaluations/ComparisonCharts";

const root = document.getElementById("charts-root");
const data = document.getElementById("chart-data");
if (root && data?.textContent) {
  createRoot(root).render(
    <StrictMode>
      <ComparisonCharts data={JSON.parse(data.textContent) as ChartData} />
    </StrictMode>,
  );
}
