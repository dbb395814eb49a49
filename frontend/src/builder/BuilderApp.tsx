// Loads the team, then hands it to the editor.
import { ReactFlowProvider } from "@xyflow/react";
import { useEffect, useState } from "react";
import { Builder } from "./Builder";
import { getTeam, problemsOf, type TeamDetail } from "./builderApi";

/** ``readOnly``: why the viewer may not save (their role), empty when they may;
 * ``cannotRun``: likewise why they may not start runs. */
export function BuilderApp({ teamId, readOnly = "", cannotRun = "" }: { teamId: number; readOnly?: string; cannotRun?: string }) {
  const [team, setTeam] = useState<TeamDetail | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    getTeam(teamId)
      .then(setTeam)
      .catch((e) => setError(`Could not load the team: ${problemsOf(e)[0].message} Reload the page to try again.`));
  }, [teamId]);
  if (error) return <p role="alert">{error}</p>;
  if (!team) return <p className="loading">Loading the team…</p>;
  return (
    <ReactFlowProvider>
      <Builder team={team} readOnly={readOnly} cannotRun={cannotRun} />
    </ReactFlowProvider>
  );
}
