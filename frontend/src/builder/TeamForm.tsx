// The team's own settings, shown when nothing is selected.
import { NumberField } from "./NumberField";
import { SelectField } from "./SelectField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import type { ServiceLevel, SpecNode, TeamLimits, TeamSettings } from "./spec";

const ESCALATION_EXAMPLE =
  '{"escalations": [{"priorities": ["urgent"], "hand_to": "<agent or person id>", "notify_webhooks": true}]}';

interface Props {
  settings: TeamSettings;
  nodes: SpecNode[];
  onChange: (patch: Partial<TeamSettings>, field: string) => void;
}

export function TeamForm({ settings, nodes, onChange }: Props) {
  const limit = (key: keyof TeamLimits) => (value: number | null) =>
    onChange({ limits: { ...settings.limits, [key]: value } }, `limits.${key}`);
  const entries = [{ value: "", label: "none" }, ...nodes.map((n) => ({ value: n.id, label: n.name }))];
  return (
    <>
      <TextField label="Team name" value={settings.name} onChange={(name) => onChange({ name }, "name")} testId="field-team-name" />
      <TextField
        label="Description"
        multiline
        rows={3}
        value={settings.description}
        onChange={(description) => onChange({ description }, "description")}
      />
      <SelectField
        label="Entry (where a run starts)"
        value={settings.entry ?? ""}
        options={entries}
        onChange={(entry) => onChange({ entry: entry || null }, "entry")}
        testId="field-entry"
      />
      <JsonEditor
        label="Input schema (the run form is made from it)"
        value={settings.input_schema}
        onChange={(input_schema) => onChange({ input_schema }, "input_schema")}
      />
      <JsonEditor
        label="Service level escalation (what a breached SLA does)"
        value={(settings.sla as Record<string, unknown> | null | undefined) ?? null}
        onChange={(sla) => onChange({ sla: sla as ServiceLevel | null }, "sla")}
        placeholder={ESCALATION_EXAMPLE}
        testId="field-sla"
      />
      <fieldset className="limits">
        <legend>Run limits</legend>
        <NumberField label="Timeout (s)" value={settings.limits.timeout_s} onChange={limit("timeout_s")} />
        <NumberField label="Max handoffs" value={settings.limits.max_hops} optional onChange={limit("max_hops")} />
        <NumberField label="Token budget" value={settings.limits.token_budget} optional onChange={limit("token_budget")} />
        <NumberField
          label="Cost budget (USD)"
          value={settings.limits.cost_budget_usd}
          optional
          step={0.01}
          onChange={limit("cost_budget_usd")}
        />
      </fieldset>
    </>
  );
}
