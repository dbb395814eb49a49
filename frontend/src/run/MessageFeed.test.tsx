import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { feedItems } from "./feed";
import { MessageFeed } from "./MessageFeed";
import { ev } from "./testEvents";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

afterEach(() => {
  document.body.innerHTML = "";
});

function render(events: ReturnType<typeof ev>[]): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  act(() => createRoot(container).render(<MessageFeed items={feedItems(events)} live={[]} ended={false} />));
  return container;
}

describe("MessageFeed", () => {
  it("shows what a model wrote as text, never as markup", () => {
    const evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned=2">';
    const container = render([ev("message", "writer", 1, { role: "assistant", content: evil })]);
    expect(container.querySelector("script, img")).toBeNull();
    expect(container.textContent).toContain(evil);
  });

  it("renders Markdown, with raw HTML and script links kept out", () => {
    const text = "# Findings\n\n- **two** issues in `shop.py`\n\n<b onclick=x>bold?</b> [run me](javascript:alert(1))";
    const container = render([ev("message", "writer", 1, { role: "assistant", content: text })]);
    const content = container.querySelector(".content-markdown")!;
    expect(content.querySelector("h1")!.textContent).toBe("Findings");
    expect(content.querySelector("li strong")!.textContent).toBe("two");
    expect(content.querySelector("code")!.textContent).toBe("shop.py");
    expect(content.querySelector("b, [onclick], a[href^='javascript']")).toBeNull();
    expect(content.textContent).toContain("<b onclick=x>bold?</b>");
  });

  it("keeps a table's alignment out of style attributes, and links in a new tab", () => {
    const text = "| a | b |\n|--:|:-:|\n| 1 | 2 |\n\nSee https://example.com";
    const container = render([ev("message", "writer", 1, { role: "assistant", content: text })]);
    expect(container.querySelectorAll("td")).toHaveLength(2);
    expect(container.querySelector("[style]")).toBeNull();
    const link = container.querySelector("a")!;
    expect([link.getAttribute("href"), link.getAttribute("rel")]).toEqual(["https://example.com", "noopener noreferrer nofollow"]);
  });

  it("shows a message that is JSON as a tree, values coloured by type, deep nodes folded", () => {
    const content = '{"total": 42, "ok": true, "rows": [{"id": 1, "tags": {"a": null}}]}';
    const container = render([ev("message", "w", 1, { role: "assistant", content })]);
    const tree = container.querySelector(".json-tree")!;
    expect(tree.querySelector(".json-number")!.textContent).toBe("42");
    expect(tree.querySelector(".json-boolean")!.textContent).toBe("true");
    const nodes = [...tree.querySelectorAll<HTMLDetailsElement>("details.json-node")];
    // The message and its rows open by themselves; a row (two levels down) and its tags are folded.
    expect(nodes.map((n) => n.open)).toEqual([true, true, false, false]);
    expect(nodes[3].querySelector("summary")!.textContent).toBe("tags: { a } 1 key");
  });

  it("folds what an agent was given to one line, the whole text a click away", () => {
    const task = `Check these claims:\n${"a long claim, ".repeat(20)}`;
    const container = render([ev("message", "checker", 1, { role: "user", content: task })]);
    const given = container.querySelector<HTMLDetailsElement>("details.feed-given")!;
    expect(given.open).toBe(false);
    const summary = given.querySelector("summary")!.textContent!;
    expect(summary).toMatch(/^checker was given Check these claims: a long claim, .*…$/);
    expect(summary.length).toBeLessThan(120);
    expect(given.querySelector(".content")!.textContent).toContain("a long claim, a long claim");
  });

  it("says so while there are no messages yet", () => {
    expect(render([]).textContent).toContain("No messages yet");
    expect(render([ev("message", "w", 1, { content: "Hi" })]).textContent).not.toContain("No messages yet");
  });

  it("collapses a tool call with its arguments and result", () => {
    const container = render([
      ev("tool.call", "w", 1, { tool: "calc", arguments: { x: "<b>1</b>" }, call_id: "c" }),
      ev("tool.result", "w", 2, { tool: "calc", call_id: "c", ok: true, result: 42 }),
    ]);
    const details = container.querySelector("details")!;
    expect(details.open).toBe(false);
    expect(details.querySelector("summary")!.textContent).toContain("calc");
    expect(details.querySelector(".json-key")!.textContent).toBe("x: ");
    expect(details.querySelector(".json-string")!.textContent).toBe('"<b>1</b>"');
    expect(details.querySelector("b")).toBeNull();
    expect(details.textContent).toContain("42");
  });
});
