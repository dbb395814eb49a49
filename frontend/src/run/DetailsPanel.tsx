import { asText } from "./feed";
import { formatDuration } from "./format";
import type { Selection } from "./TimelineView";

interface Props {
  item: Selection;
  onClose: () => void;
}

export function DetailsPanel({ item, onClose }: Props) {
  const duration = "end" in item && item.end !== null ? formatDuration(item.end - item.start) : null;
  return (
    <aside className="details" aria-label="Details">
      <header>
        <h2>{item.label}</h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          ×
        </button>
      </header>
      <p className="muted">
        {item.agent}
        {duration && ` · ${duration}`}
        {"status" in item && ` · ${item.status}`}
      </p>
      {item.events.map((event) => (
        <section key={event.seq}>
          <h3>
            #{event.seq} <code>{event.type}</code>
          </h3>
          <pre>{asText(event.payload)}</pre>
        </section>
      ))}
    </aside>
  );
}
