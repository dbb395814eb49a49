// The builder: canvas, palette, side panel, problems, history, import/export and run.
import {
  Background,
  type Connection,
  type FinalConnectionState,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  Panel,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../lib/api";
import { autoLayout } from "./autoLayout";
import {
  type GalleryTemplate,
  listModels,
  listTeams,
  listTemplates,
  listTools,
  type ModelInfo,
  problemsOf,
  saveTeam,
  startRun,
  type TeamDetail,
  type TeamSummary,
  type ToolInfo,
} from "./builderApi";
import { type Decorations, DecorationsContext, type DiffMark, groupProblems } from "./decorations";
import { ConnectPicker, type PendingConnection } from "./ConnectPicker";
import { Dialog } from "./Dialog";
import { GuardEdge } from "./GuardEdge";
import type { SpecDiff } from "./diff";
import { HistoryDrawer } from "./HistoryDrawer";
import { ImportExport } from "./ImportExport";
import { importNote } from "./importSpec";
import { Inspector } from "./Inspector";
import { KindEdge } from "./KindEdge";
import { type Graph, graphIds, graphToSpec, specToGraph, toFlowEdge, toFlowNode, uniqueId } from "./mapping";
import { Breadcrumb } from "./Breadcrumb";
import { NodeCard } from "./NodeCard";
import { breadcrumb, enter, type Level, leave, rootGraph } from "./nesting";
import { NarrowToolbar } from "./NarrowToolbar";
import { NodeSearch } from "./NodeSearch";
import {
  type Clipboard,
  copySelection,
  paste,
  removeElements,
  switchPattern,
  updateEdgeSpec,
  updateNodeSpec,
} from "./operations";
import { DRAG_TYPE, Palette, type PaletteItem } from "./Palette";
import { ProblemsList } from "./ProblemsList";
import { RunDialog } from "./RunDialog";
import {
  EDGE_KIND_FOR_PATTERN,
  emptySpec,
  newAgent,
  newEdge,
  newHuman,
  newTeamNode,
  type NodeKind,
  type Pattern,
  type Problem,
  type SpecNode,
  type TeamSpec,
  withDefaults,
} from "./spec";
import { TEMPLATES } from "./templates";
import { freePosition, guardEdges, twinEdges } from "./tidy";
import { Toolbar } from "./Toolbar";
import { useShortcuts } from "./useShortcuts";
import { useNarrow } from "./useNarrow";
import { useUndoableGraph } from "./useUndoableGraph";
import { useValidation } from "./useValidation";
import { ZoomControls } from "./ZoomControls";

const nodeTypes = { agent: NodeCard, human: NodeCard, team: NodeCard };
const edgeTypes = { delegates: KindEdge, next: KindEdge, handoff: KindEdge, guard: GuardEdge };
const KIND_NAME = { agent: "Agent", human: "Human", team: "Team" } as const;
const OFFLINE: ModelInfo = { name: "offline", provider: "offline", model: "simulator", simulated: true };

const MINIMAP_COLOR = { agent: "#2563eb", human: "#059669", team: "#9333ea" } as const;
const minimapColor = (node: Graph["nodes"][number]) => MINIMAP_COLOR[node.data.spec.kind];

// What "unsaved" compares: the team and where its nodes are, not where the view is.
const contentKey = (spec: TeamSpec) => JSON.stringify({ ...spec, layout: spec.layout.positions });
// A team opened for the first time without positions (a starter, a file written by hand) is
// laid out rather than put on a grid.
function initialGraph(spec: TeamSpec): Graph {
  const graph = specToGraph(spec);
  const placed = spec.layout?.positions ?? {};
  if (spec.nodes.every((n) => placed[n.id])) return graph;
  return { ...graph, nodes: autoLayout(graph.nodes, graph.edges, graph.settings.pattern) };
}

const select = <T extends { id: string; selected?: boolean }>(items: T[], ids: Set<string>) =>
  items.map((item) => ({ ...item, selected: ids.has(item.id) }));

export function Builder({ team, readOnly = "", cannotRun = "" }: { team: TeamDetail; readOnly?: string; cannotRun?: string }) {
  const flow = useReactFlow();
  const canvas = useRef<HTMLDivElement>(null);
  const { graph, change, setLive, record, undo, redo, reset, canUndo, canRedo } = useUndoableGraph(
    initialGraph(team.spec),
  );
  // A nested team open as the canvas: `graph` is that level, `stack` the levels above it.
  // What is saved, validated, run and exported is always the whole team (`whole`).
  const [stack, setStack] = useState<Level[]>([]);
  const nested = stack.length > 0;
  const whole = useMemo(() => (nested ? rootGraph(stack, graph) : graph), [nested, stack, graph]);
  const spec = useMemo(() => graphToSpec(whole), [whole]);
  const levelSpec = useMemo(() => (nested ? graphToSpec(graph) : spec), [nested, graph, spec]);
  const [savedKey, setSavedKey] = useState(() => contentKey(graphToSpec(specToGraph(team.spec))));
  const [savedValid, setSavedValid] = useState(team.is_valid);
  const dirty = contentKey(spec) !== savedKey;
  const validation = useValidation(spec);
  const [models, setModels] = useState<ModelInfo[]>([OFFLINE]);
  const [tools, setTools] = useState<ToolInfo[]>([]);
  const [savedTeams, setSavedTeams] = useState<TeamSummary[]>([]);
  const [gallery, setGallery] = useState<GalleryTemplate[]>([]);
  const [status, setStatus] = useState(team.is_valid ? "" : "The saved version is a draft.");
  const [saving, setSaving] = useState(false);
  const [drawer, setDrawer] = useState(false);
  // "Run" on the team list opens the builder with ?run=1: the run form comes up at once.
  const [dialog, setDialog] = useState<"run" | "io" | null>(() =>
    new URLSearchParams(window.location.search).has("run") ? "run" : null,
  );
  const [diff, setDiff] = useState<SpecDiff | null>(null);
  const [versionsSeen, setVersionsSeen] = useState(0);
  const [pending, setPending] = useState<PendingConnection | null>(null);
  const clipboard = useRef<Clipboard | null>(null);
  // On a phone the canvas is shown read-only, the toolbar folded into a menu.
  const narrow = useNarrow();

  useEffect(() => {
    listModels().then(setModels).catch(() => setStatus("Could not load the models; only offline is listed."));
    listTools().then(setTools).catch(() => setStatus("Could not load the tools."));
    listTemplates()
      .then(setGallery)
      .catch(() => setGallery([]));
    listTeams()
      .then((teams) => setSavedTeams(teams.filter((t) => t.id !== team.id)))
      .catch(() => setSavedTeams([]));
  }, [team.id]);

  // Leaving with unsaved changes asks first.
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (!dirtyRef.current) return;
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, []);

  // Opening a nested team starts an undo history of its own; going back makes everything done
  // inside one step of the parent's history.
  const stackRef = useRef(stack);
  stackRef.current = stack;
  const graphRef = useRef(graph);
  graphRef.current = graph;
  const openTeam = useCallback(
    (id: string) => {
      const next = enter(stackRef.current, graphRef.current, id);
      if (next.stack === stackRef.current) return;
      stackRef.current = next.stack;
      setStack(next.stack);
      reset(next.graph);
      window.setTimeout(() => flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
    },
    [reset, flow],
  );
  const goTo = useCallback(
    (depth: number) => {
      const levels = stackRef.current;
      if (depth >= levels.length) return;
      const back = leave(levels, graphRef.current, depth);
      stackRef.current = back.stack;
      setStack(back.stack);
      reset(levels[depth].graph);
      if (back.graph !== levels[depth].graph) change(() => back.graph);
      window.setTimeout(() => flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
    },
    [reset, change, flow],
  );

  // Escape on the canvas goes up one level (not while typing, where it belongs to the field).
  useEffect(() => {
    if (!nested) return;
    const up = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.key !== "Escape" || target?.closest("input, textarea, select, [contenteditable=true], dialog")) return;
      goTo(stackRef.current.length - 1);
    };
    window.addEventListener("keydown", up);
    return () => window.removeEventListener("keydown", up);
  }, [nested, goTo]);

  const selectOnly = useCallback(
    (id: string) => setLive((g) => ({ ...g, nodes: select(g.nodes, new Set([id])), edges: select(g.edges, new Set([id])) })),
    [setLive],
  );

  const decorations = useMemo<Decorations>(() => {
    const marks = new Map<string, DiffMark>();
    for (const id of [...(diff?.nodes.added ?? []), ...(diff?.edges.added ?? [])]) marks.set(id, "added");
    for (const id of [...(diff?.nodes.edited ?? []), ...(diff?.edges.edited ?? [])]) marks.set(id, "edited");
    return {
      pattern: graph.settings.pattern,
      entry: graph.settings.entry,
      // Problems and history marks name the team's own nodes: drawn on its canvas only.
      nodeProblems: nested ? new Map() : groupProblems(validation.problems, "node"),
      edgeProblems: nested ? new Map() : groupProblems(validation.problems, "edge"),
      diff: nested ? new Map() : marks,
      twins: twinEdges(graph.edges),
      select: selectOnly,
      open: openTeam,
    };
  }, [graph.settings.pattern, graph.settings.entry, graph.edges, validation.problems, diff, selectOnly, openTeam, nested]);
  const drawnEdges = useMemo(() => [...graph.edges, ...guardEdges(graph.nodes, graph.edges)], [graph.nodes, graph.edges]);

  // A drag is recorded once when it starts; moves outside a drag come from the arrow keys,
  // and a run of them is one undo step.
  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      if (!dragging.current && changes.some((c) => c.type === "position" && c.position)) record("keyboard-move");
      // Deleting goes through removeElements so it is one undo step with its edges.
      setLive((g) => ({ ...g, nodes: applyNodeChanges(changes.filter((c) => c.type !== "remove"), g.nodes) as Graph["nodes"] }));
    },
    [setLive, record],
  );
  const startDrag = useCallback(() => {
    dragging.current = true;
    record();
  }, [record]);
  const stopDrag = useCallback(() => {
    dragging.current = false;
  }, []);
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) =>
      setLive((g) => ({ ...g, edges: applyEdgeChanges(changes.filter((c) => c.type !== "remove"), g.edges) as Graph["edges"] })),
    [setLive],
  );
  const onConnect = useCallback(
    (connection: Connection) =>
      change((g) => {
        const id = uniqueId(`${connection.source}-${connection.target}`, graphIds(g));
        const kind = EDGE_KIND_FOR_PATTERN[g.settings.pattern];
        const edge = toFlowEdge(newEdge(id, connection.source, connection.target, kind));
        return { ...g, edges: [...g.edges, edge] };
      }),
    [change],
  );

  const addNode = useCallback(
    (item: PaletteItem, wanted: { x: number; y: number }, connectFrom?: string) =>
      change((g) => {
        // Never on top of another node: the nearest free place to where it was wanted.
        const position = freePosition(g.nodes, wanted);
        const count = g.nodes.filter((n) => n.data.spec.kind === item.kind).length + 1;
        const name = item.teamId ? item.label : `${KIND_NAME[item.kind]} ${count}`;
        const id = uniqueId(item.teamId ? item.label : `${item.kind}-${count}`, graphIds(g));
        let spec: SpecNode;
        if (item.kind === "agent") spec = { ...newAgent(id, name), model: models[0]?.name ?? "offline" };
        else if (item.kind === "human") spec = newHuman(id, name);
        else spec = { ...newTeamNode(id, name, item.teamId ?? null), spec: item.teamId ? null : emptySpec("pipeline", name) };
        const node = { ...toFlowNode(spec, position), selected: true };
        const edges: Graph["edges"] = select(g.edges, new Set());
        if (connectFrom) {
          const edgeId = uniqueId(`${connectFrom}-${id}`, [...graphIds(g), id]);
          edges.push(toFlowEdge(newEdge(edgeId, connectFrom, id, EDGE_KIND_FOR_PATTERN[g.settings.pattern])));
        }
        return {
          ...g,
          nodes: [...select(g.nodes, new Set()), node],
          edges,
          settings: { ...g.settings, entry: g.settings.entry ?? id },
        };
      }),
    [change, models],
  );

  // A connection dropped on empty canvas offers to add a node there, already connected.
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode || state.fromHandle?.type !== "source") return;
      const point = "changedTouches" in event ? event.changedTouches[0] : event;
      const box = canvas.current!.getBoundingClientRect();
      setPending({
        from: state.fromNode.id,
        screen: { x: point.clientX - box.left, y: point.clientY - box.top },
        flow: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
      });
    },
    [flow],
  );
  const addConnected = (kind: NodeKind) => {
    if (!pending) return;
    addNode({ kind, label: KIND_NAME[kind] }, { x: pending.flow.x - 100, y: pending.flow.y - 20 }, pending.from);
    setPending(null);
  };

  const onDrop = (event: DragEvent) => {
    const raw = event.dataTransfer.getData(DRAG_TYPE);
    if (!raw) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    addNode(JSON.parse(raw) as PaletteItem, { x: at.x - 100, y: at.y - 40 });
  };
  const addInView = (item: PaletteItem) => {
    const box = canvas.current!.getBoundingClientRect();
    const at = flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
    addNode(item, { x: at.x - 100, y: at.y - 40 });
  };

  const removeSelection = () =>
    change((g) =>
      removeElements(
        g,
        g.nodes.filter((n) => n.selected).map((n) => n.id),
        g.edges.filter((e) => e.selected).map((e) => e.id),
      ),
    );

  // Never past 100%: a small team fitted at 200% reads worse than at its own size.
  const fit = () => window.setTimeout(() => flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);

  const save = async (message = ""): Promise<TeamDetail | null> => {
    if (readOnly) {
      setStatus(readOnly);
      return null;
    }
    setSaving(true);
    try {
      const result = await saveTeam(team.id, spec, validation.valid !== true, message);
      setSavedKey(contentKey(spec));
      setSavedValid(result.is_valid);
      setVersionsSeen((n) => n + 1);
      setStatus(
        result.is_valid
          ? `Saved version ${result.version}.`
          : `Saved version ${result.version} as a draft: fix the problems before running.`,
      );
      return result;
    } catch (error) {
      setStatus(`Not saved: ${problemsOf(error)[0].message}`);
      return null;
    } finally {
      setSaving(false);
    }
  };

  const run = async (input: unknown) => {
    // A role that may not save runs the saved version as it is; changes on the canvas stay here.
    if (readOnly && !savedValid) {
      throw new Error("The saved version has problems; someone who may change the team has to fix them.");
    }
    if (!readOnly && (dirty || !savedValid)) {
      const saved = await save(dirty ? "Saved to run" : "");
      if (!saved) throw new Error("The team could not be saved, so it cannot run; see the message above the canvas.");
      if (!saved.is_valid) throw new Error("The team has problems (listed under Problems): fix them, then run it.");
    }
    try {
      const started = await startRun(team.id, input);
      dirtyRef.current = false;
      window.location.assign(`/runs/${started.id}/`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        throw new Error("This server cannot start runs yet (it has no runs API).");
      }
      throw new Error(problemsOf(error).map((p) => p.message).join(" "));
    }
  };

  const pick = (problem: Problem) => {
    // Problems are located in the team itself: back to its canvas first.
    if (nested) goTo(0);
    const id = problem.node ?? problem.edge;
    // A problem of the whole team (no entry, say): show the team's settings.
    selectOnly(id ?? "");
    if (!id) return;
    const nodeIds = problem.node
      ? [problem.node]
      : (() => {
          const edge = whole.edges.find((e) => e.id === problem.edge);
          return edge ? [edge.source, edge.target] : [];
        })();
    const nodes = whole.nodes.filter((n) => nodeIds.includes(n.id));
    if (!nodes.length) return;
    const centre = (n: (typeof nodes)[number]) => ({
      x: n.position.x + (n.measured?.width ?? 200) / 2,
      y: n.position.y + (n.measured?.height ?? 100) / 2,
    });
    const points = nodes.map(centre);
    const x = points.reduce((s, p) => s + p.x, 0) / points.length;
    const y = points.reduce((s, p) => s + p.y, 0) / points.length;
    flow.setCenter(x, y, { zoom: flow.getZoom(), duration: 300 });
  };

  const replaceWith = (next: TeamSpec, note: string, layout = false, atRoot = true) => {
    if (atRoot && nested) goTo(0);
    change((g) => {
      const replaced = specToGraph(next);
      if (layout) replaced.nodes = autoLayout(replaced.nodes, replaced.edges, replaced.settings.pattern);
      return { ...replaced, viewport: g.viewport };
    });
    setStatus(note);
    fit();
  };

  const none = () => undefined;
  useShortcuts(narrow ? { save: none, remove: none, undo: none, redo: none, copy: none, paste: none, selectAll: none } : {
    save: () => void save(),
    remove: removeSelection,
    undo,
    redo,
    copy: () => {
      clipboard.current = copySelection(graph);
    },
    paste: () => {
      const clip = clipboard.current;
      if (clip?.nodes.length) change((g) => paste(g, clip));
    },
    selectAll: () =>
      setLive((g) => ({ ...g, nodes: select(g.nodes, new Set(g.nodes.map((n) => n.id))), edges: select(g.edges, new Set(g.edges.map((e) => e.id))) })),
  });

  return (
    <DecorationsContext.Provider value={decorations}>
      <div className="builder">
        {narrow ? (
          <NarrowToolbar name={whole.settings.name} status={status} cannotRun={cannotRun} onFit={fit} onRun={() => setDialog("run")} />
        ) : (
        <Toolbar
          readOnly={readOnly}
          cannotRun={cannotRun}
          name={whole.settings.name}
          pattern={graph.settings.pattern}
          dirty={dirty}
          saving={saving}
          status={status}
          canUndo={canUndo}
          canRedo={canRedo}
          onPattern={(p: Pattern) => change((g) => switchPattern(g, p))}
          gallery={gallery}
          onTemplate={(choice) => {
            const [source, key] = choice.split(":");
            const found =
              source === "starter"
                ? { spec: TEMPLATES[Number(key)].make(), label: TEMPLATES[Number(key)].label }
                : gallery.filter((t) => t.slug === key).map((t) => ({ spec: withDefaults(t.spec), label: t.name }))[0];
            if (!found) return;
            // On a nested team's canvas a template replaces that team only.
            replaceWith({ ...found.spec, name: graph.settings.name }, `Started from "${found.label}": save to keep it.`, true, false);
          }}
          onUndo={undo}
          onRedo={redo}
          onLayout={() => {
            change((g) => ({ ...g, nodes: autoLayout(g.nodes, g.edges, g.settings.pattern) }));
            fit();
          }}
          onFit={fit}
          onSave={() => void save()}
          onHistory={() => setDrawer((open) => !open)}
          onImportExport={() => setDialog("io")}
          onRun={() => setDialog("run")}
        />
        )}
        <div className={`builder-main${narrow ? " is-narrow" : ""}`}>
          {!narrow && (
          <div className="builder-left">
            {/* A role that cannot save has nothing to add: no palette, and nothing to drag. */}
            {!readOnly && <Palette savedTeams={savedTeams} onAdd={addInView} />}
            <ProblemsList problems={validation.problems} checking={validation.checking} valid={validation.valid} onPick={pick} />
          </div>
          )}
          <div
            className="canvas"
            ref={canvas}
            onDragOver={(e) => {
              e.preventDefault();
              e.dataTransfer.dropEffect = "copy";
            }}
            onDrop={onDrop}
          >
            <ReactFlow
              nodes={graph.nodes}
              edges={drawnEdges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              onNodeDoubleClick={(_event, node) => openTeam(node.id)}
              nodesDraggable={!narrow && !readOnly}
              nodesConnectable={!narrow && !readOnly}
              elementsSelectable={!narrow}
              onNodeDragStart={startDrag}
              onNodeDragStop={stopDrag}
              onSelectionDragStart={startDrag}
              onSelectionDragStop={stopDrag}
              onMoveEnd={(_event, viewport) => !narrow && setLive((g) => ({ ...g, viewport }))}
              defaultViewport={team.spec.layout?.viewport ?? { x: 0, y: 0, zoom: 1 }}
              // Fitting an empty canvas would zoom onto the first node dropped.
              // A phone shows the whole team, whatever view was saved on a wide screen.
              fitView={(narrow || !team.spec.layout?.viewport) && team.spec.nodes.length > 0}
              fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
              deleteKeyCode={null}
              minZoom={0.1}
              aria-label="Team canvas"
            >
              <Background />
              <ZoomControls onFit={fit} />
              {/* One corner for the way back and the search, stacked, so neither covers the other. */}
              {(nested || !narrow) && (
                <Panel position="top-left" className="canvas-corner">
                  {nested && <Breadcrumb crumbs={breadcrumb(stack, graph)} onGo={goTo} />}
                  {!narrow && <NodeSearch
                    nodes={graph.nodes}
                    onPick={(node) => {
                      selectOnly(node.id);
                      const box = { width: node.measured?.width ?? 220, height: node.measured?.height ?? 120 };
                      flow.setCenter(node.position.x + box.width / 2, node.position.y + box.height / 2, {
                        zoom: Math.max(flow.getZoom(), 0.8),
                        duration: 300,
                      });
                    }}
                  />}
                </Panel>
              )}
              {!narrow && <MiniMap pannable zoomable nodeColor={minimapColor} ariaLabel="Overview of the team" style={{ width: 150, height: 100 }} />}
            </ReactFlow>
            {pending && <ConnectPicker pending={pending} onPick={addConnected} onClose={() => setPending(null)} />}
          </div>
          {narrow ? null : drawer ? (
            <HistoryDrawer
              teamId={team.id}
              refreshKey={versionsSeen}
              onDiff={setDiff}
              onRestore={(restored, number) => {
                replaceWith(restored, `Restored version ${number} on the canvas: save to make it current.`);
                setDrawer(false);
                setDiff(null);
              }}
              onClose={() => setDrawer(false)}
            />
          ) : (
            <Inspector
              teamId={team.id}
              spec={levelSpec}
              graph={graph}
              models={models}
              tools={tools}
              savedTeams={savedTeams}
              onNode={(id, patch, field) => change((g) => updateNodeSpec(g, id, patch), `node:${id}:${field}`)}
              onEdge={(id, patch, field) => change((g) => updateEdgeSpec(g, id, patch), `edge:${id}:${field}`)}
              onSettings={(patch, field) => change((g) => ({ ...g, settings: { ...g.settings, ...patch } }), `team:${field}`)}
              onDelete={removeSelection}
              onConnect={(source, target) => onConnect({ source, target, sourceHandle: null, targetHandle: null })}
              onOpenTeam={openTeam}
            />
          )}
        </div>
        <Dialog title="Run the team" open={dialog === "run" && !cannotRun} onClose={() => setDialog(null)} testId="run-dialog">
          <RunDialog inputSchema={whole.settings.input_schema} onRun={run} />
        </Dialog>
        <Dialog title="Import or export" open={dialog === "io"} onClose={() => setDialog(null)} testId="io-dialog">
          <ImportExport
            spec={spec}
            teamId={team.id}
            onImport={(imported) => {
              replaceWith(imported, importNote(whole.settings.name, imported));
              setDialog(null);
            }}
          />
        </Dialog>
      </div>
    </DecorationsContext.Provider>
  );
}
