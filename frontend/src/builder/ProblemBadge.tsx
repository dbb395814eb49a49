import type { Problem } from "./spec";

/** A red (error) or amber (warning) badge with the problems in its tooltip. */
export function ProblemBadge({ problems, testId }: { problems: Problem[]; testId: string }) {
  if (!problems.length) return null;
  const errors = problems.filter((p) => p.severity === "error").length;
  const text = problems.map((p) => p.message).join("\n");
  return (
    <span
      className={`badge ${errors ? "badge-error" : "badge-warning"}`}
      title={text}
      role="img"
      aria-label={`${problems.length} problem${problems.length > 1 ? "s" : ""}: ${text}`}
      data-testid={testId}
    >
      {errors ? "!" : "?"} {problems.length}
    </span>
  );
}
