// The calls the builder makes, typed after /work/briefs/api-contract.md.
import { api, ApiError } from "../lib/api";
import type { RunSummary } from "../run/types";
import type { NodeTestRequest } from "./nodeTest";
import type { Problem, TeamSpec } from "./spec";

export interface TeamSummary {
  id: number;
  name: string;
  description: string;
  pattern: string;
  version: number;
  is_valid: boolean;
}

export interface TeamDetail extends TeamSummary {
  spec: TeamSpec;
  problems: Problem[];
}

export interface ModelCapabilities {
  tools: boolean;
  structured_output: boolean;
  vision: boolean;
  context_window: number;
}

/** A model agents may use (GET /api/models): prices in USD per 1M tokens, where they come from
 * ("credential", "model", "catalogue" or "unknown"), and the catalogue's capabilities (null
 * when the catalogue does not know the model). Optional fields: older servers omit them. */
export interface ModelInfo {
  name: string;
  provider: string;
  model: string;
  simulated: boolean;
  input_usd_per_mtok?: number;
  output_usd_per_mtok?: number;
  price_source?: string;
  capabilities?: ModelCapabilities | null;
}

export interface ToolInfo {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  source: string;
}

export interface VersionSummary {
  number: number;
  is_valid: boolean;
  message: string;
  created_by: string | number | null;
  created_at: string;
}

export interface Validation {
  valid: boolean;
  problems: Problem[];
}

export interface GalleryTemplate {
  slug: string;
  name: string;
  description: string;
  pattern: string;
  spec: TeamSpec;
}

export const getTeam = (id: number) => api<TeamDetail>("GET", `/teams/${id}`);
export const listTeams = () => api<TeamSummary[]>("GET", "/teams");
export const listTemplates = () => api<GalleryTemplate[]>("GET", "/templates");
export const listModels = () => api<ModelInfo[]>("GET", "/models");
export const listVersions = (id: number) => api<VersionSummary[]>("GET", `/teams/${id}/versions`);
export const getVersion = (id: number, number: number) =>
  api<VersionSummary & { spec: TeamSpec }>("GET", `/teams/${id}/versions/${number}`);
export const validateSpec = (spec: TeamSpec) => api<Validation>("POST", "/teams/validate", spec);
export const startRun = (id: number, input: unknown) =>
  api<{ id: string }>("POST", `/teams/${id}/runs`, { input });
export const testNode = (id: number, nodeId: string, request: NodeTestRequest) =>
  api<RunSummary>("POST", `/teams/${id}/nodes/${encodeURIComponent(nodeId)}/test`, request);

/** Tools come from the tools colleague's registry; a server without it offers none. */
export async function listTools(): Promise<ToolInfo[]> {
  try {
    return await api<ToolInfo[]>("GET", "/tools");
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return [];
    throw error;
  }
}

/** Save a new version. An invalid team is saved as a draft; the server has the last word. */
export async function saveTeam(
  id: number,
  spec: TeamSpec,
  draft: boolean,
  message = "",
): Promise<TeamDetail> {
  try {
    return await api<TeamDetail>("PUT", `/teams/${id}`, { spec, draft, message });
  } catch (error) {
    // The validation we knew of may be older than the spec: retry as a draft when the
    // server refuses only because of problems (a spec that does not parse stays refused).
    if (!draft && error instanceof ApiError && error.status === 422) {
      return api<TeamDetail>("PUT", `/teams/${id}`, { spec, draft: true, message });
    }
    throw error;
  }
}

/** The problems an error answer carries, or one made from its detail. */
export function problemsOf(error: unknown): Problem[] {
  if (error instanceof ApiError && error.body && typeof error.body === "object") {
    const body = error.body as { detail?: unknown; problems?: Problem[] };
    if (Array.isArray(body.problems) && body.problems.length) return body.problems;
    if (typeof body.detail === "string") return [problem(body.detail)];
  }
  return [problem(error instanceof Error ? error.message : String(error))];
}

export function problem(message: string): Problem {
  return { severity: "error", code: "client", message, node: null, edge: null, path: null };
}
