// The message feed, derived from events: messages, tool calls paired with their results, and
// one-line notes for what happens between them.
import { toolCallKey } from "./toolCalls";
import type { AgentNames, RunEvent } from "./types";
import { type Usage, usageByCall } from "./usage";

export type FeedItem =
  | {
      kind: "message"; seq: number; agent: string; role: string; content: string; usage: Usage | null;
      model: string | null; // the model that answered (assistant turns), when the event says
    }
  | { kind: "tool"; seq: number; agent: string; tool: string; call: RunEvent; result: RunEvent | null }
  | { kind: "note"; seq: number; agent: string; tone: "info" | "warn" | "bad"; text: string };

/** Text for display: strings as they are, anything else as indented JSON. */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

/** A number of seconds as people read it: "1.9", not "1.9465014578749662". */
function seconds(value: unknown): string {
  return typeof value === "number" ? value.toFixed(1) : asText(value);
}

/** Retries counted from 1: the retry event's ``attempt`` is the attempt about to be made, and
 * the first retry is the second attempt. */
export function retryNumber(payload: Record<string, unknown>): string {
  const attempt = payload.attempt;
  return typeof attempt === "number" ? String(attempt - 1) : asText(attempt);
}

/** ": text" after a sentence, or nothing when there is no text. */
function colon(value: unknown): string {
  const text = asText(value);
  return text ? `: ${text}` : "";
}

/** The name a person gave an agent in the builder, else its id (or the text as it is). */
export function agentName(names: AgentNames, id: unknown): string {
  const key = asText(id);
  return names[key] ?? key;
}

/** A fallback in words: to another agent, or (``kind: "model"``) to the next model of the
 * agent's chain, saying which model failed, why, and whether its circuit was open. */
export function fallbackText(p: Record<string, unknown>, names: AgentNames): string {
  if (p.kind !== "model") {
    return `Falls back from ${agentName(names, p.from)} to ${agentName(names, p.to)}: ${asText(p.reason)}`;
  }
  const circuit = p.circuit_open === true ? " (circuit open: not called)" : "";
  return `Model fallback: ${asText(p.from)} → ${asText(p.to)}${circuit}${colon(p.reason)}`;
}

/** What a team's escalation did when a service level passed, in one sentence. */
export function escalationText(p: Record<string, unknown>, names: AgentNames): string {
  const did: string[] = [];
  if (p.hand_to) did.push(`handed to ${asText(p.hand_to_name) || agentName(names, p.hand_to)}`);
  if (p.raised_priority) did.push(`priority raised to ${asText(p.raised_priority)}`);
  if (p.notify_webhooks === true) did.push("webhooks notified");
  return `Escalated (${asText(p.priority)} service level): ${did.join(", ") || "recorded"}`;
}

