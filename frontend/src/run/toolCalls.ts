// Which tool.result belongs to which tool.call. The provider's call id is no key: the offline
// model numbers calls per turn ("offline_0_0" in every agent) and some OpenAI-compatible servers
// reuse ids too, so concurrent agents' calls would collide. The engine's activity key (the
// call's path from the root: agent path, turn, call index) is unique in a run and is the same on
// the call and its result.
import type { RunEvent } from "./types";

/** The key pairing a tool.call with its tool.result. Events recorded before they carried an
 * activity key fall back to the agent and the provider's id, which is the best they offer. */
export function toolCallKey(event: RunEvent): string {
  const key = event.payload.activity_key;
  if (typeof key === "string" && key) return `activity:${key}`;
  return `call:${event.agent ?? ""}:${String(event.payload.call_id ?? "")}`;
}
