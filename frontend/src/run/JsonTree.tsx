import { jsonEntries, jsonKind, jsonSummary, opensByItself, scalarLiteral } from "./jsonTree";

/** A JSON value as a tree of native <details> (keyboard and screen reader friendly), each
 * value coloured by its type. */
export function JsonTree({ value, label = "JSON" }: { value: unknown; label?: string }) {
  return (
    <div className="content json-tree" role="group" aria-label={label} data-testid="json-tree">
      <JsonNode name={null} value={value} depth={0} />
    </div>
  );
}

function JsonNode({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const kind = jsonKind(value);
  const key = name !== null && <span className="json-key">{name}: </span>;
  if (kind !== "object" && kind !== "array") {
    return (
      <div className="json-leaf">
        {key}
        <span className={`json-${kind}`}>{scalarLiteral(value)}</span>
      </div>
    );
  }
  const entries = jsonEntries(value);
  if (entries.length === 0) {
    return (
      <div className="json-leaf">
        {key}
        <span className="json-punct">{kind === "array" ? "[]" : "{}"}</span>
      </div>
    );
  }
  return (
    <details className="json-node" open={opensByItself(value, depth)}>
      <summary>
        {key}
        <span className="json-summary">{jsonSummary(value)}</span>
      </summary>
      <div className="json-children">
        {entries.map(([childName, child]) => (
          <JsonNode key={childName} name={childName} value={child} depth={depth + 1} />
        ))}
      </div>
    </details>
  );
}
