// The run's websocket: subscribes from the last seq it has, and reconnects with backoff
// (resubscribing from its last seq, so a dropped connection loses nothing).
import { parseServerMessage } from "./messages";
import type { ServerMessage } from "./types";

export type ConnectionState = "connecting" | "open" | "closed";

export interface RunSocketOptions {
  url: string;
  lastSeq: () => number;
  onMessage: (message: ServerMessage) => void;
  onState: (state: ConnectionState) => void;
  /** Whether to keep reconnecting after a close (false once the run has ended). */
  shouldReconnect: () => boolean;
}

/** Delay before the n-th reconnection attempt: exponential, capped, with jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** attempt, 15000);
  return base / 2 + random() * (base / 2);
}

// Close codes the server uses to refuse for good: reconnecting cannot help.
const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404]);

export class RunSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private options: RunSocketOptions) {}

  connect(): void {
    this.options.onState("connecting");
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.options.onState("open");
      socket.send(JSON.stringify({ type: "subscribe", after_seq: this.options.lastSeq() }));
    };
    socket.onmessage = (e: MessageEvent) => {
      const message = typeof e.data === "string" ? parseServerMessage(e.data) : null;
      if (message) this.options.onMessage(message);
    };
    socket.onclose = (e: CloseEvent) => {
      this.options.onState("closed");
      if (this.stopped || FINAL_CLOSE_CODES.has(e.code) || !this.options.shouldReconnect()) return;
      this.timer = setTimeout(() => this.connect(), backoffMs(this.attempt++));
    };
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
  }
}

export function runSocketUrl(location: Location, runId: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/runs/${runId}/`;
}
