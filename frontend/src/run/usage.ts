// Tokens, cost and time per model call and per agent, from the run's usage events (one per
// model call: the event's key is the call's activity key + "#usage").
import type { RunEvent } from "./types";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AgentUsage extends Usage {
  agent: string;
  calls: number;
}

const number = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function usageOf(event: RunEvent): Usage {
  const p = event.payload;
  return { inputTokens: number(p.input_tokens), outputTokens: number(p.output_tokens), costUsd: number(p.cost_usd) };
}

/** The model call a usage event measured: its activity key (what the call's message carries). */
export function usageCallKey(event: RunEvent): string | null {
  return event.type === "usage" && event.key.endsWith("#usage") ? event.key.slice(0, -"#usage".length) : null;
}

/** Usage per model call, by the call's activity key. */
export function usageByCall(events: RunEvent[]): Map<string, Usage> {
  const byCall = new Map<string, Usage>();
  for (const event of events) {
    const key = usageCallKey(event);
    if (key) byCall.set(key, usageOf(event));
  }
  return byCall;
}

/** Every agent's model calls added up, in order of first use. */
export function usageByAgent(events: RunEvent[]): AgentUsage[] {
  const rows = new Map<string, AgentUsage>();
  for (const event of events) {
    if (event.type !== "usage") continue;
    const agent = event.agent ?? "";
    const row = rows.get(agent) ?? { agent, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const used = usageOf(event);
    rows.set(agent, {
      agent, calls: row.calls + 1, inputTokens: row.inputTokens + used.inputTokens,
      outputTokens: row.outputTokens + used.outputTokens, costUsd: row.costUsd + used.costUsd,
    }); // prettier-ignore
  }
  return [...rows.values()];
}
