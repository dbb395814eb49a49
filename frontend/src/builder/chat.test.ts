import { describe, expect, it } from "vitest";
import { activeRun, shownText, type ChatMessage } from "./chat";

const answer = (over: Partial<ChatMessage>): ChatMessage => ({
  role: "assistant", content: null, turn: 1, run_id: "r1", status: "running",
  failure_reason: "", run_url: "/runs/r1/", audit_url: "/runs/r1/audit/", ...over,
});

describe("the chat panel", () => {
  it("shows the tokens streaming in while the answer's run goes", () => {
    expect(shownText(answer({}), "The led")).toBe("The led");
  });

  it("shows the answer once written, and why there is none when the run failed", () => {
    expect(shownText(answer({ content: "Done.", status: "succeeded" }), "x")).toBe("Done.");
    expect(shownText(answer({ status: "failed", failure_reason: "No model." }), "x")).toBe("No model.");
  });

  it("watches the last turn's run only while it goes", () => {
    expect(activeRun({ id: 1, url: "", messages: [answer({})] })).toBe("r1");
    expect(activeRun({ id: 1, url: "", messages: [answer({ status: "succeeded" })] })).toBeNull();
    expect(activeRun(null)).toBeNull();
  });
});
