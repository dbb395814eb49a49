// What the builder's chat panel draws, from the documented conversation API.

export interface ChatMessage {
  role: "user" | "assistant";
  content: string | null;
  turn: number;
  run_id: string | null;
  status: string;
  failure_reason: string;
  run_url: string | null;
  audit_url: string | null;
}

export interface Conversation {
  id: number;
  url: string;
  messages: ChatMessage[];
}

const ACTIVE = new Set(["queued", "running", "waiting"]);

export function isActive(status: string): boolean {
  return ACTIVE.has(status);
}

/** The text an assistant message shows: its answer, what is streaming in, or why it has none. */
export function shownText(message: ChatMessage, streaming: string): string {
  if (message.content !== null) return message.content;
  if (isActive(message.status)) return streaming;
  return message.failure_reason || message.status;
}

/** The run whose answer is still being written, if any: the last turn's. */
export function activeRun(conversation: Conversation | null): string | null {
  const last = conversation?.messages[conversation.messages.length - 1];
  return last && isActive(last.status) ? last.run_id : null;
}
