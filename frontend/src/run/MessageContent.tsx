import { useMemo } from "react";
import { jsonIn, renderMarkdown } from "./markdown";

/** A message's text: JSON as indented JSON, anything else as safe Markdown (see markdown.ts). */
export function MessageContent({ text }: { text: string }) {
  const json = useMemo(() => jsonIn(text), [text]);
  const html = useMemo(() => (json === null ? renderMarkdown(text) : ""), [json, text]);
  if (json !== null) return <pre className="content content-json">{JSON.stringify(json, null, 2)}</pre>;
  // markdown-it escapes every character of raw HTML (html: false): this is its own markup only.
  return <div className="content content-markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
