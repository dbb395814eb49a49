// The live run page: the server embeds the run (json_script); events arrive over the websocket.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RunPage } from "../run/RunPage";
import type { AgentNames, RunSummary } from "../run/types";

const root = document.getElementById("run-root");
const data = document.getElementById("run-data");
const agents = document.getElementById("run-agents");
if (root && data?.textContent) {
  const run = JSON.parse(data.textContent) as RunSummary;
  const names = JSON.parse(agents?.textContent || "{}") as AgentNames;
  createRoot(root).render(
    <StrictMode>
      <RunPage initial={run} names={names} limits={{
        answer: root.dataset.cannotAnswer ?? "",
        cancel: root.dataset.cannotCancel ?? "",
        start: root.dataset.cannotStart ?? "",
        dataset: root.dataset.cannotAddToDataset ?? "",
      }} workspace={root.dataset.workspace ?? ""} />
    </StrictMode>,
  );
}
