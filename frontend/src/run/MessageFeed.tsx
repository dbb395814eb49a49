import type { FeedItem } from "./feed";
import type { LiveMessage } from "./state";
import { ToolCall } from "./ToolCall";

interface Props {
  items: FeedItem[];
  live: LiveMessage[];
}

export function MessageFeed({ items, live }: Props) {
  return (
    <section className="feed" aria-label="Messages" data-testid="feed">
      {items.map((item) => {
        if (item.kind === "tool") return <ToolCall key={item.seq} item={item} />;
        if (item.kind === "note") {
          return (
            <p key={item.seq} className={`feed-note ${item.tone}`}>
              {item.text}
            </p>
          );
        }
        return (
          <article key={item.seq} className={`feed-message role-${item.role}`}>
            <header>
              <span className="agent">{item.agent}</span> <span className="muted">{item.role}</span>
            </header>
            <div className="content">{item.content}</div>
          </article>
        );
      })}
      {live.map((m) => (
        <article key={m.spanId} className="feed-message streaming" aria-live="polite">
          <header>
            <span className="agent">{m.agent}</span> <span className="muted">writing…</span>
          </header>
          <div className="content">{m.text}</div>
        </article>
      ))}
    </section>
  );
}
