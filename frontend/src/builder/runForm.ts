// The run form: fields generated from the team's input schema, and the input they make.
import type { JsonSchema } from "./spec";

export type FieldType = "text" | "textarea" | "number" | "integer" | "boolean" | "select" | "json";

export interface InputField {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  description: string;
  options: string[];
}

/** The fields for an object schema with properties; null when the schema is not one
 * (the form then offers one text or JSON box). */
export function inputFields(schema: JsonSchema | null): InputField[] | null {
  const properties = schema?.properties;
  if (!schema || schema.type !== "object" || !properties || typeof properties !== "object") return null;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties as Record<string, JsonSchema>).map(([name, prop]) => ({
    name,
    label: typeof prop.title === "string" ? prop.title : name,
    type: fieldType(prop),
    required: required.has(name),
    description: typeof prop.description === "string" ? prop.description : "",
    options: Array.isArray(prop.enum) ? prop.enum.map(String) : [],
  }));
}

function fieldType(prop: JsonSchema): FieldType {
  if (Array.isArray(prop.enum)) return "select";
  switch (prop.type) {
    case "string":
      // Short strings get a line, anything longer a box.
      return typeof prop.maxLength === "number" && prop.maxLength <= 200 ? "text" : "textarea";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

/** Where the form starts: the schema's first example (a template's sample input), then each
 * property's default. */
export function initialValues(schema: JsonSchema | null, fields: InputField[]): Record<string, string | boolean> {
  const example = Array.isArray(schema?.examples) ? schema.examples[0] : undefined;
  const sample = example && typeof example === "object" ? (example as Record<string, unknown>) : {};
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const values: Record<string, string | boolean> = {};
  for (const field of fields) {
    const value = field.name in sample ? sample[field.name] : properties[field.name]?.default;
    if (value === undefined || value === null) continue;
    if (field.type === "boolean") values[field.name] = Boolean(value);
    else values[field.name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return values;
}

/** The text box's start when the schema has no fields: its first example as JSON. */
export function initialText(schema: JsonSchema | null): string {
  const example = Array.isArray(schema?.examples) ? schema.examples[0] : undefined;
  return example === undefined ? "" : JSON.stringify(example, null, 2);
}

/** The run input from the form's raw values; throws an Error a person can act on. */
export function buildInput(fields: InputField[], values: Record<string, string | boolean>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.type === "boolean") {
      input[field.name] = Boolean(raw);
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (field.required) throw new Error(`${field.label} is required.`);
      continue;
    }
    input[field.name] = convert(field, text);
  }
  return input;
}

function convert(field: InputField, text: string): unknown {
  if (field.type === "number" || field.type === "integer") {
    const value = Number(text);
    if (!Number.isFinite(value) || (field.type === "integer" && !Number.isInteger(value))) {
      throw new Error(`${field.label} must be ${field.type === "integer" ? "a whole number" : "a number"}.`);
    }
    return value;
  }
  if (field.type === "json") {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${field.label} must be JSON, e.g. ["a", "b"] or {"key": 1}.`);
    }
  }
  return text;
}
