// The builder's toolbar on a phone: the team's name, a read-only note and one menu.
import { useState } from "react";

interface Props {
  name: string;
  status: string;
  /** Why the viewer may not start runs (their role); empty when they may. */
  cannotRun?: string;
  onFit: () => void;
  onRun: () => void;
}

export function NarrowToolbar({ name, status, cannotRun = "", onFit, onRun }: Props) {
  const [open, setOpen] = useState(false);
  const choose = (action: () => void) => () => {
    setOpen(false);
    action();
  };
  return (
    <div className="toolbar toolbar-narrow" role="toolbar" aria-label="Builder">
      <h1 className="team-name">{name}</h1>
      <span className="badge" data-testid="read-only">read-only</span>
      <button
        type="button"
        className="menu-button"
        aria-expanded={open}
        aria-controls="builder-menu"
        onClick={() => setOpen((o) => !o)}
      >
        Menu
      </button>
      {open && (
        <ul id="builder-menu" className="builder-menu" aria-label="Builder menu">
          <li>
            <button type="button" onClick={choose(onFit)}>
              Fit the team in view
            </button>
          </li>
          <li>
            <button
              type="button"
              onClick={choose(onRun)}
              disabled={Boolean(cannotRun)}
              aria-describedby={cannotRun ? "cannot-run" : undefined}
            >
              Run the team
            </button>
          </li>
          {cannotRun && (
            <li className="hint" id="cannot-run" data-testid="cannot-run">
              {cannotRun}
            </li>
          )}
          <li className="hint">Editing needs a wider screen (at least 700 px).</li>
        </ul>
      )}
      {status && (
        <span className="status" role="status" data-testid="status">
          {status}
        </span>
      )}
    </div>
  );
}
