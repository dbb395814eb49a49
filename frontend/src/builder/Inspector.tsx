// The side panel: edits the selected node or edge, or the team when nothing is selected.
import { AgentForm } from "./AgentForm";
import { ChatPanel } from "./ChatPanel";
import { ConnectField } from "./ConnectField";
import type { ModelInfo, TeamSummary, ToolInfo } from "./builderApi";
import { EdgeForm } from "./EdgeForm";
import { HumanForm } from "./HumanForm";
import type { Graph } from "./mapping";
import { NodeTestPanel } from "./NodeTestPanel";
import type { SpecEdge, SpecNode, TeamSettings, TeamSpec } from "./spec";
import { TeamForm } from "./TeamForm";
import { TeamNodeForm } from "./TeamNodeForm";

interface Props {
  teamId: number;
  /** The draft on the canvas, as a test of one agent sends it. */
  spec: TeamSpec;
  graph: Graph;
  models: ModelInfo[];
  tools: ToolInfo[];
  savedTeams: TeamSummary[];
  onNode: (id: string, patch: Partial<SpecNode>, field: string) => void;
  onEdge: (id: string, patch: Partial<SpecEdge>, field: string) => void;
  onSettings: (patch: Partial<TeamSettings>, field: string) => void;
  onDelete: () => void;
  /** Draw an edge from one node to another (the keyboard's way to connect). */
  onConnect: (source: string, target: string) => void;
  /** Show a team node's inline team as the canvas. */
  onOpenTeam: (id: string) => void;
}

export function Inspector({ teamId, spec: draft, graph, models, tools, savedTeams, onNode, onEdge, onSettings, onDelete, onConnect, onOpenTeam }: Props) {
  const nodes = graph.nodes.filter((n) => n.selected);
  const edges = graph.edges.filter((e) => e.selected);
  const specs = graph.nodes.map((n) => n.data.spec);
  let title = "Team";
  let body = (
    <>
      <TeamForm settings={graph.settings} nodes={specs} onChange={onSettings} />
      <ChatPanel teamId={teamId} spec={draft} />
    </>
  );
  if (nodes.length + edges.length > 1) {
    title = `${nodes.length} nodes, ${edges.length} edges selected`;
    body = <p className="hint">Select one node or edge to edit it. Delete removes the selection, Ctrl+C copies it.</p>;
  } else if (nodes.length === 1) {
    const node = nodes[0];
    const spec = node.data.spec;
    const change = (patch: Partial<SpecNode>, field: string) => onNode(node.id, patch, field);
    title = `${spec.kind === "agent" ? "Agent" : spec.kind === "human" ? "Human" : "Team node"} · ${node.id}`;
    body =
      spec.kind === "agent" ? (
        <>
          <AgentForm agent={spec} models={models} tools={tools} others={specs.filter((s) => s.id !== node.id)} onChange={change} />
          <NodeTestPanel teamId={teamId} spec={draft} agent={spec} />
        </>
      ) : spec.kind === "human" ? (
        <HumanForm human={spec} onChange={change} />
      ) : (
        <TeamNodeForm node={spec} savedTeams={savedTeams} onChange={change} onOpen={() => onOpenTeam(node.id)} />
      );
    body = (
      <>
        <ConnectField from={node.id} nodes={specs} onConnect={(target) => onConnect(node.id, target)} />
        {body}
      </>
    );
    if (graph.settings.entry !== node.id) {
      body = (
        <>
          {body}
          <button type="button" onClick={() => onSettings({ entry: node.id }, "entry")}>
            Make this the entry
          </button>
        </>
      );
    }
  } else if (edges.length === 1) {
    const edge = edges[0];
    title = `Edge · ${edge.id}`;
    body = <EdgeForm edge={edge.data!.spec} nodes={specs} onChange={(patch, field) => onEdge(edge.id, patch, field)} />;
  }
  const selection = nodes.length + edges.length > 0;
  return (
    <aside className="inspector" aria-label="Properties">
      <div className="inspector-head">
        <h2>{title}</h2>
        {selection && (
          <button type="button" className="danger" onClick={onDelete} aria-label="Delete the selection">
            Delete
          </button>
        )}
      </div>
      <form className="inspector-body" onSubmit={(e) => e.preventDefault()}>
        {body}
      </form>
    </aside>
  );
}
