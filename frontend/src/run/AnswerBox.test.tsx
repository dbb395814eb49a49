import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { AnswerBox } from "./AnswerBox";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

afterEach(() => {
  document.body.innerHTML = "";
});

const pending = { activity_key: "run/expert/human", node: "expert", prompt: "Which figures?", answer_schema: null, kind: "human" };

function render(deadline: string | null): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  act(() => createRoot(container).render(<AnswerBox pending={pending} deadline={deadline} onAnswer={async () => {}} />));
  return container;
}

describe("AnswerBox", () => {
  it("says until when the question waits, when it has a deadline", () => {
    expect(render("14:05").querySelector("[data-testid=answer-deadline]")?.textContent).toContain("until 14:05");
    document.body.innerHTML = "";
    expect(render(null).querySelector("[data-testid=answer-deadline]")).toBeNull();
  });
});
