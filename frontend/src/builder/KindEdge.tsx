// One edge component for every kind; the kind decides the line (see builder.css) and label.
import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath, getSmoothStepPath } from "@xyflow/react";
import { useDecorations } from "./decorations";
import type { BuilderEdge } from "./mapping";
import { ProblemBadge } from "./ProblemBadge";

export function KindEdge(props: EdgeProps<BuilderEdge>) {
  const { id, data, selected, markerEnd } = props;
  const { edgeProblems, diff, select } = useDecorations();
  const spec = data!.spec;
  const [path, labelX, labelY] =
    spec.kind === "delegates" ? getSmoothStepPath(props) : getBezierPath(props);
  const problems = edgeProblems.get(id) ?? [];
  const mark = diff.get(id);
  const classes = [
    `edge-${spec.kind}`,
    selected ? "is-selected" : "",
    problems.some((p) => p.severity === "error") ? "has-error" : "",
    mark ? `diff-${mark}` : "",
  ].join(" ");
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={classes} />
      <EdgeLabelRenderer>
        <div
          className={`edge-label nodrag nopan edge-label-${spec.kind}${selected ? " is-selected" : ""}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-testid={`edge-label-${id}`}
          onClick={() => select(id)}
        >
          {spec.kind}
          {spec.gate && <span className="badge badge-gate">gate: {spec.gate.kind}</span>}
          {mark && <span className={`badge badge-${mark}`}>{mark}</span>}
          <ProblemBadge problems={problems} testId={`edge-problems-${id}`} />
        </div>
      </EdgeLabelRenderer>
    </>
  );
}
