import type { FeedItem } from "./feed";
import { formatLatency } from "./format";
import { ValueView } from "./MessageContent";

type Props = { item: Extract<FeedItem, { kind: "tool" }> };

export function ToolCall({ item }: Props) {
  const result = item.result?.payload;
  const failed = result?.ok === false;
  const state = !result ? "running…" : failed ? "failed" : "done";
  const took = typeof result?.duration_ms === "number" ? ` in ${formatLatency(result.duration_ms)}` : "";
  return (
    <details className={`feed-tool${failed ? " failed" : ""}`}>
      <summary>
        <span className="agent">{item.agent}</span> called <code>{item.tool}</code>{" "}
        <span className="muted">
          {state}
          {took}
        </span>
      </summary>
      <h4>Arguments</h4>
      <ValueView value={item.call.payload.arguments} label="Arguments" />
      {result && (
        <>
          <h4>{failed ? "Error" : "Result"}</h4>
          <div className="tool-result" data-testid="tool-result">
            <ValueView value={failed ? result.error : result.result} label={failed ? "Error" : "Result"} />
          </div>
        </>
      )}
    </details>
  );
}
