import { type ChartData, scoreHistograms } from "./charts";
import { CostScatter } from "./CostScatter";
import { ScoreHistogram } from "./ScoreHistogram";

/** The comparison's charts: each scorer's score distribution for A and B, and cost against score. */
export function ComparisonCharts({ data }: { data: ChartData }) {
  const labels = { a: `Experiment ${data.a}`, b: `Experiment ${data.b}` };
  if (data.items.length === 0) return <p className="muted">No shared scored item to chart yet.</p>;
  return (
    <>
      <p className="chart-legend">
        <span className="swatch swatch-a" aria-hidden="true" /> {labels.a} (baseline), circles{" "}
        <span className="swatch swatch-b" aria-hidden="true" /> {labels.b}, squares
      </p>
      <div className="charts">
        {scoreHistograms(data).map((h) => (
          <ScoreHistogram key={h.scorer} scorer={h.scorer} a={h.a} b={h.b} labels={labels} />
        ))}
        <CostScatter data={data} labels={labels} />
      </div>
    </>
  );
}
