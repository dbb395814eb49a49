import { agentName } from "./feed";
import { formatCost } from "./format";
import type { AgentNames, RunEvent } from "./types";
import { usageByAgent } from "./usage";

/** Tokens and cost per agent, added up from its model calls. */
export function AgentUsageTable({ events, names }: { events: RunEvent[]; names: AgentNames }) {
  const rows = usageByAgent(events);
  if (rows.length === 0) return null;
  return (
    <section aria-label="Usage by agent" className="agent-usage">
      <h2>Usage by agent</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Calls</th>
            <th scope="col">Tokens in / out</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.agent}>
              <th scope="row">{agentName(names, row.agent)}</th>
              <td>{row.calls}</td>
              <td>
                {row.inputTokens} / {row.outputTokens}
              </td>
              <td>{formatCost(row.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
