// What is wrong with the text of a JSON field, in words a person can act on (null: nothing).
export type JsonProblem = { kind: "syntax" | "not-object"; message: string };

export function jsonProblem(text: string): JsonProblem | null {
  if (text.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { kind: "syntax", message: `Not valid JSON yet: ${(e as Error).message}` };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { kind: "not-object", message: 'A JSON Schema is an object, like {"type": "object"}.' };
  }
  return null;
}
