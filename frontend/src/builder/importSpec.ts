// Reading a TeamSpec someone pasted or chose as a file: enough shape checks that the canvas
// can draw it (with the defaults filled in); the server's validation reports everything else in place.
import { PATTERNS, type TeamSpec, withDefaults } from "./spec";

export function readSpec(text: string): TeamSpec {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`This is not JSON (${(e as Error).message}). Export a team to see the format.`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error("A team is a JSON object.");
  const spec = data as Partial<TeamSpec>;
  if (!PATTERNS.includes(spec.pattern as never)) {
    throw new Error(`"pattern" must be one of ${PATTERNS.join(", ")}.`);
  }
  const nodes = spec.nodes ?? [];
  const edges = spec.edges ?? [];
  if (!Array.isArray(nodes) || nodes.some((n) => !n || typeof n.id !== "string" || !["agent", "human", "team"].includes(n.kind))) {
    throw new Error('Every node needs an "id" and a "kind" of agent, human or team.');
  }
  if (!Array.isArray(edges) || edges.some((e) => !e || typeof e.id !== "string" || typeof e.source !== "string" || typeof e.target !== "string")) {
    throw new Error('Every edge needs an "id", a "source" and a "target".');
  }
  return withDefaults(spec as TeamSpec);
}

/** What the builder says after an import. The file's team name comes with it, as everything
 * else in the file does; when that renames the team, the person is told before they save. */
export function importNote(currentName: string, imported: TeamSpec): string {
  if (imported.name === currentName) return "Imported: save to keep it.";
  return (
    `Imported "${imported.name}": saving renames this team from "${currentName}" to the file's name ` +
    "(to keep the old name, click the empty canvas and change it back under Team before saving)."
  );
}
