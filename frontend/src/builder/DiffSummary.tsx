import type { SpecDiff } from "./diff";

/** What changed between two versions, by kind of change. */
export function DiffSummary({ diff }: { diff: SpecDiff }) {
  const rows: [string, string[]][] = [
    ["Nodes added", diff.nodes.added],
    ["Nodes removed", diff.nodes.removed],
    ["Nodes edited", diff.nodes.edited],
    ["Edges added", diff.edges.added],
    ["Edges removed", diff.edges.removed],
    ["Edges edited", diff.edges.edited],
    ["Team settings changed", diff.settings],
  ];
  const shown = rows.filter(([, ids]) => ids.length);
  return (
    <dl className="diff" data-testid="diff">
      {shown.length === 0 && <dd>No changes.</dd>}
      {shown.map(([label, ids]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{ids.join(", ")}</dd>
        </div>
      ))}
    </dl>
  );
}
