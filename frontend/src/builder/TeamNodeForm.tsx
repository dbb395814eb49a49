import type { TeamSummary } from "./builderApi";
import { SelectField } from "./SelectField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import type { TeamNode, TeamSpec } from "./spec";

interface Props {
  node: TeamNode;
  savedTeams: TeamSummary[];
  onChange: (patch: Partial<TeamNode>, field: string) => void;
}

export function TeamNodeForm({ node, savedTeams, onChange }: Props) {
  const options = [
    { value: "", label: "inline team (below)" },
    ...savedTeams.map((t) => ({ value: String(t.id), label: `${t.name} (#${t.id})` })),
  ];
  return (
    <>
      <TextField label="Name" value={node.name} onChange={(name) => onChange({ name }, "name")} testId="field-name" />
      <TextField label="Role" value={node.role} onChange={(role) => onChange({ role }, "role")} testId="field-role" />
      <SelectField
        label="Team"
        value={node.team_id == null ? "" : String(node.team_id)}
        options={options}
        onChange={(v) => onChange({ team_id: v ? Number(v) : null, spec: v ? null : node.spec }, "team_id")}
      />
      {node.team_id == null && (
        <JsonEditor
          label="Inline team (TeamSpec JSON)"
          value={node.spec as Record<string, unknown> | null}
          onChange={(spec) => onChange({ spec: spec as TeamSpec | null }, "spec")}
        />
      )}
    </>
  );
}
