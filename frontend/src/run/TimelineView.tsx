import { useEffect, useRef, useState } from "react";
import {
  groupMarkers,
  RUN_LANE,
  offsetPercent,
  widthPercent,
  type Bar,
  type Marker,
  type MarkerGroup,
  type Timeline,
} from "./timeline";

export type Selection = Bar | Marker | MarkerGroup;

interface Props {
  timeline: Timeline;
  selected: string | null;
  onSelect: (item: Selection) => void;
  /** The replay's moment: a line across every lane. */
  cursor?: number | null;
}

const MARKER_GLYPH: Record<Marker["kind"], string> = {
  tool: "⚙", delegation: "→", handoff: "⇄", retry: "↻", error: "!", human: "?", gate: "▮",
  fallback: "↘",
}; // prettier-ignore

// A marker's diameter in pixels (runs.css): markers closer than that are drawn as one group.
const MARKER_PX = 20;

/** The width of a lane's track in pixels, followed as the window is resized (once there are
 * lanes to measure). */
function useTrackWidth(drawn: boolean) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  useEffect(() => {
    const track = ref.current?.querySelector(".lane-track");
    if (!track || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => setWidth(track.clientWidth || 1000));
    observer.observe(track);
    return () => observer.disconnect();
  }, [drawn]);
  return { ref, width };
}

function MarkerButton({ group, timeline, selected, onSelect }: {
  group: MarkerGroup;
  timeline: Timeline;
  selected: string | null;
  onSelect: (item: Selection) => void;
}) {
  const single = group.markers.length === 1 ? group.markers[0] : null;
  const kinds = single
    ? `marker-${single.kind}`
    : `marker-group${group.markers.some((m) => m.kind === "error") ? " marker-error" : ""}`;
  return (
    <button
      type="button"
      className={`marker ${kinds}${selected === group.id ? " selected" : ""}`}
      style={{ left: `${offsetPercent(timeline, group.at)}%` }}
      title={group.label}
      aria-label={group.label}
      onClick={() => onSelect(single ?? group)}
    >
      {single ? MARKER_GLYPH[single.kind] : group.markers.length}
    </button>
  );
}

export function TimelineView({ timeline, selected, onSelect, cursor = null }: Props) {
  const { ref, width } = useTrackWidth(timeline.lanes.length > 0);
  if (timeline.lanes.length === 0) {
    return <p className="muted timeline-empty">Nothing has happened yet.</p>;
  }
  const minGapPercent = (MARKER_PX / width) * 100;
  return (
    <div className="timeline" role="group" aria-label="Timeline" ref={ref}>
      {timeline.lanes.map((lane) => (
        <div className="lane" key={lane.agent} data-agent={lane.agent}>
          <div className="lane-name" title={lane.name === lane.agent || lane.agent === RUN_LANE ? lane.name : `${lane.name} (${lane.agent})`}>
            {lane.name}
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
            {cursor !== null && (
              <span className="replay-cursor" aria-hidden="true" style={{ left: `${offsetPercent(timeline, cursor)}%` }} />
            )}
            {groupMarkers(timeline, lane.markers, minGapPercent).map((group) => (
              <MarkerButton key={group.id} group={group} timeline={timeline} selected={selected}
                onSelect={onSelect} />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
