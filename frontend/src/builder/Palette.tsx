// What can be dragged onto the canvas (or added with Enter): agents, people, nested teams,
// and each saved team as a reusable block.
import type { DragEvent } from "react";
import type { TeamSummary } from "./builderApi";
import type { NodeKind } from "./spec";

export const DRAG_TYPE = "application/x-team-builder-node";

export interface PaletteItem {
  kind: NodeKind;
  label: string;
  teamId?: number;
}

const BASIC: PaletteItem[] = [
  { kind: "agent", label: "Agent" },
  { kind: "human", label: "Human" },
  { kind: "team", label: "Nested team" },
];

interface Props {
  savedTeams: TeamSummary[];
  onAdd: (item: PaletteItem) => void;
}

export function Palette({ savedTeams, onAdd }: Props) {
  const items = [
    ...BASIC,
    ...savedTeams.map((team) => ({ kind: "team" as const, label: team.name, teamId: team.id })),
  ];
  const start = (event: DragEvent, item: PaletteItem) => {
    event.dataTransfer.setData(DRAG_TYPE, JSON.stringify(item));
    event.dataTransfer.effectAllowed = "copy";
  };
  return (
    <section className="palette" aria-label="Palette">
      <h2>Add</h2>
      <p className="hint">Drag onto the canvas, or press Enter to add in the middle.</p>
      <ul>
        {items.map((item, i) => (
          <li key={`${item.kind}-${item.teamId ?? i}`}>
            {i === BASIC.length && <h3>Saved teams</h3>}
            <button
              type="button"
              draggable
              onDragStart={(e) => start(e, item)}
              onClick={() => onAdd(item)}
              className={`palette-item palette-${item.kind}`}
              data-testid={item.teamId ? `palette-team-${item.teamId}` : `palette-${item.kind}`}
              aria-label={`Add ${item.teamId ? `saved team ${item.label}` : item.label.toLowerCase()}`}
            >
              {item.label}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
