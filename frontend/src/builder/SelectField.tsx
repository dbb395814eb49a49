import { useId } from "react";

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
