// Tools from GET /api/tools, each with its description and argument schema. Tools the spec
// names that the server does not offer stay listed, so they can be removed; tools of the
// team's MCP servers (named <server>.<tool>) are not in the registry and are added by name.
import { useId, useState } from "react";
import type { ToolInfo } from "./builderApi";

interface Props {
  tools: ToolInfo[];
  selected: string[];
  onChange: (tools: string[]) => void;
}

export function ToolPicker({ tools, selected, onChange }: Props) {
  const id = useId();
  const [other, setOther] = useState("");
  const known = new Set(tools.map((t) => t.name));
  const addOther = () => {
    const name = other.trim();
    if (name && !selected.includes(name)) onChange([...selected, name]);
    setOther("");
  };
  const unknown = selected.filter((name) => !known.has(name));
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...selected, name] : selected.filter((t) => t !== name));
  return (
    <fieldset className="tool-picker">
      <legend>Tools</legend>
      {tools.length === 0 && <p className="hint">The server offers no tools.</p>}
      {[...tools, ...unknown.map((name) => ({ name, description: "Not offered by this server.", parameters: {}, source: "unknown" }))].map(
        (tool) => (
          <div className="tool" key={tool.name}>
            <label>
              <input
                type="checkbox"
                checked={selected.includes(tool.name)}
                onChange={(e) => toggle(tool.name, e.target.checked)}
              />{" "}
              <strong>{tool.name}</strong>
            </label>
            <p className="hint">{tool.description}</p>
            {Object.keys(tool.parameters ?? {}).length > 0 && (
              <details>
                <summary>Arguments</summary>
                <pre>{JSON.stringify(tool.parameters, null, 2)}</pre>
              </details>
            )}
          </div>
        ),
      )}
      <div className="field">
        <label htmlFor={id}>Other tool by name (e.g. an MCP server's docs.search)</label>
        <div className="button-row">
          <input
            id={id}
            value={other}
            data-testid="field-other-tool"
            onChange={(e) => setOther(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addOther();
              }
            }}
          />
          <button type="button" onClick={addOther} disabled={!other.trim()}>
            Add tool
          </button>
        </div>
      </div>
    </fieldset>
  );
}
