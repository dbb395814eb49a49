// Testing one agent of the draft on the canvas (POST /api/teams/{id}/nodes/{node_id}/test):
// the request built from what the person typed, and what the panel says about the test run.
import type { RunStatus } from "../run/types";
import type { TeamSpec } from "./spec";

export interface NodeTestRequest {
  spec: TeamSpec;
  input: unknown;
  upstream?: unknown;
  model: "node" | "offline";
}

/** What a person typed, as the agent gets it: JSON when it is a JSON object or array, the
 * text as it is otherwise (a task is usually a sentence). */
export function typedValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

/** Whether the node is a pipeline stage after another: it then takes the upstream output. */
export function takesUpstream(spec: TeamSpec, nodeId: string): boolean {
  return spec.pattern === "pipeline" && spec.edges.some((e) => e.kind === "next" && e.target === nodeId);
}

export function nodeTestRequest(
  spec: TeamSpec,
  nodeId: string,
  typed: { input: string; upstream: string; offline: boolean },
): NodeTestRequest {
  const request: NodeTestRequest = { spec, input: typedValue(typed.input), model: typed.offline ? "offline" : "node" };
  if (takesUpstream(spec, nodeId) && typed.upstream.trim()) request.upstream = typedValue(typed.upstream);
  return request;
}

const STATUS_TEXT: Record<RunStatus, string> = {
  queued: "Queued…",
  running: "Running…",
  waiting: "Waiting…",
  succeeded: "Finished",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** One line on the test run: its status, and why it failed. */
export function testStatus(status: RunStatus, failureReason: string): string {
  const text = STATUS_TEXT[status] ?? status;
  return status === "failed" && failureReason ? `${text}: ${failureReason}` : text;
}
