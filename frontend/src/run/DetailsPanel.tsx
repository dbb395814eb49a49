import { agentName } from "./feed";
import { formatDuration } from "./format";
import { ValueView } from "./MessageContent";
import type { Selection } from "./TimelineView";
import type { AgentNames } from "./types";

interface Props {
  item: Selection;
  names: AgentNames;
  onClose: () => void;
  /** Fork the finished run from an event (absent while the run goes on). */
  onFork?: (seq: number) => void;
}

export function DetailsPanel({ item, names, onClose, onFork }: Props) {
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
            {onFork && (
              <button type="button" className="link-button" onClick={() => onFork(event.seq)}>
                Fork from here
              </button>
            )}
          </h3>
          <ValueView value={event.payload} label={`Event ${event.seq}`} />
        </section>
      ))}
    </aside>
  );
}
