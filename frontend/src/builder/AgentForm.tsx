import type { ModelInfo, ToolInfo } from "./builderApi";
import { NumberField } from "./NumberField";
import { SelectField } from "./SelectField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import { ModelPicker } from "./ModelPicker";
import type { AgentLimits, AgentNode, SpecNode } from "./spec";
import { ToolPicker } from "./ToolPicker";

interface Props {
  agent: AgentNode;
  models: ModelInfo[];
  tools: ToolInfo[];
  others: SpecNode[];
  onChange: (patch: Partial<AgentNode>, field: string) => void;
}

export function AgentForm({ agent, models, tools, others, onChange }: Props) {
  const limit = (key: keyof AgentLimits) => (value: number | null) =>
    onChange({ limits: { ...agent.limits, [key]: value } }, `limits.${key}`);
  const fallbacks = [
    { value: "", label: "none" },
    ...others.filter((n) => n.kind === "agent").map((n) => ({ value: n.id, label: n.name })),
  ];
  return (
    <>
      <TextField label="Name" value={agent.name} onChange={(name) => onChange({ name }, "name")} testId="field-name" />
      <TextField label="Role" value={agent.role} onChange={(role) => onChange({ role }, "role")} testId="field-role" />
      <TextField
        label="Instructions"
        multiline
        rows={8}
        value={agent.instructions}
        onChange={(instructions) => onChange({ instructions }, "instructions")}
        testId="field-instructions"
      />
      <ModelPicker
        model={agent.model}
        chain={agent.fallback_models ?? []}
        models={models}
        onModel={(model) => onChange({ model }, "model")}
        onChain={(fallback_models) => onChange({ fallback_models }, "fallback_models")}
      />
      <ToolPicker tools={tools} selected={agent.tools} onChange={(t) => onChange({ tools: t }, "tools")} />
      <JsonEditor
        label="Output schema (JSON Schema)"
        value={agent.output_schema}
        onChange={(output_schema) => onChange({ output_schema }, "output_schema")}
        placeholder='e.g. {"type": "object", "properties": {"summary": {"type": "string"}}}'
        testId="field-output-schema"
      />
      <fieldset className="limits">
        <legend>Limits</legend>
        <NumberField label="Max turns" value={agent.limits.max_turns} onChange={limit("max_turns")} testId="field-max-turns" />
        <NumberField label="Timeout (s)" value={agent.limits.timeout_s} onChange={limit("timeout_s")} step={0.1} />
        <NumberField label="Retries" value={agent.limits.max_retries} onChange={limit("max_retries")} />
        <NumberField label="Token budget" value={agent.limits.token_budget} onChange={limit("token_budget")} optional />
        <NumberField
          label="Cost budget (USD)"
          value={agent.limits.cost_budget_usd}
          onChange={limit("cost_budget_usd")}
          optional
          step={0.01}
        />
      </fieldset>
      <SelectField
        label="Fallback agent"
        value={agent.fallback ?? ""}
        options={fallbacks}
        onChange={(id) => onChange({ fallback: id || null }, "fallback")}
      />
    </>
  );
}
