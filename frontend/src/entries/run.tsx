// The live run page: the server embeds the run (json_script); events arrive over the websocket.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RunPage } from "../run/RunPage";
import type { RunSummary } from "../run/types";

const root = document.getElementById("run-root");
const data = document.getElementById("run-data");
if (root && data?.textContent) {
  const run = JSON.parse(data.textContent) as RunSummary;
  createRoot(root).render(
    <StrictMode>
      <RunPage initial={run} />
    </StrictMode>,
  );
}
