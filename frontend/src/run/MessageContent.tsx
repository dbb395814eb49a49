import { useMemo } from "react";
import { asText } from "./feed";
import { JsonTree } from "./JsonTree";
import { jsonIn, renderMarkdown } from "./markdown";

/** A message's text: JSON as a collapsible tree, anything else as safe Markdown (markdown.ts). */
export function MessageContent({ text }: { text: string }) {
  const json = useMemo(() => jsonIn(text), [text]);
  const html = useMemo(() => (json === null ? renderMarkdown(text) : ""), [json, text]);
  if (json !== null) return <JsonTree value={json} />;
  // markdown-it escapes every character of raw HTML (html: false): this is its own markup only.
  return <div className="content content-markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

/** A value from an event (tool arguments, a result, a payload): objects, arrays and text that
 * holds one as a tree; other text as it is. */
export function ValueView({ value, label }: { value: unknown; label?: string }) {
  const json = typeof value === "string" ? jsonIn(value) : value;
  if (json !== null && typeof json === "object") return <JsonTree value={json} label={label} />;
  return <pre>{asText(value)}</pre>;
}
