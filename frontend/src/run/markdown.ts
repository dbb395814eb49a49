// What a model wrote, as Markdown people can read, and never as markup: raw HTML in the text is
// escaped (html: false), links keep to http(s) and mailto (markdown-it refuses javascript: and
// most data: URLs), and nothing carries a style attribute, which the site's CSP would refuse.
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

// Table cells would say their alignment in a style attribute: drop it.
for (const rule of ["th_open", "td_open"] as const) {
  md.renderer.rules[rule] = (tokens, idx, options, _env, self) => {
    tokens[idx].attrs = (tokens[idx].attrs ?? []).filter(([name]) => name !== "style");
    return self.renderToken(tokens, idx, options);
  };
}

// Links leave the page for somewhere a model chose: a new tab that cannot reach back.
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  return self.renderToken(tokens, idx, options);
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}

/** Text that is a JSON object or array, parsed; null for anything else. */
export function jsonIn(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    return null;
  }
}
