// What changed between two versions of a team: nodes and edges added, removed or edited.
// Moving a node on the canvas is not an edit of the team, so positions are not compared.
import type { TeamSpec } from "./spec";

export interface ChangeSet {
  added: string[];
  removed: string[];
  edited: string[];
}

export interface SpecDiff {
  nodes: ChangeSet;
  edges: ChangeSet;
  /** Team-level fields (name, pattern, entry, limits, schemas...) that differ. */
  settings: string[];
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function compare<T extends { id: string }>(before: T[], after: T[]): ChangeSet {
  const old = new Map(before.map((item) => [item.id, item]));
  const now = new Map(after.map((item) => [item.id, item]));
  return {
    added: after.filter((item) => !old.has(item.id)).map((item) => item.id),
    removed: before.filter((item) => !now.has(item.id)).map((item) => item.id),
    edited: after
      .filter((item) => old.has(item.id) && stable(old.get(item.id)) !== stable(item))
      .map((item) => item.id),
  };
}

export function diffSpecs(before: TeamSpec, after: TeamSpec): SpecDiff {
  const skip = new Set(["nodes", "edges", "layout"]);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((k) => !skip.has(k)));
  return {
    nodes: compare(before.nodes, after.nodes),
    edges: compare(before.edges, after.edges),
    settings: [...keys].filter((key) => stable(before[key]) !== stable(after[key])).sort(),
  };
}

export function isEmptyDiff(diff: SpecDiff): boolean {
  const empty = (c: ChangeSet) => !c.added.length && !c.removed.length && !c.edited.length;
  return empty(diff.nodes) && empty(diff.edges) && !diff.settings.length;
}
