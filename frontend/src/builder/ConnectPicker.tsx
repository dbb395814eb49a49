// Dropping a connection on empty canvas: choose what to add there, already connected.
import { useEffect, useRef } from "react";
import type { NodeKind } from "./spec";

export interface PendingConnection {
  /** The node the connection was dragged from. */
  from: string;
  /** Where it was dropped: on the screen (for the menu) and on the canvas (for the node). */
  screen: { x: number; y: number };
  flow: { x: number; y: number };
}

const CHOICES: { kind: NodeKind; label: string }[] = [
  { kind: "agent", label: "Agent" },
  { kind: "human", label: "Human" },
  { kind: "team", label: "Nested team" },
];

interface Props {
  pending: PendingConnection;
  onPick: (kind: NodeKind) => void;
  onClose: () => void;
}

export function ConnectPicker({ pending, onPick, onClose }: Props) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div
      className="connect-picker"
      role="menu"
      aria-label="Add a connected node"
      style={{ left: pending.screen.x, top: pending.screen.y }}
      data-testid="connect-picker"
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <p className="hint">Add and connect:</p>
      {CHOICES.map((choice, i) => (
        <button
          key={choice.kind}
          ref={i === 0 ? first : undefined}
          type="button"
          role="menuitem"
          onClick={() => onPick(choice.kind)}
        >
          {choice.label}
        </button>
      ))}
      <button type="button" role="menuitem" className="link" onClick={onClose}>
        Cancel
      </button>
    </div>
  );
}
