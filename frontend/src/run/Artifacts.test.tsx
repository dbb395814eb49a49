import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { Artifacts } from "./Artifacts";
import type { Artifact } from "./types";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

afterEach(() => {
  document.body.innerHTML = "";
});

function artifact(name: string, content_type: string, inline: boolean): Artifact {
  return { id: name, name, content_type, size: 10, url: `/api/artifacts/${name}`, inline };
}

function render(artifacts: Artifact[]): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  act(() => createRoot(container).render(<Artifacts artifacts={artifacts} />));
  return container;
}

describe("Artifacts", () => {
  it("shows only the images the server serves inline, and offers every file as a link", () => {
    const page = render([
      artifact("chart.png", "image/png", true),
      artifact("drawing.svg", "image/svg+xml", false),
      artifact("report.html", "text/html", false),
    ]);
    expect([...page.querySelectorAll("img")].map((img) => img.getAttribute("alt"))).toEqual(["chart.png"]);
    expect([...page.querySelectorAll("a")].map((a) => a.getAttribute("download"))).toEqual([
      "chart.png",
      "drawing.svg",
      "report.html",
    ]);
  });
});
