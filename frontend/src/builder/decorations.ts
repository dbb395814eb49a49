// What the canvas draws on top of the team itself: problems, the entry, diff highlights.
// Kept out of node data so that undo history and saved specs never contain it.
import { createContext, useContext } from "react";
import type { Pattern, Problem } from "./spec";

export type DiffMark = "added" | "edited";

export interface Decorations {
  pattern: Pattern;
  entry: string | null;
  nodeProblems: Map<string, Problem[]>;
  edgeProblems: Map<string, Problem[]>;
  diff: Map<string, DiffMark>;
  /** Edges sharing their two nodes with another edge (see tidy.twinEdges). */
  twins: Set<string>;
  /** Select one node or edge (e.g. from an edge's label). */
  select: (id: string) => void;
  /** Open a team node's inline team as the canvas. */
  open: (id: string) => void;
}

export const DecorationsContext = createContext<Decorations>({
  pattern: "supervisor",
  entry: null,
  nodeProblems: new Map(),
  edgeProblems: new Map(),
  diff: new Map(),
  twins: new Set(),
  select: () => undefined,
  open: () => undefined,
});

export const useDecorations = () => useContext(DecorationsContext);

export function groupProblems(problems: Problem[], by: "node" | "edge"): Map<string, Problem[]> {
  const groups = new Map<string, Problem[]>();
  for (const problem of problems) {
    const id = problem[by];
    if (id) groups.set(id, [...(groups.get(id) ?? []), problem]);
  }
  return groups;
}
