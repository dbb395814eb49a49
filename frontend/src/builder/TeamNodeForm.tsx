import type { TeamSummary } from "./builderApi";
import { SelectField } from "./SelectField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import type { TeamNode, TeamSpec } from "./spec";

interface Props {
  node: TeamNode;
  savedTeams: TeamSummary[];
  onChange: (patch: Partial<TeamNode>, field: string) => void;
  /** Open the inline team as the canvas (a breadcrumb leads back). */
  onOpen: () => void;
}

export function TeamNodeForm({ node, savedTeams, onChange, onOpen }: Props) {
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
      {node.team_id == null ? (
        <>
          <p className="hint">
            Its team: {node.spec?.nodes.length ?? 0} nodes, {node.spec?.pattern ?? "pipeline"}.
          </p>
          <button type="button" className="primary" onClick={onOpen} data-testid="open-team">
            Open its team on the canvas
          </button>
          <details>
            <summary>Edit it as JSON</summary>
            <JsonEditor
              label="Inline team (TeamSpec JSON)"
              value={node.spec as Record<string, unknown> | null}
              onChange={(spec) => onChange({ spec: spec as TeamSpec | null }, "spec")}
            />
          </details>
        </>
      ) : (
        <p className="hint">
          A saved team, run as it is saved. <a href={`/teams/${node.team_id}/builder/`}>Open it in its own builder</a>.
        </p>
      )}
    </>
  );
}
