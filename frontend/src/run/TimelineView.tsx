import { offsetPercent, widthPercent, type Bar, type Marker, type Timeline } from "./timeline";

export type Selection = Bar | Marker;

interface Props {
  timeline: Timeline;
  selected: string | null;
  onSelect: (item: Selection) => void;
}

const MARKER_GLYPH: Record<Marker["kind"], string> = {
  tool: "⚙", delegation: "→", handoff: "⇄", retry: "↻", error: "!", human: "?", gate: "▮",
  fallback: "↘",
}; // prettier-ignore

export function TimelineView({ timeline, selected, onSelect }: Props) {
  if (timeline.lanes.length === 0) {
    return <p className="muted timeline-empty">Nothing has happened yet.</p>;
  }
  return (
    <div className="timeline" role="group" aria-label="Timeline">
      {timeline.lanes.map((lane) => (
        <div className="lane" key={lane.agent} data-agent={lane.agent}>
          <div className="lane-name" title={lane.agent}>
            {lane.agent}
          </div>
          <div className="lane-track">
            {[...lane.bars, ...lane.turns].map((bar) => (
              <button
                type="button"
                key={bar.id}
                className={`bar bar-${bar.kind} bar-${bar.status}${selected === bar.id ? " selected" : ""}`}
                style={{
                  left: `${offsetPercent(timeline, bar.start)}%`,
                  width: `${widthPercent(timeline, bar)}%`,
                }}
                title={bar.label}
                aria-label={bar.label}
                onClick={() => onSelect(bar)}
              />
            ))}
            {lane.markers.map((marker) => (
              <button
                type="button"
                key={marker.id}
                className={`marker marker-${marker.kind}${selected === marker.id ? " selected" : ""}`}
                style={{ left: `${offsetPercent(timeline, marker.at)}%` }}
                title={marker.label}
                aria-label={marker.label}
                onClick={() => onSelect(marker)}
              >
                {MARKER_GLYPH[marker.kind]}
              </button>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