function note(event: RunEvent, names: AgentNames): FeedItem | null {
  const p = event.payload;
  const agent = agentName(names, event.agent);
  const make = (tone: "info" | "warn" | "bad", text: string): FeedItem => ({
    kind: "note", seq: event.seq, agent, tone, text,
  }); // prettier-ignore
  switch (event.type) {
    case "run.started":
      return make("info", "Run started");
    case "run.finished":
      return make("info", "Run finished");
    case "run.failed":
      return make("bad", `Run failed: ${asText(p.reason)}`);
    case "run.cancelled":
      return make("warn", `Run cancelled${p.reason ? `: ${asText(p.reason)}` : ""}`);
    case "run.waiting":
      return make("warn", `Run waiting: ${asText(p.reason)}`);
    case "agent.started":
      return make("info", `${agent} started${colon(p.task)}`);
    case "agent.finished":
      return p.status === "failed"
        ? make("bad", `${agent} failed: ${asText(p.reason)}`)
        : make("info", `${agent} finished`);
    case "delegation":
      return make("info", `${agent} delegates to ${agentName(names, p.to)}: ${asText(p.task)}`);
    case "handoff":
      return make("info", `${agentName(names, p.from)} hands off to ${agentName(names, p.to)}: ${asText(p.reason)}`);
    case "gate.passed":
      return make("info", `Gate ${asText(p.edge)} passed`);
    case "gate.failed":
      return make("warn", `Gate ${asText(p.edge)} sent it back: ${asText(p.feedback)}`);
    case "retry":
      return make("warn", `Retry ${retryNumber(p)} in ${seconds(p.delay_s)} s${colon(p.error)}`);
    case "rate_limit.waiting":
      return make("warn", `Waits ${seconds(p.wait_s)} s for ${asText(p.model)}'s rate limit${p.paused ? " (paused after a 429)" : ""}`);
    case "circuit.waiting":
      return make("warn", `Waits ${seconds(p.wait_s)} s for ${asText(p.model)} to be tried again: its circuit is open after repeated failures${p.probing ? " (another run is probing it)" : ""}`);
    case "fallback":
      return make("warn", fallbackText(p, names));
    case "sla.breached":
      return make("bad", `Service level passed: ${asText(p.priority)} work is due within ${seconds(p.deadline_s)} s, ${seconds(p.elapsed_s)} s have gone by`);
    case "sla.escalated":
      return make("warn", escalationText(p, names));
    case "human.requested":
      return make("warn", p.kind === "budget" || !p.node
        ? `Waiting for a person: ${asText(p.prompt)}`
        : `Waiting for ${agentName(names, p.node)} to answer: ${asText(p.prompt)}`); // prettier-ignore
    case "human.answered":
      return make("info", `${asText(p.by) || "A person"} answered: ${asText(p.answer)}`);
    case "budget.warning":
      return make("warn", `Budget: ${asText(p.name)} used ${asText(p.used)} of ${asText(p.limit)} ${asText(p.unit)}`);
    case "error":
      return make("bad", `Error: ${asText(p.message)}`);
    case "conversation.summarised":
      return make("info", `The conversation's ${asText(p.messages_summarised)} oldest messages were summarised: ${asText(p.summary)}`);
    default:
      return null;
  }
}

export function feedItems(events: RunEvent[], names: AgentNames = {}): FeedItem[] {
  const items: FeedItem[] = [];
  const calls = new Map<string, Extract<FeedItem, { kind: "tool" }>>();
  const usage = usageByCall(events);
  // A question is one line: the run.waiting that follows its human.requested says it again.
  const asked = new Set<string>();
  for (const event of events) {
    const p = event.payload;
    if (event.type === "human.requested") asked.add(asText(p.activity_key));
    if (event.type === "run.waiting" && asked.has(asText(p.activity_key))) continue;
    if (event.type === "message") {
      // A turn that only calls tools has no text: its calls follow as items of their own.
      if (!asText(p.content).trim() && Array.isArray(p.tool_calls) && p.tool_calls.length) continue;
      items.push({
        kind: "message", seq: event.seq, agent: agentName(names, event.agent),
        role: asText(p.role) || "assistant", content: asText(p.content),
        usage: usage.get(asText(p.activity_key)) ?? null,
        model: typeof p.model === "string" && p.model ? p.model : null,
      }); // prettier-ignore
    } else if (event.type === "tool.call") {
      const item = {
        kind: "tool" as const, seq: event.seq, agent: agentName(names, event.agent),
        tool: asText(p.tool), call: event, result: null,
      }; // prettier-ignore
      calls.set(toolCallKey(event), item);
      items.push(item);
    } else if (event.type === "tool.result") {
      const item = calls.get(toolCallKey(event));
      if (item) item.result = event;
    } else {
      const n = note(event, names);
      if (n) items.push(n);
    }
  }
  return items;
}

/** Whether any model answer came from the offline simulator. */
export function isSimulated(events: RunEvent[]): boolean {
  return events.some((e) => e.type === "message" && e.payload.simulated === true);
}
