import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { api, ApiError } from "../lib/api";
import { AddToDataset } from "./AddToDataset";
import { canAddToDataset } from "./addToDataset";
import { AgentUsageTable } from "./AgentUsageTable";
import { AnswerBox } from "./AnswerBox";
import { Artifacts } from "./Artifacts";
import { DetailsPanel } from "./DetailsPanel";
import { ForkForm } from "./ForkForm";
import { currentStatus, pendingFromEvents, runInterval, terminalEvent } from "./derive";
import { asText, feedItems, isSimulated } from "./feed";
import { formatDeadline } from "./format";
import { MessageContent, ValueView } from "./MessageContent";
import { MessageFeed } from "./MessageFeed";
import { ReplayBar } from "./ReplayBar";
import { RunHeader } from "./RunHeader";
import { RunSocket, runSocketUrl, type ConnectionState } from "./socket";
import { applyDelta, applyEvents, applyRun, initialState, type RunState } from "./state";
import { buildTimeline } from "./timeline";
import { TimelineView, type Selection } from "./TimelineView";
import { replayFrame, replayTimeline } from "./timeTravel";
import { WebhookDeliveries } from "./WebhookDeliveries";
import { type AgentNames, isActive, type RunSummary, type ServerMessage } from "./types";

function reduce(state: RunState, message: ServerMessage): RunState {
  if (message.type === "events") return applyEvents(state, message.events);
  if (message.type === "delta") return applyDelta(state, message);
  return applyRun(state, message.run);
}

/** What the API said went wrong, in its own words when it gave them. */
function apiErrorText(err: unknown): string {
  if (err instanceof ApiError && err.body && typeof err.body === "object" && "detail" in err.body) {
    return asText((err.body as { detail: unknown }).detail);
  }
  return "The server could not be reached. Check your connection and try again.";
}

