// One card for every node kind: what it is, its name, role, model and tools, and badges.
import { Handle, type NodeProps, Position, useUpdateNodeInternals } from "@xyflow/react";
import { useEffect, useRef } from "react";
import { useDecorations } from "./decorations";
import type { BuilderNode } from "./mapping";
import { ProblemBadge } from "./ProblemBadge";

const KIND_LABEL = { agent: "Agent", human: "Human", team: "Team" } as const;

export function NodeCard({ id, data, selected }: NodeProps<BuilderNode>) {
  const { pattern, entry, nodeProblems, diff, open } = useDecorations();
  const spec = data.spec;
  const horizontal = pattern === "pipeline";
  // React Flow measures handles once, when the node appears; after a pattern switch moves them
  // (top/bottom to left/right) it must measure again, or edges keep leaving from the old places.
  const updateNodeInternals = useUpdateNodeInternals();
  const drawnHorizontal = useRef(horizontal);
  useEffect(() => {
    if (drawnHorizontal.current === horizontal) return;
    drawnHorizontal.current = horizontal;
    updateNodeInternals(id);
  }, [horizontal, id, updateNodeInternals]);
  const mark = diff.get(id);
  return (
    <div
      className={`node-card node-${spec.kind}${selected ? " is-selected" : ""}${mark ? ` diff-${mark}` : ""}`}
      data-testid={`node-${id}`}
    >
      <Handle type="target" position={horizontal ? Position.Left : Position.Top} />
      <div className="node-head">
        <span className="node-kind">{KIND_LABEL[spec.kind]}</span>
        {entry === id && <span className="badge badge-entry">entry</span>}
        {mark && <span className={`badge badge-${mark}`}>{mark}</span>}
        <ProblemBadge problems={nodeProblems.get(id) ?? []} testId={`node-problems-${id}`} />
      </div>
      <div className="node-name">{spec.name}</div>
      {spec.role && <div className="node-role">{spec.role}</div>}
      {spec.kind === "agent" && (
        <>
          <div className="node-model">{spec.model}</div>
          {spec.tools.length > 0 && (
            <ul className="node-tools" aria-label="Tools">
              {spec.tools.map((tool) => (
                <li key={tool}>{tool}</li>
              ))}
            </ul>
          )}
          {spec.output_schema && <span className="badge">structured output</span>}
        </>
      )}
      {spec.kind === "human" && <div className="node-role">waits for a person</div>}
      {spec.kind === "team" && (
        <div className="node-model">
          {spec.team_id != null ? `saved team #${spec.team_id}` : `inline: ${spec.spec?.nodes.length ?? 0} nodes`}
        </div>
      )}
      {spec.kind === "team" && spec.team_id == null && (
        <button
          type="button"
          className="node-open nodrag"
          onClick={() => open(id)}
          aria-label={`Open ${spec.name}`}
          data-testid={`open-${id}`}
        >
          Open
        </button>
      )}
      <Handle type="source" position={horizontal ? Position.Right : Position.Bottom} />
    </div>
  );
}
