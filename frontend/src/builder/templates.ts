// Teams to start from: one small, runnable example per pattern (the offline model runs them).
import { type AgentNode, emptySpec, newAgent, newEdge, newGate, type Pattern, type TeamSpec } from "./spec";

function agent(id: string, name: string, role: string, instructions: string): AgentNode {
  return { ...newAgent(id, name), role, instructions };
}

function supervisor(): TeamSpec {
  const spec = emptySpec("supervisor", "Research team");
  spec.nodes = [
    agent("lead", "Lead", "Plans the work and delegates", "Split the task, delegate, then write the answer."),
    agent("researcher", "Researcher", "Finds facts", "Find the facts the lead asks for."),
    agent("writer", "Writer", "Drafts text", "Write clear prose from the notes you are given."),
  ];
  spec.edges = [newEdge("lead-researcher", "lead", "researcher", "delegates"), newEdge("lead-writer", "lead", "writer", "delegates")];
  spec.entry = "lead";
  return spec;
}

function pipeline(): TeamSpec {
  const spec = emptySpec("pipeline", "Draft and review");
  spec.nodes = [
    agent("outline", "Outliner", "Outlines", "Turn the input into an outline."),
    agent("draft", "Drafter", "Drafts", "Write a draft from the outline."),
    agent("editor", "Editor", "Reviews drafts", "Answer pass or fail with feedback."),
    agent("publish", "Publisher", "Formats the result", "Format the approved draft."),
  ];
  const gated = newEdge("draft-publish", "draft", "publish", "next");
  gated.gate = { ...newGate(), reviewer: "editor", criteria: "Accurate and clear." };
  spec.edges = [newEdge("outline-draft", "outline", "draft", "next"), gated];
  spec.entry = "outline";
  return spec;
}

function swarm(): TeamSpec {
  const spec = emptySpec("swarm", "Support desk");
  spec.nodes = [
    agent("triage", "Triage", "Routes the request", "Hand off to the right specialist."),
    agent("billing", "Billing", "Answers billing questions", "Resolve billing questions."),
    agent("tech", "Technical", "Answers technical questions", "Resolve technical problems."),
  ];
  spec.edges = [
    newEdge("triage-billing", "triage", "billing", "handoff"),
    newEdge("triage-tech", "triage", "tech", "handoff"),
    newEdge("billing-triage", "billing", "triage", "handoff"),
    newEdge("tech-triage", "tech", "triage", "handoff"),
  ];
  spec.entry = "triage";
  return spec;
}

export const TEMPLATES: { pattern: Pattern; label: string; make: () => TeamSpec }[] = [
  { pattern: "supervisor", label: "Supervisor with two workers", make: supervisor },
  { pattern: "pipeline", label: "Pipeline with a review gate", make: pipeline },
  { pattern: "swarm", label: "Swarm of specialists", make: swarm },
];
