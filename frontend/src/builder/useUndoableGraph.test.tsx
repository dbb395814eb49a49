import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { specToGraph } from "./mapping";
import { updateNodeSpec } from "./operations";
import { TEMPLATES } from "./templates";
import { type UndoableGraph, useUndoableGraph } from "./useUndoableGraph";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let history: UndoableGraph;
let unmount = () => {};

function Probe() {
  history = useUndoableGraph(specToGraph(TEMPLATES[0].make()));
  return null;
}

function mount() {
  const root = createRoot(document.createElement("div"));
  act(() => root.render(<Probe />));
  unmount = () => act(() => root.unmount());
}

const leadName = () => history.graph.nodes.find((n) => n.id === "lead")!.data.spec.name;
const rename = (name: string, key = "node:lead:name") =>
  act(() => history.change((g) => updateNodeSpec(g, "lead", { name }), key));

afterEach(() => unmount());

describe("useUndoableGraph", () => {
  it("makes typing in one field one undo step, and redo replays it", () => {
    mount();
    rename("L");
    rename("Le");
    rename("Leader");
    expect(history.canUndo).toBe(true);
    act(() => history.undo());
    expect(leadName()).toBe("Lead");
    expect(history.canUndo).toBe(false);
    act(() => history.redo());
    expect(leadName()).toBe("Leader");
  });

  it("makes edits of different fields separate steps", () => {
    mount();
    rename("A");
    act(() => history.change((g) => updateNodeSpec(g, "lead", { role: "Boss" }), "node:lead:role"));
    act(() => history.undo());
    expect(leadName()).toBe("A");
  });

  it("records a drag once, at its start, however many moves follow", () => {
    mount();
    const start = history.graph.nodes[0].position;
    act(() => history.record());
    for (let x = 1; x <= 5; x++) {
      act(() => history.setLive((g) => ({ ...g, nodes: g.nodes.map((n, i) => (i ? n : { ...n, position: { x, y: 0 } })) })));
    }
    act(() => history.undo());
    expect(history.graph.nodes[0].position).toEqual(start);
    expect(history.canUndo).toBe(false);
  });

  it("forgets what was undone once a new edit is made", () => {
    mount();
    rename("A");
    act(() => history.undo());
    rename("B", "other");
    expect(history.canRedo).toBe(false);
  });
});
