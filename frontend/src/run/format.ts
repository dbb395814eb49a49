// Small display helpers shared by the run page's components.

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) return `${h}h ${m}m ${rest}s`;
  if (m) return `${m}m ${rest}s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatCost(usd: string | number): string {
  const n = typeof usd === "number" ? usd : Number(usd);
  return Number.isFinite(n) ? `$${n.toFixed(4)}` : "—";
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A deadline in the viewer's time zone: "14:05" today, "2031-05-04 14:05" another day;
 * null when there is none or it is not a date. */
export function formatDeadline(iso: string | null | undefined, now: number): string | null {
  const at = iso ? new Date(iso) : null;
  if (at === null || Number.isNaN(at.getTime())) return null;
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === new Date(now).toDateString()) return time;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** How long a call took: "340 ms" under a second, else as formatDuration. */
export function formatLatency(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 && ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms);
}

/** A model call's or an agent's usage in one line: "940 in · 312 out · $0.0072". */
export function formatUsage(usage: { inputTokens: number; outputTokens: number; costUsd: number }): string {
  return `${usage.inputTokens} in · ${usage.outputTokens} out · ${formatCost(usage.costUsd)}`;
}
