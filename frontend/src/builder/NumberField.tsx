import { useId } from "react";

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
