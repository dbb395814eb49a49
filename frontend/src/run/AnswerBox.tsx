import { useState, type FormEvent } from "react";
import {
  answerFields,
  collectAnswer,
  fieldKey,
  parseJsonAnswer,
  type AnswerField,
  type FormValues,
} from "./answerForm";
import type { AgentNames, PendingHuman } from "./types";

interface Props {
  pending: PendingHuman;
  /** When the question fails as unanswered, as the page shows it (formatDeadline). */
  deadline: string | null;
  /** Node ids to the names people gave them, so "Asked by" names the node as the team does. */
  names?: AgentNames;
  onAnswer: (answer: unknown) => Promise<void>;
}

function Field({ field, value, onChange }: {
  field: AnswerField;
  value: string | boolean | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const id = `answer-${fieldKey(field) || "value"}`;
  if (field.kind === "boolean") {
    return (
      <label className="answer-field checkbox" htmlFor={id}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        {field.label}
      </label>
    );
  }
  const text = typeof value === "string" ? value : "";
  return (
    <label className="answer-field" htmlFor={id}>
      {field.label}
      {field.kind === "enum" ? (
        <select id={id} value={text} required={field.required} onChange={(e) => onChange(e.target.value)}>
          <option value="">Choose…</option>
          {field.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : field.kind === "string" ? (
        <textarea id={id} value={text} required={field.required} rows={3} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} type="number" step={field.kind === "integer" ? 1 : "any"} value={text}
          required={field.required} onChange={(e) => onChange(e.target.value)} />
      )}
    </label>
  );
}

export function AnswerBox({ pending, deadline, names = {}, onAnswer }: Props) {
  const fields = answerFields(pending.answer_schema);
  const [values, setValues] = useState<FormValues>({});
  const [json, setJson] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = fields ? collectAnswer(fields, values) : parseJsonAnswer(json);
    if ("error" in result) {
      setError(result.error);
      return;
    }
    setSending(true);
    setError(null);
    try {
      await onAnswer(result.answer);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  }

  return (
    <form className="answer-box" aria-label="Answer" onSubmit={submit}>
      <h2>{pending.kind === "budget" ? "The run reached its budget" : "The run is waiting for you"}</h2>
      {pending.node && <p className="muted">Asked by {names[pending.node] ?? pending.node}</p>}
      <p className="prompt">{pending.prompt}</p>
      {deadline && (
        <p className="muted" data-testid="answer-deadline">
          Waits for an answer until {deadline}; then the run goes on without one.
        </p>
      )}
      {fields ? (
        fields.map((f) => (
          <Field key={fieldKey(f)} field={f} value={values[fieldKey(f)]}
            onChange={(v) => setValues({ ...values, [fieldKey(f)]: v })} />
        ))
      ) : (
        <label className="answer-field" htmlFor="answer-json">
          Answer (JSON)
          <textarea id="answer-json" rows={6} value={json} onChange={(e) => setJson(e.target.value)} />
        </label>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="primary" disabled={sending}>
        {sending ? "Sending…" : "Send answer"}
      </button>
    </form>
  );
}
