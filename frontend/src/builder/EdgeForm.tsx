import { NumberField } from "./NumberField";
import { SelectField } from "./SelectField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import { type Gate, newGate, type SpecEdge, type SpecNode } from "./spec";

interface Props {
  edge: SpecEdge;
  nodes: SpecNode[];
  onChange: (patch: Partial<SpecEdge>, field: string) => void;
}

export function EdgeForm({ edge, nodes, onChange }: Props) {
  const name = (id: string) => nodes.find((n) => n.id === id)?.name ?? id;
  const gate = edge.gate;
  const setGate = (patch: Partial<Gate>, field: string) => onChange({ gate: { ...gate!, ...patch } }, `gate.${field}`);
  const reviewers = [
    { value: "", label: "choose an agent" },
    ...nodes.filter((n) => n.kind === "agent").map((n) => ({ value: n.id, label: n.name })),
  ];
  return (
    <>
      <p>
        <strong>{name(edge.source)}</strong> {edge.kind} <strong>{name(edge.target)}</strong>
      </p>
      <TextField
        label={edge.kind === "next" ? "Description" : "When to use this edge"}
        multiline
        rows={3}
        value={edge.description}
        onChange={(description) => onChange({ description }, "description")}
      />
      {edge.kind === "next" && (
        <fieldset className="gate">
          <legend>Gate</legend>
          <label>
            <input
              type="checkbox"
              checked={gate !== null}
              data-testid="field-gate"
              onChange={(e) => onChange({ gate: e.target.checked ? newGate() : null }, "gate")}
            />{" "}
            Check the output before passing it on
          </label>
          {gate && (
            <>
              <SelectField
                label="Check with"
                value={gate.kind}
                options={[
                  { value: "reviewer", label: "a reviewer agent" },
                  { value: "schema", label: "a JSON Schema" },
                ]}
                onChange={(kind) => setGate({ kind: kind as Gate["kind"] }, "kind")}
              />
              {gate.kind === "reviewer" ? (
                <>
                  <SelectField
                    label="Reviewer"
                    value={gate.reviewer ?? ""}
                    options={reviewers}
                    onChange={(id) => setGate({ reviewer: id || null }, "reviewer")}
                  />
                  <TextField label="Criteria" multiline value={gate.criteria} onChange={(criteria) => setGate({ criteria }, "criteria")} />
                </>
              ) : (
                <JsonEditor label="Schema" value={gate.schema} onChange={(schema) => setGate({ schema }, "schema")} />
              )}
              <NumberField
                label="Send back at most"
                value={gate.max_attempts}
                optional
                onChange={(max_attempts) => setGate({ max_attempts }, "max_attempts")}
              />
            </>
          )}
        </fieldset>
      )}
    </>
  );
}
