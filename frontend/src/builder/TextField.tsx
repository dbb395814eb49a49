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
