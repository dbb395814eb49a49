// The comparison page's charts as data: score histograms per scorer and cost against score,
// mapped to SVG coordinates by plain functions (drawn by ComparisonCharts.tsx).

/** One side of one item of the comparison, as the page embeds it. */
export interface Side {
  scores: Record<string, number>;
  cost_usd: number;
}

export interface ChartItem {
  item_id: number;
  a: Side;
  b: Side;
}

export interface ChartData {
  a: number;
  b: number;
  scorers: string[];
  items: ChartItem[];
}

/** The bin of a score in ``bins`` equal bins over 0..1; 1 falls in the last, out-of-range scores are clamped. */
export function binOf(score: number, bins: number): number {
  if (!Number.isFinite(score) || score <= 0) return 0;
  return Math.min(Math.floor(score * bins), bins - 1);
}

/** How many scores fall in each of ``bins`` equal bins over 0..1. */
export function histogram(scores: number[], bins = 10): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const score of scores) counts[binOf(score, bins)] += 1;
  return counts;
}

/** The label of bin ``i``: "0.0–0.1", … "0.9–1.0". */
export function binLabel(i: number, bins: number): string {
  return `${(i / bins).toFixed(1)}–${((i + 1) / bins).toFixed(1)}`;
}

export type Scale = (value: number) => number;

/** Maps ``domain`` linearly onto ``range``; a domain of one point maps to the range's start. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  return (value) => (span === 0 ? r0 : r0 + ((value - d0) / span) * (r1 - r0));
}

/** A round upper bound for an axis from 0 to ``max`` with about ``count`` ticks, and the ticks;
 * ``integer`` axes (counts) step by whole numbers. */
export function niceTicks(max: number, count = 4, integer = false): { top: number; ticks: number[] } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, ticks: [0, 1] };
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const step = integer ? Math.max(1, Math.ceil(nice)) : nice;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let n = 0; n * step <= top + step * 1e-9; n += 1) ticks.push(Number((n * step).toPrecision(12)));
  return { top, ticks };
}

/** The mean of a side's scores over ``scorers`` (those it has): the item's score on the scatter. */
export function meanScore(side: Side, scorers: string[]): number | null {
  const values = scorers.map((s) => side.scores[s]).filter((v): v is number => typeof v === "number");
  return values.length ? values.reduce((x, y) => x + y, 0) / values.length : null;
}

export interface Point {
  item_id: number;
  side: "a" | "b";
  cost: number;
  score: number;
}

/** Every item twice (A and B) as (cost, mean score); sides without scores are left out. */
export function costScorePoints(data: ChartData): Point[] {
  const points: Point[] = [];
  for (const item of data.items) {
    for (const side of ["a", "b"] as const) {
      const score = meanScore(item[side], data.scorers);
      if (score !== null) points.push({ item_id: item.item_id, side, cost: item[side].cost_usd, score });
    }
  }
  return points;
}

/** Each scorer's histograms for A and B. */
export function scoreHistograms(data: ChartData, bins = 10): { scorer: string; a: number[]; b: number[] }[] {
  const side = (name: string, which: "a" | "b") =>
    data.items.map((i) => i[which].scores[name]).filter((v): v is number => typeof v === "number");
  return data.scorers.map((scorer) => ({
    scorer,
    a: histogram(side(scorer, "a"), bins),
    b: histogram(side(scorer, "b"), bins),
  }));
}

/** A cost as an axis label: dollars with as many decimals as the step between ticks needs. */
export function formatUsd(value: number, step: number): string {
  const text = String(Number(step.toPrecision(6)));
  const decimals = step >= 1 ? 0 : text.includes("e") ? 6 : Math.min(6, (text.split(".")[1] ?? "").length);
  return `$${value.toFixed(decimals)}`;
}
