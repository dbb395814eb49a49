import { formatCost, formatDuration } from "./format";
import { isActive, type RunSummary } from "./types";

interface Props {
  run: RunSummary;
  now: number;
  connection: string;
  simulated: boolean;
  cancelling: boolean;
  onCancel: () => void;
}

function elapsedMs(run: RunSummary, now: number): number {
  if (!run.started_at) return 0;
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return end - Date.parse(run.started_at);
}

export function RunHeader({ run, now, connection, simulated, cancelling, onCancel }: Props) {
  const active = isActive(run.status);
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
            <span className={`run-status run-status-${run.status}`} data-testid="run-status">
              {run.status}
            </span>
          </dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd data-testid="run-elapsed">{formatDuration(elapsedMs(run, now))}</dd>
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
        <span className={`connection connection-${connection}`}>{connection === "open" ? "Live" : connection}</span>
        {active && (
          <button type="button" className="danger" onClick={onCancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel run"}
          </button>
        )}
      </div>
      {run.failure_reason && <p className="error">{run.failure_reason}</p>}
    </header>
  );
}
