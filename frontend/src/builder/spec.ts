// TypeScript mirror of teams/spec.py (TeamSpec). The server is the authority: these types
// describe what it sends and accepts, and the builder keeps every field it does not show.

export const SPEC_VERSION = 1;

export type Pattern = "supervisor" | "pipeline" | "swarm";
export type EdgeKind = "delegates" | "next" | "handoff";
export type JsonSchema = Record<string, unknown>;

export const PATTERNS: Pattern[] = ["supervisor", "pipeline", "swarm"];

/** The edge kind each pattern is drawn with (teams.spec.EDGE_KIND_FOR_PATTERN). */
export const EDGE_KIND_FOR_PATTERN: Record<Pattern, EdgeKind> = {
  supervisor: "delegates",
  pipeline: "next",
  swarm: "handoff",
};

export interface AgentLimits {
  max_turns: number;
  timeout_s: number;
  max_retries: number;
  token_budget: number | null;
  cost_budget_usd: number | null;
}

export interface TeamLimits {
  timeout_s: number;
  max_hops: number | null;
  token_budget: number | null;
  cost_budget_usd: number | null;
  budget_warning_ratio: number;
}

export interface AgentNode {
  kind: "agent";
  id: string;
  name: string;
  role: string;
  instructions: string;
  model: string;
  tools: string[];
  output_schema: JsonSchema | null;
  limits: AgentLimits;
  fallback: string | null;
  /** Models that answer a turn, in order, when this agent's model keeps failing; the server
   * omits the field when the list is empty. */
  fallback_models?: string[];
}

export interface HumanNode {
  kind: "human";
  id: string;
  name: string;
  role: string;
  prompt: string;
  answer_schema: JsonSchema | null;
  timeout_s: number | null;
}

export interface TeamNode {
  kind: "team";
  id: string;
  name: string;
  role: string;
  team_id: number | null;
  spec: TeamSpec | null;
}

export type SpecNode = AgentNode | HumanNode | TeamNode;
export type NodeKind = SpecNode["kind"];

export interface Gate {
  kind: "reviewer" | "schema";
  reviewer: string | null;
  schema: JsonSchema | null;
  criteria: string;
  max_attempts: number | null;
}

export interface SpecEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  gate: Gate | null;
  description: string;
}

export interface Position {
  x: number;
  y: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export interface Layout {
  positions: Record<string, Position>;
  viewport: Viewport | null;
}

/** A stdio server names one the operator registered (GET /api/mcp-servers); a team may no
 * longer give a program to start or its environment (the server refuses `command` and `env`). */
export interface McpServer {
  name: string;
  transport: "stdio" | "http";
  server: string | null;
  url: string | null;
}

/** Everything about the team that is not drawn as a node, an edge or the layout. */
export interface Escalation {
  priorities?: string[];
  hand_to?: string | null;
  raise_priority_to?: string | null;
  notify_webhooks?: boolean;
}

export interface ServiceLevel {
  escalations: Escalation[];
}

export interface TeamSettings {
  spec_version: number;
  name: string;
  description: string;
  pattern: Pattern;
  entry: string | null;
  limits: TeamLimits;
  input_schema: JsonSchema | null;
  mcp_servers: McpServer[];
  /** What a breached service level does (absent: the run only records the breach). */
  sla?: ServiceLevel | null;
  // Fields a newer server adds survive a round trip through the builder.
  [extra: string]: unknown;
}

export interface TeamSpec extends TeamSettings {
  nodes: SpecNode[];
  edges: SpecEdge[];
  layout: Layout;
}

export const DEFAULT_AGENT_LIMITS: AgentLimits = {
  max_turns: 10,
  timeout_s: 120,
  max_retries: 2,
  token_budget: null,
  cost_budget_usd: null,
};

export const DEFAULT_TEAM_LIMITS: TeamLimits = {
  timeout_s: 900,
  max_hops: 20,
  token_budget: null,
  cost_budget_usd: null,
  budget_warning_ratio: 0.8,
};

export function newAgent(id: string, name: string): AgentNode {
  return {
    kind: "agent",
    id,
    name,
    role: "",
    instructions: "",
    model: "offline",
    tools: [],
    output_schema: null,
    limits: { ...DEFAULT_AGENT_LIMITS },
    fallback: null,
  };
}

export function newHuman(id: string, name: string): HumanNode {
  return { kind: "human", id, name, role: "", prompt: "", answer_schema: null, timeout_s: null };
}

export function newTeamNode(id: string, name: string, teamId: number | null = null): TeamNode {
  return { kind: "team", id, name, role: "", team_id: teamId, spec: null };
}

export function newEdge(id: string, source: string, target: string, kind: EdgeKind): SpecEdge {
  return { id, source, target, kind, gate: null, description: "" };
}

export function newGate(): Gate {
  return { kind: "reviewer", reviewer: null, schema: null, criteria: "", max_attempts: 3 };
}

export function emptySpec(pattern: Pattern = "supervisor", name = "Untitled team"): TeamSpec {
  return {
    spec_version: SPEC_VERSION,
    name,
    description: "",
    pattern,
    entry: null,
    nodes: [],
    edges: [],
    limits: { ...DEFAULT_TEAM_LIMITS },
    input_schema: null,
    mcp_servers: [],
    layout: { positions: {}, viewport: null },
  };
}

/** A problem from the server's validation or parsing (the API contract). */
export interface Problem {
  severity: "error" | "warning";
  code: string;
  message: string;
  node: string | null;
  edge: string | null;
  path: string | null;
}

/** Fill in what a hand-written document may leave out, with the server's defaults, so the
 * canvas can draw it. Nothing present is changed. */
export function withDefaults(spec: Partial<TeamSpec> & Pick<TeamSpec, "pattern">): TeamSpec {
  const base = emptySpec(spec.pattern);
  const nodes = (spec.nodes ?? []).map((node): SpecNode => {
    if (node.kind === "agent") {
      const defaults = newAgent(node.id, node.name);
      return { ...defaults, ...node, limits: { ...defaults.limits, ...node.limits } };
    }
    if (node.kind === "human") return { ...newHuman(node.id, node.name), ...node };
    return { ...newTeamNode(node.id, node.name), ...node };
  });
  const edges = (spec.edges ?? []).map((edge) => ({
    ...newEdge(edge.id, edge.source, edge.target, edge.kind ?? EDGE_KIND_FOR_PATTERN[spec.pattern]),
    ...edge,
    gate: edge.gate ? { ...newGate(), ...edge.gate } : null,
  }));
  return {
    ...base,
    ...spec,
    nodes,
    edges,
    limits: { ...base.limits, ...spec.limits },
    layout: { positions: spec.layout?.positions ?? {}, viewport: spec.layout?.viewport ?? null },
  };
}
