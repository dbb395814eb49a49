import { useEffect, useState } from "react";
import { agentName } from "./feed";
import { ValueView } from "./MessageContent";
import type { AgentNames, RunEvent } from "./types";

interface Props {
  step: number;
  total: number;
  current: RunEvent | null;
  names: AgentNames;
  onStep: (step: number) => void;
  onFork?: () => void;
  onLeave: () => void;
}

// One event a second while playing: slow enough to read a step, quick enough to watch a run.
const PLAY_MS = 1000;

/** Steps through a finished run event by event; the timeline and feed above show that moment. */
export function ReplayBar({ step, total, current, names, onStep, onFork, onLeave }: Props) {
  const [playing, setPlaying] = useState(false);
  useEffect(() => {
    if (!playing) return;
    if (step >= total) return setPlaying(false);
    const timer = setTimeout(() => onStep(step + 1), PLAY_MS);
    return () => clearTimeout(timer);
  }, [playing, step, total, onStep]);

  return (
    <section className="replay-bar" aria-label="Replay">
      <div className="replay-controls">
        <button type="button" onClick={() => onStep(1)} disabled={step <= 1} aria-label="First event">
          First
        </button>
        <button type="button" onClick={() => onStep(step - 1)} disabled={step <= 1} aria-label="Previous event">
          Back
        </button>
        <button type="button" onClick={() => setPlaying(!playing)}>
          {playing ? "Pause" : "Play"}
        </button>
        <button type="button" onClick={() => onStep(step + 1)} disabled={step >= total} aria-label="Next event">
          Next
        </button>
        <input type="range" min={1} max={total} value={step} aria-label="Event"
          onChange={(e) => onStep(Number(e.target.value))} />
      </div>
      <p className="replay-where" data-testid="replay-where" aria-live="polite">
        Event {step} of {total}
        {current && (
          <>
            : <code>{current.type}</code>
            {current.agent && ` · ${agentName(names, current.agent)}`}
          </>
        )}
      </p>
      {current && (
        <details className="replay-event">
          <summary>What event #{current.seq} recorded</summary>
          <ValueView value={current.payload} label={`Event ${current.seq}`} />
        </details>
      )}
      <div className="actions">
        {current && onFork && (
          <button type="button" onClick={onFork}>
            Fork from here
          </button>
        )}
        <button type="button" onClick={onLeave}>
          Leave replay
        </button>
      </div>
    </section>
  );
}
