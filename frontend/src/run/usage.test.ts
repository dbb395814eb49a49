import { beforeEach, describe, expect, it } from "vitest";
import { feedItems } from "./feed";
import { formatLatency, formatUsage } from "./format";
import { ev, resetSeq } from "./testEvents";
import { usageByAgent } from "./usage";

beforeEach(resetSeq);

const usage = (agent: string, call: string, input: number, output: number, cost: number) => ({
  ...ev("usage", agent, 2, { input_tokens: input, output_tokens: output, cost_usd: cost }),
  key: `${call}#usage`,
});

describe("usage", () => {
  const events = () => [
    ev("message", "lead", 1, { role: "assistant", content: "Plan", activity_key: "run/lead/t1/model" }),
    usage("lead", "run/lead/t1/model", 900, 300, 0.007),
    usage("writer", "run/lead/t1/c0/writer/t1/model", 100, 50, 0.001),
    usage("lead", "run/lead/t2/model", 1000, 20, 0.002),
  ];

  it("adds up each agent's model calls", () => {
    const rows = usageByAgent(events());
    expect(rows.map(({ agent, calls, inputTokens, outputTokens }) => [agent, calls, inputTokens, outputTokens])).toEqual([
      ["lead", 2, 1900, 320],
      ["writer", 1, 100, 50],
    ]);
    expect(rows[0].costUsd).toBeCloseTo(0.009, 10);
  });

  it("gives a message the usage of the model call that wrote it", () => {
    const [message] = feedItems(events());
    expect(message.kind === "message" && message.usage).toEqual({ inputTokens: 900, outputTokens: 300, costUsd: 0.007 });
  });

  it("says usage and latency in one short line", () => {
    expect(formatUsage({ inputTokens: 940, outputTokens: 312, costUsd: 0.0072 })).toBe("940 in · 312 out · $0.0072");
    expect([formatLatency(12.4), formatLatency(2500)]).toEqual(["12 ms", "2.5 s"]);
  });
});
