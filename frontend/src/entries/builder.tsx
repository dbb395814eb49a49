// The team builder page (/teams/<id>/builder/): the template gives the team id.
import "@xyflow/react/dist/style.css";
import "../builder/builder.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BuilderApp } from "../builder/BuilderApp";

const root = document.getElementById("builder-root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <BuilderApp
        teamId={Number(root.dataset.teamId)}
        readOnly={root.dataset.readOnly ?? ""}
        cannotRun={root.dataset.cannotRun ?? ""}
      />
    </StrictMode>,
  );
}
