// Small labelled inputs the forms share. Each reports a typed value.
import { useId } from "react";

interface TextProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  multiline?: boolean;
  rows?: number;
  testId?: string;
}

export function TextField({ label, value, onChange, multiline, rows, testId }: TextProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} value={value} rows={rows ?? 4} data-testid={testId} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} value={value} data-testid={testId} onChange={(e) => onChange(e.target.value)} />
      )}
    </div>
  );
}

interface NumberProps {
  label: string;
  value: number | null;
  onChange: (value: number | null) => void;
  /** Whether empty is allowed (and means "none"). */
  optional?: boolean;
  step?: number;
  testId?: string;
}

export function NumberField({ label, value, onChange, optional, step, testId }: NumberProps) {
  const id = useId();
  return (
    <div className="field field-number">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        step={step ?? 1}
        value={value ?? ""}
        placeholder={optional ? "none" : undefined}
        data-testid={testId}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === "") {
            if (optional) onChange(null);
            return;
          }
          const parsed = Number(raw);
          if (Number.isFinite(parsed)) onChange(parsed);
        }}
      />
    </div>
  );
}

interface SelectProps {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
  testId?: string;
}

export function SelectField({ label, value, options, onChange, testId }: SelectProps) {
  const id = useId();
  const all = options.some((o) => o.value === value) ? options : [...options, { value, label: `${value} (unknown)` }];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} data-testid={testId} onChange={(e) => onChange(e.target.value)}>
        {all.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
