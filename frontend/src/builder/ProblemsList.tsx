// The server's problems as a list; choosing one selects and centres its node or edge.
import type { Problem } from "./spec";

interface Props {
  problems: Problem[];
  checking: boolean;
  valid: boolean | null;
  onPick: (problem: Problem) => void;
}

export function ProblemsList({ problems, checking, valid, onPick }: Props) {
  const status = checking ? "Checking…" : valid ? "No errors" : problems.length ? `${problems.length} problem${problems.length === 1 ? "" : "s"}` : "";
  return (
    <section className="problems" aria-label="Problems" aria-live="polite">
      <h2>
        Problems <span className="hint" data-testid="validation-status">{status}</span>
      </h2>
      <ul>
        {problems.map((problem, i) => (
          <li key={`${problem.code}-${problem.node}-${problem.edge}-${i}`}>
            <button
              type="button"
              className={`problem problem-${problem.severity}`}
              onClick={() => onPick(problem)}
              data-testid="problem"
              data-code={problem.code}
            >
              <span className="problem-severity">{problem.severity}</span> {problem.message}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
