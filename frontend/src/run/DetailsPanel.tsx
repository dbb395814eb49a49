import { agentName } from "./feed";
import { formatDuration } from "./format";
import { ValueView } from "./MessageContent";
import type { Selection } from "./TimelineView";
import type { AgentNames } from "./types";

interface Props {
  item: Selection;
  names: AgentNames;
  onClose: () => void;
}

export function DetailsPanel({ item, names, onClose }: Props) {
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
        {agentName(names, item.agent)}
        {duration && ` · ${duration}`}
        {"status" in item && ` · ${item.status}`}
      </p>
      {item.events.map((event) => (
        <section key={event.seq}>
          <h3>
            #{event.seq} <code>{event.type}</code>
          </h3>
          <ValueView value={event.payload} label={`Event ${event.seq}`} />
        </section>
      ))}
    </aside>
  );
}
