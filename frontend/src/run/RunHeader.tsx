import { formatCost, formatDuration } from "./format";
import { isActive, type RunStatus, type RunSummary } from "./types";

interface Props {
  run: RunSummary;
  status: RunStatus;
  interval: { start: number | null; end: number | null };
  now: number;
  connection: string;
  simulated: boolean;
  cancelling: boolean;
  onCancel?: () => void;
}

// The live connection's state in words (socket.ts's ConnectionState), not its code name.
const CONNECTION_LABELS: Readonly<Record<string, string>> = {
  open: "Live",
  connecting: "Connecting…",
  closed: "Not live",
};

function elapsedMs(interval: Props["interval"], now: number): number {
  if (interval.start === null) return 0;
  return (interval.end ?? now) - interval.start;
}

export function RunHeader(props: Props) {
  const { run, status, interval, now, connection, simulated, cancelling, onCancel } = props;
  const active = isActive(status);
  return (
    <header className="run-header">
      <h1>
        {run.team_name}
        {run.team_version !== null && <span className="muted"> v{run.team_version}</span>}
      </h1>
      <dl className="run-figures">
        <div>
          <dt>Status</dt>
          <dd>
            <span className={`run-status run-status-${status}`} data-testid="run-status">
              {status}
            </span>
          </dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd data-testid="run-elapsed">{formatDuration(elapsedMs(interval, now))}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd data-testid="run-tokens">
            {run.input_tokens} / {run.output_tokens}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd data-testid="run-cost">{formatCost(run.cost_usd)}</dd>
        </div>
      </dl>
      <div className="run-actions">
        {simulated && (
          <span className="simulated" title="The offline simulator answered, not a real model">
            Simulated model
          </span>
        )}
        <span className={`connection connection-${connection}`}>{CONNECTION_LABELS[connection] ?? connection}</span>
        {active && onCancel && (
          <button type="button" className="danger" onClick={onCancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel run"}
          </button>
        )}
      </div>
      {run.failure_reason && <p className="error">{run.failure_reason}</p>}
    </header>
  );
}
