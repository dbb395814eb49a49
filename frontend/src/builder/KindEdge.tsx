// One edge component for every kind; the kind decides the line (see builder.css) and label.
// An edge that runs against the flow (right to left in a pipeline, upwards otherwise) loops
// around the outside of its nodes, and any other edge that shares its nodes with another is
// bent to its own side, so a back-edge is never drawn over the forward one.
import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath, getSmoothStepPath } from "@xyflow/react";
import { useDecorations } from "./decorations";
import type { BuilderEdge } from "./mapping";
import { ProblemBadge } from "./ProblemBadge";

const BEND = 60;

type Ends = Pick<EdgeProps, "sourceX" | "sourceY" | "targetX" | "targetY">;

/** A quadratic curve bent `BEND` px to the left of the direction of travel; the twin going
 * the other way bends to the other side. Returns the path and its midpoint. */
export function bentPath({ sourceX, sourceY, targetX, targetY }: Ends): [string, number, number] {
  const dx = targetX - sourceX;
  const dy = targetY - sourceY;
  const length = Math.hypot(dx, dy) || 1;
  const cx = (sourceX + targetX) / 2 + (-dy / length) * BEND * 2;
  const cy = (sourceY + targetY) / 2 + (dx / length) * BEND * 2;
  const midX = 0.25 * sourceX + 0.5 * cx + 0.25 * targetX;
  const midY = 0.25 * sourceY + 0.5 * cy + 0.25 * targetY;
  return [`M ${sourceX},${sourceY} Q ${cx},${cy} ${targetX},${targetY}`, midX, midY];
}

/** From a right-hand handle back to a left-hand one further left: out, down under both
 * nodes, and back in. */
export function loopPath({ sourceX, sourceY, targetX, targetY }: Ends): [string, number, number] {
  const below = Math.max(sourceY, targetY) + 110;
  const path = `M ${sourceX},${sourceY} C ${sourceX + 80},${below} ${targetX - 80},${below} ${targetX},${targetY}`;
  return [path, (sourceX + targetX) / 2, 0.125 * sourceY + 0.75 * below + 0.125 * targetY];
}

/** From a bottom handle back up to a top one: down, round the outside of the nodes on the
 * source's side, and into the target from above. */
export function upwardLoopPath({ sourceX, sourceY, targetX, targetY }: Ends): [string, number, number] {
  const side = Math.sign(sourceX - targetX) || 1;
  const out = side * 260;
  const path = `M ${sourceX},${sourceY} C ${sourceX + out},${sourceY + 140} ${targetX + out},${targetY - 140} ${targetX},${targetY}`;
  return [path, (sourceX + targetX) / 2 + out * 0.75, (sourceY + targetY) / 2];
}

export function KindEdge(props: EdgeProps<BuilderEdge>) {
  const { id, data, selected, markerEnd } = props;
  const { pattern, edgeProblems, diff, twins, select } = useDecorations();
  const spec = data!.spec;
  const horizontal = pattern === "pipeline";
  const backwards = horizontal ? props.targetX < props.sourceX : props.targetY < props.sourceY;
  const [path, labelX, labelY] = backwards
    ? horizontal
      ? loopPath(props)
      : upwardLoopPath(props)
    : twins.has(id)
      ? bentPath(props)
      : spec.kind === "delegates"
        ? getSmoothStepPath(props)
        : getBezierPath(props);
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
          data-route={backwards ? "loop" : twins.has(id) ? "bent" : "direct"}
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