function isArchived(run: RunSummary): boolean {
  return Boolean(run.archived_at);
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** Why the viewer's role may not answer, cancel or start (fork, rerun) runs, or add them to a
 * dataset: empty when it may. */
export interface RoleLimits {
  answer?: string;
  cancel?: string;
  start?: string;
  dataset?: string;
}

interface Props {
  initial: RunSummary;
  names?: AgentNames;
  limits?: RoleLimits;
  /** The run's workspace (its slug): where "Add to dataset" looks for datasets. */
  workspace?: string;
}

export function RunPage({ initial, names = {}, limits = {}, workspace = "" }: Props) {
  const [state, dispatch] = useReducer(reduce, initial, initialState);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [selected, setSelected] = useState<Selection | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;

  const status = currentStatus(state.run, state.events);
  const active = isActive(status);
  const now = useNow(active);

  useEffect(() => {
    // The server sends summary changes only to a subscribed socket: one made between this
    // page's render and its subscription (a quick run already waiting or done) comes from
    // the API instead, on every (re)connection.
    const refresh = async () => {
      try {
        dispatch({ type: "run", run: await api<RunSummary>("GET", `/runs/${initial.id}`) });
      } catch {
        // The socket's messages still arrive; the next reconnection tries again.
      }
    };
    const socket = new RunSocket({
      url: runSocketUrl(window.location, initial.id),
      lastSeq: () => stateRef.current.lastSeq,
      onMessage: dispatch,
      onState: (next) => {
        setConnection(next);
        if (next === "open") void refresh();
      },
      shouldReconnect: () => terminalEvent(stateRef.current.events) === null,
    });
    socket.connect();
    return () => socket.close();
  }, [initial.id]);

  // Time travel (a finished run): a replay step, or the event a fork starts from.
  const [replayStep, setReplayStep] = useState<number | null>(null);
  const [fork, setFork] = useState<{ fromSeq: number; label: string } | null>(null);
  const [adding, setAdding] = useState(false);
  const frame = useMemo(
    () => (replayStep === null ? null : replayFrame(state.events, replayStep)),
    [state.events, replayStep],
  );
  const shown = frame?.events ?? state.events;
  const timeline = useMemo(() => {
    const whole = buildTimeline(state.events, now, names);
    if (!frame) return whole;
    return replayTimeline(whole, buildTimeline(frame.events, frame.now, names), frame.now);
  }, [state.events, now, names, frame]);
  const items = useMemo(() => feedItems(shown, names), [shown, names]);
  const canTravel = terminalEvent(state.events) !== null && !isArchived(state.run);
  // A succeeded run is a test case: its input, and its output as the answer expected.
  const canAdd = canAddToDataset(status, limits.dataset, workspace);
  const forkAt = useCallback((seq: number) => setFork({ fromSeq: seq, label: `Fork from event #${seq}` }), []);

  const cancel = useCallback(async () => {
    setCancelling(true);
    setActionError(null);
    try {
      const updated = await api<RunSummary>("POST", `/runs/${initial.id}/cancel`);
      dispatch({ type: "run", run: updated });
    } catch (err) {
      setActionError(apiErrorText(err));
      setCancelling(false);
    }
  }, [initial.id]);

  const rerun = useCallback(async () => {
    setActionError(null);
    try {
      const created = await api<RunSummary>("POST", `/runs/${initial.id}/fork`, { from_seq: 0 });
      window.location.assign(`/runs/${created.id}/`);
    } catch (err) {
      setActionError(apiErrorText(err));
    }
  }, [initial.id]);

  const answer = useCallback(
    async (value: unknown) => {
      try {
        const updated = await api<RunSummary>("POST", `/runs/${initial.id}/answer`, { answer: value });
        dispatch({ type: "run", run: { ...updated, pending_human: null } });
      } catch (err) {
        throw new Error(apiErrorText(err));
      }
    },
    [initial.id],
  );

  const run = state.run;
  const replaying = frame !== null;
  const pending = !replaying && status === "waiting" ? (run.pending_human ?? pendingFromEvents(state.events)) : null;
  return (
    <div className="run-layout">
      <RunHeader run={run} status={status} interval={runInterval(run, state.events)} now={now} connection={connection} simulated={isSimulated(state.events)}
        cancelling={cancelling && active} onCancel={limits.cancel ? undefined : cancel} />
      {actionError && <p className="error" role="alert">{actionError}</p>}
      {pending && !limits.answer && (
        <AnswerBox key={pending.activity_key} pending={pending} deadline={formatDeadline(run.wake_at, now)}
          names={names} onAnswer={answer} />
      )}
      {pending && limits.answer && (
        <p className="waiting-note" data-testid="why-not">
          Waiting for a person: {pending.prompt ?? "a question"}. {limits.answer}
        </p>
      )}
      {frame && (
        <ReplayBar step={replayStep ?? 1} total={state.events.length} current={frame.current} names={names}
          onStep={(n) => setReplayStep(Math.max(1, Math.min(n, state.events.length)))}
          onFork={limits.start ? undefined : () => frame.current && forkAt(frame.current.seq)} onLeave={() => setReplayStep(null)} />
      )}
      {fork && <ForkForm key={fork.fromSeq} run={run} fromSeq={fork.fromSeq} label={fork.label} onClose={() => setFork(null)} />}
      {/* What the run was for comes first, above how it got there. */}
      {!replaying && run.output !== null && run.output !== undefined && (
        <section className="run-output" aria-label="Output" data-testid="run-output">
          <h2>Output</h2>
          <MessageContent text={asText(run.output)} />
        </section>
      )}
      {(canTravel || canAdd) && !replaying && (
        <div className="time-travel" role="toolbar" aria-label="Time travel">
          {canTravel && (
            <button type="button" onClick={() => setReplayStep(1)}>
              Replay step by step
            </button>
          )}
          {canTravel && !limits.start && (
            <>
              <button type="button" onClick={rerun}>
                Rerun with the same input
              </button>
              <button type="button" onClick={() => setFork({ fromSeq: 0, label: "Run again with changes" })}>
                Run again with changes…
              </button>
            </>
          )}
          {canAdd && (
            <button type="button" onClick={() => setAdding(true)} aria-expanded={adding}>
              Add to dataset…
            </button>
          )}
        </div>
      )}
      {adding && canAdd && (
        <AddToDataset runId={initial.id} teamName={run.team_name} workspace={workspace} onClose={() => setAdding(false)} />
      )}
      <section className="timeline-box" aria-label="Timeline of agents">
        <h2>Timeline</h2>
        <TimelineView timeline={timeline} selected={selected?.id ?? null} onSelect={setSelected}
          cursor={frame ? frame.now : null} />
        {selected && (
          <DetailsPanel item={selected} names={names} onClose={() => setSelected(null)}
            onFork={canTravel && !limits.start ? forkAt : undefined} />
        )}
      </section>
      <div className="run-columns">
        <MessageFeed items={items} live={replaying ? [] : state.live} ended={state.ended} />
        <aside className="run-side">
          <section aria-label="Input">
            <h2>Input</h2>
            <ValueView value={run.input} label="Input" />
          </section>
          <AgentUsageTable events={state.events} names={names} />
          <Artifacts artifacts={run.artifacts ?? []} />
          <WebhookDeliveries runId={initial.id} status={status} />
        </aside>
      </div>
    </div>
  );
}
