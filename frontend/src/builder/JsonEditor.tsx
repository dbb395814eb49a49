// A JSON text editor that parses as you type: the value changes only while the text parses
// (and is an object, for schemas), otherwise the error is shown next to it.
import { useEffect, useId, useState } from "react";

interface Props {
  label: string;
  value: Record<string, unknown> | null;
  onChange: (value: Record<string, unknown> | null) => void;
  placeholder?: string;
  testId?: string;
}

const show = (value: unknown) => (value == null ? "" : JSON.stringify(value, null, 2));

export function JsonEditor({ label, value, onChange, placeholder, testId }: Props) {
  const id = useId();
  const [text, setText] = useState(show(value));
  const [error, setError] = useState("");

  // Follow outside changes (undo, another node selected) unless they are what we typed.
  useEffect(() => {
    setText((current) => (sameJson(current, value) ? current : show(value)));
    setError("");
  }, [value]);

  const edit = (next: string) => {
    setText(next);
    if (next.trim() === "") {
      setError("");
      onChange(null);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(next);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        setError("A JSON Schema is an object, like {\"type\": \"object\"}.");
        return;
      }
      setError("");
      onChange(parsed as Record<string, unknown>);
    } catch (e) {
      setError(`Not valid JSON yet: ${(e as Error).message}`);
    }
  };

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className={`json-editor${error ? " is-invalid" : ""}`}
        value={text}
        spellCheck={false}
        rows={6}
        placeholder={placeholder ?? "empty: none"}
        aria-invalid={Boolean(error)}
        aria-describedby={error ? `${id}-error` : undefined}
        data-testid={testId}
        onChange={(e) => edit(e.target.value)}
      />
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function sameJson(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(text.trim() ? JSON.parse(text) : null) === JSON.stringify(value ?? null);
  } catch {
    return false;
  }
}
