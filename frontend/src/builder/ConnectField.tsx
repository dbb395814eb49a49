// Connecting without a mouse: from the selected node to one chosen from a list.
import { useId, useState } from "react";
import type { SpecNode } from "./spec";

interface Props {
  from: string;
  nodes: SpecNode[];
  onConnect: (target: string) => void;
}

export function ConnectField({ from, nodes, onConnect }: Props) {
  const id = useId();
  const others = nodes.filter((n) => n.id !== from);
  const [target, setTarget] = useState("");
  if (!others.length) return null;
  return (
    <div className="field connect-field">
      <label htmlFor={id}>Connect to</label>
      <div className="row">
        <select id={id} value={target} onChange={(e) => setTarget(e.target.value)} data-testid="connect-to">
          <option value="">choose a node…</option>
          {others.map((n) => (
            <option key={n.id} value={n.id}>
              {n.name} ({n.id})
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!target}
          onClick={() => {
            onConnect(target);
            setTarget("");
          }}
        >
          Connect
        </button>
      </div>
    </div>
  );
}
