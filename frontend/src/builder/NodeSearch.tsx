// Find a node by name, id, role or model; choosing a match selects it and centres the view on it.
import { useId, useState } from "react";
import type { BuilderNode } from "./mapping";
import { searchNodes } from "./tidy";

interface Props {
  nodes: BuilderNode[];
  onPick: (node: BuilderNode) => void;
}

export function NodeSearch({ nodes, onPick }: Props) {
  const [query, setQuery] = useState("");
  const id = useId();
  const matches = searchNodes(nodes, query).slice(0, 8);
  const pick = (node: BuilderNode) => {
    onPick(node);
    setQuery("");
  };
  return (
    <div className="node-search">
      <label htmlFor={id} className="visually-hidden">
        Find a node
      </label>
      <input
        id={id}
        type="search"
        placeholder="Find a node…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && matches[0]) pick(matches[0]);
          if (e.key === "Escape") setQuery("");
        }}
        data-testid="node-search"
        aria-controls={query.trim() ? `${id}-results` : undefined}
      />
      {query.trim() && (
        <ul id={`${id}-results`} className="node-search-results" aria-label="Matching nodes">
          {matches.length === 0 && <li className="hint">No node matches.</li>}
          {matches.map((node) => (
            <li key={node.id}>
              <button type="button" onClick={() => pick(node)}>
                {node.data.spec.name} <span className="hint">{node.id}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
