// How a JSON value is drawn as a tree: which nodes open by themselves, and the one-line summary
// a folded node shows, so a reader sees the shape before the detail.

export type JsonKind = "object" | "array" | "string" | "number" | "boolean" | "null";

export function jsonKind(value: unknown): JsonKind {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return "string";
}

/** The children of an object or array as [label, value] pairs; none for a scalar. */
export function jsonEntries(value: unknown): [string, unknown][] {
  if (Array.isArray(value)) return value.map((item, i) => [String(i), item]);
  if (value !== null && typeof value === "object") return Object.entries(value as object);
  return [];
}

const PREVIEW_CHARS = 60;

/** What a folded object or array says on its line: its size and its first keys or items. */
export function jsonSummary(value: unknown): string {
  const entries = jsonEntries(value);
  const array = Array.isArray(value);
  const size = array
    ? `${entries.length} item${entries.length === 1 ? "" : "s"}`
    : `${entries.length} key${entries.length === 1 ? "" : "s"}`;
  const parts = entries.map(([key, item]) => (array ? scalarText(item) : key));
  let preview = parts.join(", ");
  if (preview.length > PREVIEW_CHARS) preview = `${preview.slice(0, PREVIEW_CHARS - 1)}…`;
  const [open, close] = array ? ["[", "]"] : ["{", "}"];
  return entries.length ? `${open} ${preview} ${close} ${size}` : `${open}${close}`;
}

function scalarText(value: unknown): string {
  const kind = jsonKind(value);
  if (kind === "object") return "{…}";
  if (kind === "array") return "[…]";
  return scalarLiteral(value);
}

/** A scalar as JSON writes it: strings quoted, null as null. */
export function scalarLiteral(value: unknown): string {
  if (value === undefined) return "null";
  return JSON.stringify(value);
}

// Nodes this deep or deeper start folded, and so does any node with more children than this:
// the first screen shows the shape, not a wall of values.
export const OPEN_DEPTH = 2;
export const OPEN_CHILDREN = 12;

export function opensByItself(value: unknown, depth: number): boolean {
  return depth < OPEN_DEPTH && jsonEntries(value).length <= OPEN_CHILDREN;
}
