import { costScorePoints, type ChartData, formatUsd, linearScale, niceTicks } from "./charts";

const W = 360;
const H = 220;
const PAD = { left: 34, right: 12, top: 10, bottom: 36 };

/** Each item's cost against its mean score, A and B in their own marks. */
export function CostScatter({ data, labels }: { data: ChartData; labels: { a: string; b: string } }) {
  const points = costScorePoints(data);
  const { top, ticks } = niceTicks(Math.max(0, ...points.map((p) => p.cost)), 4);
  const step = ticks.length > 1 ? ticks[1] : top;
  // Inset from the axes, so a point at zero cost or score does not sit on an axis label.
  const x = linearScale([0, top], [PAD.left + 8, W - PAD.right]);
  const y = linearScale([0, 1], [H - PAD.bottom - 6, PAD.top]);
  return (
    <figure className="chart" data-testid="cost-scatter">
      <figcaption>Cost against score, per item</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Cost against mean score of ${points.length} item runs of ${labels.a} and ${labels.b}`}>
        {[0, 0.5, 1].map((s) => (
          <g key={s} className="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(s)} y2={y(s)} />
            <text x={PAD.left - 4} y={y(s) + 3} textAnchor="end">
              {s}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <text key={t} x={x(t)} y={H - PAD.bottom + 14} textAnchor="middle">
            {formatUsd(t, step)}
          </text>
        ))}
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
        <line className="axis" x1={PAD.left} x2={PAD.left} y1={H - PAD.bottom} y2={y(1)} />
        {points.map((p) =>
          p.side === "a" ? (
            <circle key={`a${p.item_id}`} className="point-a" cx={x(p.cost)} cy={y(p.score)} r={6}>
              <title>{`${labels.a}, item ${p.item_id}: ${formatUsd(p.cost, step / 100)}, score ${p.score.toFixed(2)}`}</title>
            </circle>
          ) : (
            <rect key={`b${p.item_id}`} className="point-b" x={x(p.cost) - 3.5} y={y(p.score) - 3.5} width={7} height={7}>
              <title>{`${labels.b}, item ${p.item_id}: ${formatUsd(p.cost, step / 100)}, score ${p.score.toFixed(2)}`}</title>
            </rect>
          ),
        )}
        <text x={(PAD.left + W - PAD.right) / 2} y={H - 4} textAnchor="middle" className="axis-title">
          cost (USD)
        </text>
      </svg>
    </figure>
  );
}
