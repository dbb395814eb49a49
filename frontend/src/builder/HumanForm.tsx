import { NumberField } from "./NumberField";
import { TextField } from "./TextField";
import { JsonEditor } from "./JsonEditor";
import type { HumanNode } from "./spec";

interface Props {
  human: HumanNode;
  onChange: (patch: Partial<HumanNode>, field: string) => void;
}

export function HumanForm({ human, onChange }: Props) {
  return (
    <>
      <TextField label="Name" value={human.name} onChange={(name) => onChange({ name }, "name")} testId="field-name" />
      <TextField label="Role" value={human.role} onChange={(role) => onChange({ role }, "role")} testId="field-role" />
      <TextField
        label="Question for the person"
        multiline
        value={human.prompt}
        onChange={(prompt) => onChange({ prompt }, "prompt")}
      />
      <JsonEditor
        label="Answer schema (JSON Schema; empty means free text)"
        value={human.answer_schema}
        onChange={(answer_schema) => onChange({ answer_schema }, "answer_schema")}
      />
      <NumberField
        label="Wait at most (s)"
        value={human.timeout_s}
        optional
        onChange={(timeout_s) => onChange({ timeout_s }, "timeout_s")}
      />
    </>
  );
}
