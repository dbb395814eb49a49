import { useLayoutEffect, useRef } from "react";
import type { FeedItem } from "./feed";
import { formatUsage } from "./format";
import type { LiveMessage } from "./state";
import { MessageContent } from "./MessageContent";
import { ToolCall } from "./ToolCall";

interface Props {
  items: FeedItem[];
  live: LiveMessage[];
  /** The run ended: text still streaming was cut off and is not in the record. */
  ended: boolean;
}

// Within this many pixels of the bottom, the reader is following along: new items keep the
// feed scrolled to the end. Further up, they are reading back and are left where they are.
const FOLLOW_PX = 40;

function useFollowEnd(changes: unknown[]) {
  const ref = useRef<HTMLElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, changes);
  const onScroll = () => {
    const el = ref.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_PX;
  };
  return { ref, onScroll };
}

const PREVIEW_CHARS = 90;

function preview(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}

export function MessageFeed({ items, live, ended }: Props) {
  const { ref, onScroll } = useFollowEnd([items, live]);
  return (
    <section className="feed" aria-label="Messages" data-testid="feed" ref={ref} onScroll={onScroll}>
      <h2>Messages</h2>
      {items.length === 0 && live.length === 0 && (
        <p className="muted feed-empty">No messages yet: they appear here as the agents work.</p>
      )}
      {items.map((item) => {
        if (item.kind === "tool") return <ToolCall key={item.seq} item={item} />;
        if (item.kind === "note") {
          return (
            <p key={item.seq} className={`feed-note ${item.tone}`}>
              {item.text}
            </p>
          );
        }
        if (item.role === "user" || item.role === "system") {
          // What an agent was given repeats what came before (a delegation's task, the run's
          // input, a repair request): folded to one line, open on demand.
          return (
            <details key={item.seq} className={`feed-message feed-given role-${item.role}`}>
              <summary>
                <span className="agent">{item.agent}</span> <span className="muted">was given</span>{" "}
                <span className="preview">{preview(item.content)}</span>
              </summary>
              <MessageContent text={item.content} />
            </details>
          );
        }
        return (
          <article key={item.seq} className={`feed-message role-${item.role}`}>
            <header>
              <span className="agent">{item.agent}</span> <span className="muted">{item.role}</span>
              {item.usage && <span className="muted usage">{formatUsage(item.usage)}</span>}
            </header>
            <MessageContent text={item.content} />
          </article>
        );
      })}
      {live.map((m) => (
        <article key={m.spanId} className={`feed-message ${ended ? "cut-off" : "streaming"}`} aria-live="polite">
          <header>
            <span className="agent">{m.agent}</span>{" "}
            <span className="muted">{ended ? "stopped before finishing (not recorded)" : "writing…"}</span>
          </header>
          <div className="content">{m.text}</div>
        </article>
      ))}
    </section>
  );
}
