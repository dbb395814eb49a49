// What the model picker says about a model (GET /api/models), and the agent's ordered list of
// fallback models. Pure, so the wording and the list operations are tested without a browser.
import type { ModelInfo } from "./builderApi";

function usd(value: number): string {
  // Cents as prices are written; below a cent (cached tokens, nano models), two digits that count.
  return value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${Number(value.toPrecision(2))}`;
}

/** "$1.25 in / $10.00 out per 1M tokens", with "(catalogue)" when the catalogue supplied it. */
export function priceLabel(model: ModelInfo): string {
  if (model.simulated) return "free (simulated)";
  if (model.price_source === "unknown" || model.input_usd_per_mtok === undefined) return "price unknown";
  const price = `${usd(model.input_usd_per_mtok)} in / ${usd(model.output_usd_per_mtok ?? 0)} out per 1M tokens`;
  return model.price_source === "catalogue" ? `${price} (catalogue)` : price;
}

export interface Capability {
  name: string;
  has: boolean | null; // null: the catalogue does not know the model
}

const CAPABILITIES = [
  ["tools", "tools"],
  ["structured_output", "structured output"],
  ["vision", "vision"],
] as const;

export function capabilities(model: ModelInfo): Capability[] {
  return CAPABILITIES.map(([key, name]) => ({ name, has: model.capabilities ? model.capabilities[key] : null }));
}

/** One line per model in the select: its name, provider and price, so they compare at a glance. */
export function modelOptionLabel(model: ModelInfo): string {
  if (model.simulated) return `${model.name} (simulated, free)`;
  const price =
    model.price_source === "unknown" || model.input_usd_per_mtok === undefined
      ? "price unknown"
      : `${usd(model.input_usd_per_mtok)}/${usd(model.output_usd_per_mtok ?? 0)} per 1M`;
  return `${model.name} · ${model.provider}: ${model.model} · ${price}`;
}

/** Models that may be added to the chain: not the agent's own model, not already listed. */
export function fallbackCandidates(models: ModelInfo[], model: string, chain: string[]): ModelInfo[] {
  return models.filter((m) => m.name !== model && !chain.includes(m.name));
}

export function addFallback(chain: string[], name: string): string[] {
  return name && !chain.includes(name) ? [...chain, name] : chain;
}

export function removeFallback(chain: string[], index: number): string[] {
  return chain.filter((_, i) => i !== index);
}

/** The chain with the model at ``index`` moved one place (-1 earlier, +1 later). */
export function moveFallback(chain: string[], index: number, by: -1 | 1): string[] {
  const to = index + by;
  if (to < 0 || to >= chain.length) return chain;
  const next = [...chain];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}
