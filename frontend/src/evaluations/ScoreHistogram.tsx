import { binLabel, linearScale, niceTicks } from "./charts";

interface Props {
  scorer: string;
  a: number[];
  b: number[];
  labels: { a: string; b: string };
}

const W = 360;
const H = 200;
const PAD = { left: 32, right: 8, top: 10, bottom: 34 };

/** One scorer's score distribution: per bin of 0..1, a bar for A beside a bar for B. */
export function ScoreHistogram({ scorer, a, b, labels }: Props) {
  const bins = a.length;
  const { top, ticks } = niceTicks(Math.max(1, ...a, ...b), 4, true);
  const y = linearScale([0, top], [H - PAD.bottom, PAD.top]);
  const x = linearScale([0, bins], [PAD.left, W - PAD.right]);
  const slot = (W - PAD.left - PAD.right) / bins;
  const bar = Math.max(1, slot / 2 - 2);
  const summary = `Scores of ${scorer}: ${labels.a} ${a.join(", ")}; ${labels.b} ${b.join(", ")} items per tenth from 0 to 1`;
  return (
    <figure className="chart" data-testid={`histogram-${scorer}`}>
      <figcaption>
        <code>{scorer}</code>: how many items scored what
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        {ticks.map((t) => (
          <g key={t} className="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 4} y={y(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {a.map((count, i) => (
          <g key={i}>
            <rect className="bar-a" x={x(i) + 1} y={y(count)} width={bar} height={y(0) - y(count)}>
              <title>{`${labels.a}, ${binLabel(i, bins)}: ${count}`}</title>
            </rect>
            <rect className="bar-b" x={x(i) + 1 + bar + 1} y={y(b[i])} width={bar} height={y(0) - y(b[i])}>
              <title>{`${labels.b}, ${binLabel(i, bins)}: ${b[i]}`}</title>
            </rect>
          </g>
        ))}
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
        {[0, 0.5, 1].map((s) => (
          <text key={s} x={x(s * bins)} y={H - PAD.bottom + 14} textAnchor="middle">
            {s}
          </text>
        ))}
        <text x={(PAD.left + W - PAD.right) / 2} y={H - 4} textAnchor="middle" className="axis-title">
          score
        </text>
      </svg>
    </figure>
  );
}
