import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { api, ApiError } from "../lib/api";
import { AgentUsageTable } from "./AgentUsageTable";
import { AnswerBox } from "./AnswerBox";
import { Artifacts } from "./Artifacts";
import { DetailsPanel } from "./DetailsPanel";
import { currentStatus, pendingFromEvents, runInterval, terminalEvent } from "./derive";
import { asText, feedItems, isSimulated } from "./feed";
import { formatDeadline } from "./format";
import { MessageContent, ValueView } from "./MessageContent";
import { MessageFeed } from "./MessageFeed";
import { RunHeader } from "./RunHeader";
import { RunSocket, runSocketUrl, type ConnectionState } from "./socket";
import { applyDelta, applyEvents, applyRun, initialState, type RunState } from "./state";
import { buildTimeline } from "./timeline";
import { TimelineView, type Selection } from "./TimelineView";
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

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function RunPage({ initial, names = {} }: { initial: RunSummary; names?: AgentNames }) {
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

  const timeline = useMemo(() => buildTimeline(state.events, now, names), [state.events, now, names]);
  const items = useMemo(() => feedItems(state.events, names), [state.events, names]);

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
  const pending = status === "waiting" ? (run.pending_human ?? pendingFromEvents(state.events)) : null;
  return (
    <div className="run-layout">
      <RunHeader run={run} status={status} interval={runInterval(run, state.events)} now={now} connection={connection} simulated={isSimulated(state.events)}
        cancelling={cancelling && active} onCancel={cancel} />
      {actionError && <p className="error" role="alert">{actionError}</p>}
      {pending && (
        <AnswerBox key={pending.activity_key} pending={pending} deadline={formatDeadline(run.wake_at, now)}
          onAnswer={answer} />
      )}
      {/* What the run was for comes first, above how it got there. */}
      {run.output !== null && run.output !== undefined && (
        <section className="run-output" aria-label="Output" data-testid="run-output">
          <h2>Output</h2>
          <MessageContent text={asText(run.output)} />
        </section>
      )}
      <section className="timeline-box" aria-label="Timeline of agents">
        <h2>Timeline</h2>
        <TimelineView timeline={timeline} selected={selected?.id ?? null} onSelect={setSelected} />
        {selected && <DetailsPanel item={selected} names={names} onClose={() => setSelected(null)} />}
      </section>
      <div className="run-columns">
        <MessageFeed items={items} live={state.live} ended={state.ended} />
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
