import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ev, resetSeq } from "./testEvents";
import { buildTimeline } from "./timeline";
import { TimelineView, type Selection } from "./TimelineView";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

beforeEach(resetSeq);
afterEach(() => {
  document.body.innerHTML = "";
});

describe("TimelineView", () => {
  it("makes every marker reachable: coincident ones open together", () => {
    const events = [
      ev("agent.started", "boss", 100, { task: "plan" }, { span_id: "a1" }),
      ev("delegation", "boss", 101, { to: "a" }),
      ev("delegation", "boss", 101, { to: "b" }),
      ev("retry", "boss", 109, { attempt: 2 }),
      ev("agent.finished", "boss", 110, { status: "ok" }, { span_id: "a1" }),
    ];
    const chosen: Selection[] = [];
    const container = document.createElement("div");
    document.body.append(container);
    act(() =>
      createRoot(container).render(
        <TimelineView timeline={buildTimeline(events, 0)} selected={null} onSelect={(s) => chosen.push(s)} />,
      ),
    );

    const markers = [...container.querySelectorAll<HTMLButtonElement>(".marker")];
    expect(markers.map((m) => m.textContent)).toEqual(["2", "↻"]);
    expect(markers[0].getAttribute("aria-label")).toBe("2 at once: delegates to a; delegates to b");
    act(() => markers[0].click());
    expect(chosen[0].events.map((e) => e.payload.to)).toEqual(["a", "b"]);
  });
});
