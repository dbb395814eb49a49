// "Test this agent": runs the selected agent of the draft alone with an input typed here, and
// shows its turns and tool calls as they arrive (the test is a run: its websocket streams it).
import { useEffect, useRef, useState } from "react";
import { feedItems } from "../run/feed";
import { MessageFeed } from "../run/MessageFeed";
import { RunSocket, runSocketUrl } from "../run/socket";
import { applyDelta, applyEvents, applyRun, initialState, type RunState } from "../run/state";
import type { RunSummary } from "../run/types";
import { api } from "../lib/api";
import { problemsOf, testNode } from "./builderApi";
import { nodeTestRequest, takesUpstream, testStatus } from "./nodeTest";
import type { AgentNode, TeamSpec } from "./spec";

interface Props {
  teamId: number;
  spec: TeamSpec;
  agent: AgentNode;
}

export function NodeTestPanel({ teamId, spec, agent }: Props) {
  const [input, setInput] = useState("");
  const [upstream, setUpstream] = useState("");
  const [offline, setOffline] = useState(false);
  const [state, setState] = useState<RunState | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const socket = useRef<RunSocket | null>(null);

  // A test belongs to the agent it was started on: another selection starts afresh.
  useEffect(() => {
    setState(null);
    setErrors([]);
    return () => socket.current?.close();
  }, [agent.id]);

  const watch = (run: RunSummary) => {
    socket.current?.close();
    setState(initialState(run));
    let ended = false;
    // The summary as it is now: a test often ends before its socket opens, and the socket
    // then replays its events but sends no summary.
    const refresh = () =>
      api<RunSummary>("GET", `/runs/${run.id}`)
        .then((fresh) => setState((current) => (current ? applyRun(current, fresh) : current)))
        .catch(() => undefined);
    const live = new RunSocket({
      url: runSocketUrl(window.location, run.id),
      lastSeq: () => 0,
      onState: (connection) => {
        if (connection === "open") void refresh();
      },
      shouldReconnect: () => !ended,
      onMessage: (message) =>
        setState((current) => {
          if (!current) return current;
          if (message.type === "events") {
            const next = applyEvents(current, message.events);
            if (next.ended && !ended) void refresh();
            ended = next.ended;
            return next;
          }
          if (message.type === "delta") return applyDelta(current, message);
          return applyRun(current, message.run);
        }),
    });
    socket.current = live;
    live.connect();
  };

  const start = async () => {
    setBusy(true);
    setErrors([]);
    try {
      const request = nodeTestRequest(spec, agent.id, { input, upstream, offline });
      watch(await testNode(teamId, agent.id, request));
    } catch (error) {
      setErrors(problemsOf(error).map((p) => p.message));
    } finally {
      setBusy(false);
    }
  };

  const stage = takesUpstream(spec, agent.id);
  return (
    <fieldset className="node-test" data-testid="node-test">
      <legend>Test this agent</legend>
      <p className="hint">Runs {agent.name} alone on the draft as it is on the canvas, without saving it.</p>
      <label>
        Input
        <textarea rows={3} value={input} onChange={(e) => setInput(e.target.value)} data-testid="node-test-input" />
      </label>
      {stage && (
        <label>
          Upstream output (what the stage before gives it)
          <textarea rows={3} value={upstream} onChange={(e) => setUpstream(e.target.value)} data-testid="node-test-upstream" />
        </label>
      )}
      <label className="checkbox">
        <input type="checkbox" checked={offline} onChange={(e) => setOffline(e.target.checked)} />
        On the offline model (simulated, costs nothing)
      </label>
      <button type="button" onClick={start} disabled={busy} data-testid="node-test-run">
        Test this agent
      </button>
      {errors.length > 0 && (
        <ul className="node-test-errors" role="alert">
          {errors.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
      {state && (
        <div className="node-test-result">
          <p data-testid="node-test-status">
            {testStatus(state.run.status, state.run.failure_reason)}{" "}
            <a href={`/runs/${state.run.id}/`} target="_blank" rel="noreferrer">
              Open its run
            </a>
          </p>
          <MessageFeed items={feedItems(state.events, { [agent.id]: agent.name })} live={state.live} ended={state.ended} />
        </div>
      )}
    </fieldset>
  );
}
