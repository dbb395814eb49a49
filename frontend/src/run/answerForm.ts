// A simple form generated from a human node's answer_schema: strings, numbers, booleans and
// enums become fields; anything else is answered as JSON in a textarea.
import type { JsonSchema } from "./types";

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum";

export interface AnswerField {
  /** null when the schema is a single value rather than an object */
  name: string | null;
  label: string;
  kind: FieldKind;
  required: boolean;
  options: string[];
}

function fieldKind(schema: JsonSchema): FieldKind | null {
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === "string")) return "enum";
  const type = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null")[0] : schema.type;
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") {
    return type;
  }
  return null;
}

function field(name: string | null, schema: JsonSchema, required: boolean): AnswerField | null {
  const kind = fieldKind(schema);
  if (!kind) return null;
  const options = kind === "enum" ? (schema.enum as string[]) : [];
  return { name, label: schema.title ?? name ?? "Answer", kind, required, options };
}

/** The fields for ``schema``; null when a JSON textarea is needed instead. */
export function answerFields(schema: JsonSchema | null): AnswerField[] | null {
  if (!schema) return [{ name: null, label: "Answer", kind: "string", required: true, options: [] }];
  if (schema.type === "object" && schema.properties) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties).map(([name, s]) =>
      field(name, s, required.has(name)),
    );
    return fields.every((f) => f !== null) ? (fields as AnswerField[]) : null;
  }
  const single = field(null, schema, true);
  return single ? [single] : null;
}

export type FormValues = Record<string, string | boolean>;

export function fieldKey(f: AnswerField): string {
  return f.name ?? "";
}

/** The answer the form's values make, or the sentence that says what to fix. */
export function collectAnswer(
  fields: AnswerField[],
  values: FormValues,
): { answer: unknown } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[fieldKey(f)];
    let value: unknown;
    if (f.kind === "boolean") value = raw === true;
    else if (typeof raw !== "string" || raw.trim() === "") {
      if (f.required) return { error: `${f.label} is required.` };
      continue;
    } else if (f.kind === "number" || f.kind === "integer") {
      value = Number(raw);
      if (!Number.isFinite(value) || (f.kind === "integer" && !Number.isInteger(value))) {
        return { error: `${f.label} must be ${f.kind === "integer" ? "a whole number" : "a number"}.` };
      }
    } else value = raw;
    if (f.name === null) return { answer: value };
    out[f.name] = value;
  }
  return { answer: out };
}

/** Parse the JSON textarea's text, or say what is wrong with it. */
export function parseJsonAnswer(text: string): { answer: unknown } | { error: string } {
  try {
    return { answer: JSON.parse(text) };
  } catch (e) {
    return { error: `That is not valid JSON (${(e as Error).message}). Fix it and send again.` };
  }
}
