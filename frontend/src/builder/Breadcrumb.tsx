// "Team › Nested": where the canvas is when a nested team is open; each earlier level is a
// button back to it (its changes are kept).
import type { Crumb } from "./nesting";

export function Breadcrumb({ crumbs, onGo }: { crumbs: Crumb[]; onGo: (depth: number) => void }) {
  return (
    <nav className="breadcrumb" aria-label="Team levels" data-testid="breadcrumb">
      <ol>
        {crumbs.map((crumb, i) =>
          i === crumbs.length - 1 ? (
            <li key={crumb.depth} aria-current="location">
              {crumb.label}
            </li>
          ) : (
            <li key={crumb.depth}>
              <button type="button" className="link-button" onClick={() => onGo(crumb.depth)}>
                {crumb.label}
              </button>
              <span aria-hidden="true"> › </span>
            </li>
          ),
        )}
      </ol>
    </nav>
  );
}
