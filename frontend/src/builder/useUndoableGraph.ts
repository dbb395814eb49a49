// The graph with undo/redo: a history of whole-graph snapshots. Edits go through `change`,
// which records the state before them; typing in one field is coalesced into one step by
// passing the same key. Moves are recorded once per drag (at its start), selection and
// measuring never are.
import { useCallback, useRef, useState } from "react";
import type { Graph } from "./mapping";

const LIMIT = 200;

export interface UndoableGraph {
  graph: Graph;
  /** A change the user can undo. */
  change: (update: (graph: Graph) => Graph, key?: string) => void;
  /** A change that is not a step of its own (selection, drag in progress, viewport). */
  setLive: (update: (graph: Graph) => Graph) => void;
  /** Remember the current state as an undo step (e.g. when a drag starts). */
  record: (key?: string) => void;
  undo: () => void;
  redo: () => void;
  reset: (graph: Graph) => void;
  canUndo: boolean;
  canRedo: boolean;
}

export function useUndoableGraph(initial: Graph): UndoableGraph {
  const [graph, setGraph] = useState(initial);
  const current = useRef(initial);
  const past = useRef<Graph[]>([]);
  const future = useRef<Graph[]>([]);
  const lastKey = useRef<string | null>(null);
  const [, setStackVersion] = useState(0);

  const apply = useCallback((next: Graph) => {
    current.current = next;
    setGraph(next);
  }, []);

  const setLive = useCallback(
    (update: (graph: Graph) => Graph) => apply(update(current.current)),
    [apply],
  );

  const record = useCallback((key?: string) => {
    if (key && key === lastKey.current) return;
    past.current = [...past.current.slice(-(LIMIT - 1)), current.current];
    future.current = [];
    lastKey.current = key ?? null;
    setStackVersion((v) => v + 1);
  }, []);

  const change = useCallback(
    (update: (graph: Graph) => Graph, key?: string) => {
      record(key);
      apply(update(current.current));
    },
    [apply, record],
  );

  const step = useCallback(
    (from: React.RefObject<Graph[]>, to: React.RefObject<Graph[]>) => {
      const target = from.current.at(-1);
      if (!target) return;
      from.current = from.current.slice(0, -1);
      to.current = [...to.current, current.current];
      lastKey.current = null;
      setStackVersion((v) => v + 1);
      // Keep the viewport where the user is looking: it is not an edit.
      apply({ ...target, viewport: current.current.viewport });
    },
    [apply],
  );

  const undo = useCallback(() => step(past, future), [step]);
  const redo = useCallback(() => step(future, past), [step]);

  const reset = useCallback(
    (next: Graph) => {
      past.current = [];
      future.current = [];
      lastKey.current = null;
      setStackVersion((v) => v + 1);
      apply(next);
    },
    [apply],
  );

  return {
    graph,
    change,
    setLive,
    record,
    undo,
    redo,
    reset,
    canUndo: past.current.length > 0,
    canRedo: future.current.length > 0,
  };
}
