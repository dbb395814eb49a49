// The drawn-only line that attaches the stage a gate checks to the gate's reviewer, and an agent to
// its fallback agent; edited in the side panel, never saved as an edge.
import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from "@xyflow/react";
import type { GuardEdge as GuardEdgeType } from "./tidy";

const LABEL = { reviewer: "reviewed by", fallback: "falls back to" } as const;

export function GuardEdge(props: EdgeProps<GuardEdgeType>) {
  const { id, data, markerEnd } = props;
  const [path, labelX, labelY] = getBezierPath(props);
  const kind = data!.guard;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={`edge-guard edge-guard-${kind}`} />
      <EdgeLabelRenderer>
        <div
          className={`edge-label guard-label guard-label-${kind} nopan`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-testid={`guard-${id}`}
        >
          {LABEL[kind]}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}
