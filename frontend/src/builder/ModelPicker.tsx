// The agent's model and its fallback chain. Each model is shown with its provider, its price
// per 1M tokens and what the catalogue says it can do, so the choice is made knowing them.
import { useId, useState } from "react";
import type { ModelInfo } from "./builderApi";
import {
  addFallback,
  capabilities,
  fallbackCandidates,
  modelOptionLabel,
  moveFallback,
  priceLabel,
  removeFallback,
} from "./modelInfo";
import { SelectField } from "./SelectField";

interface Props {
  model: string;
  chain: string[];
  models: ModelInfo[];
  onModel: (model: string) => void;
  onChain: (chain: string[]) => void;
}

function ModelDetails({ info, testId }: { info: ModelInfo | undefined; testId?: string }) {
  if (!info) return <p className="hint" data-testid={testId}>Not one of your models: add it under Settings → Models.</p>;
  return (
    <div className="model-details" data-testid={testId}>
      <span className="model-provider">{info.simulated ? "offline simulator" : `${info.provider}: ${info.model}`}</span>
      <span className="model-price">{priceLabel(info)}</span>
      <ul className="model-caps" aria-label="Capabilities">
        {capabilities(info).map((c) => (
          <li key={c.name} className={c.has === null ? "cap-unknown" : c.has ? "cap-yes" : "cap-no"}>
            {c.has === null ? "?" : c.has ? "✓" : "✗"} {c.name}
          </li>
        ))}
      </ul>
      {info.capabilities === null && !info.simulated && <p className="hint">The catalogue does not know this model.</p>}
    </div>
  );
}

export function ModelPicker({ model, chain, models, onModel, onChain }: Props) {
  const id = useId();
  const [adding, setAdding] = useState("");
  const byName = new Map(models.map((m) => [m.name, m]));
  const candidates = fallbackCandidates(models, model, chain);
  const add = () => {
    onChain(addFallback(chain, adding || candidates[0]?.name || ""));
    setAdding("");
  };
  return (
    <>
      <SelectField
        label="Model"
        value={model}
        options={models.map((m) => ({ value: m.name, label: modelOptionLabel(m) }))}
        onChange={onModel}
        testId="field-model"
      />
      <ModelDetails info={byName.get(model)} testId="model-details" />
      <fieldset className="fallback-models" data-testid="fallback-models">
        <legend>Fallback models</legend>
        <p className="hint">Answer in this order when the model keeps failing or its circuit is open.</p>
        <ol>
          {chain.map((name, i) => (
            <li key={name} data-testid="fallback-model">
              <div className="fallback-row">
                <strong>{name}</strong>
                <span className="fallback-buttons">
                  <button type="button" aria-label={`Move ${name} earlier`} disabled={i === 0} onClick={() => onChain(moveFallback(chain, i, -1))}>↑</button>
                  <button type="button" aria-label={`Move ${name} later`} disabled={i === chain.length - 1} onClick={() => onChain(moveFallback(chain, i, 1))}>↓</button>
                  <button type="button" aria-label={`Remove ${name}`} onClick={() => onChain(removeFallback(chain, i))}>✕</button>
                </span>
              </div>
              <ModelDetails info={byName.get(name)} />
            </li>
          ))}
        </ol>
        {candidates.length > 0 ? (
          <div className="field fallback-add">
            <label htmlFor={id}>Add a fallback model</label>
            <div className="fallback-row">
              <select id={id} data-testid="fallback-choice" value={adding || candidates[0].name} onChange={(e) => setAdding(e.target.value)}>
                {candidates.map((m) => (
                  <option key={m.name} value={m.name}>{modelOptionLabel(m)}</option>
                ))}
              </select>
              <button type="button" data-testid="fallback-add" onClick={add}>Add</button>
            </div>
          </div>
        ) : (
          <p className="hint">{chain.length ? "Every other model is in the chain." : "Add another model under Settings → Models to fall back to it."}</p>
        )}
      </fieldset>
    </>
  );
}
