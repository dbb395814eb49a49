"""Everything that can be wrong with a team, found without running it.

``validate(spec, context)`` is a pure function: it returns every problem at once (never stops
at the first), each located on the node or edge it belongs to so the builder can draw it in
place, with a message that says what to do. Errors block saving and running; warnings are
the mistakes people make most with agent teams (loops without caps, agents that never mention
their tools) and never block.

No Django here: the shell passes what only it knows (tool names, model names, saved teams) in
a ``ValidationContext``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from runs.engine.json_schema import SchemaError, check_schema
from runs.engine.models.catalogue import Entry as CatalogueEntry

from .nesting import (
    MAX_INLINED_NODES,
    MAX_NESTING_DEPTH,
    References,
    TeamLookup,
    TeamTooLarge,
    UnresolvedTeam,
    inline_team_refs,
)
from .spec import (
    EDGE_KIND_FOR_PATTERN,
    Agent,
    Edge,
    HumanNode,
    TeamNode,
    TeamSpec,
    parse,
)

Severity = Literal["error", "warning"]

#: Kinds of node a discriminated union tags errors with; dropped from error paths.
_NODE_KINDS = {"agent", "human", "team"}


class Problem(BaseModel):
    """One thing wrong with a team, where it is, and what to do about it."""

    severity: Severity
    code: str
    message: str
    node: str | None = None
    edge: str | None = None
    path: str | None = None


def error(code: str, message: str, **where: Any) -> Problem:
    return Problem(severity="error", code=code, message=message, **where)


def warning(code: str, message: str, **where: Any) -> Problem:
    return Problem(severity="warning", code=code, message=message, **where)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


@dataclass
class _Memo:
    """What one validation request works out once: the referenced teams and their verdicts."""

    references: References
    verdicts: dict[int, list[Problem]] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidationContext:
    """What the validator cannot know from the spec alone.

    ``known_tools`` None means tools are not checked (e.g. the engine re-validating a spec the
    web tier already accepted). ``mcp_servers`` are the names in the operator's registry of
    stdio MCP servers; None means they are not checked. ``team_id`` is the saved team being
    validated, so a nested team that includes it is reported. ``max_inlined_nodes`` caps the
    team's size with its nested team references inlined. ``model_capabilities`` is the model
    catalogue's entry for each known model name (models it does not know are not warned about).
    """

    known_tools: frozenset[str] | None = None
    known_models: frozenset[str] = frozenset({"offline"})
    model_capabilities: Mapping[str, CatalogueEntry] = field(default_factory=dict)
    mcp_servers: frozenset[str] | None = None
    lookup: TeamLookup | None = None
    team_id: int | None = None
    max_inlined_nodes: int = MAX_INLINED_NODES
    _depth: int = field(default=0, repr=False)
    _memo: _Memo | None = field(default=None, repr=False, compare=False)

    def models(self) -> frozenset[str]:
        return self.known_models | {"offline"}


# Ranges a person can reason about; outside them a value is almost certainly a typo.
AGENT_LIMIT_RANGES: dict[str, tuple[float, float]] = {
    "max_turns": (1, 200),
    "timeout_s": (1, 86_400),
    "max_retries": (0, 10),
    "token_budget": (1, 100_000_000),
    "cost_budget_usd": (0.0001, 100_000),
}
TEAM_LIMIT_RANGES: dict[str, tuple[float, float]] = {
    "timeout_s": (1, 7 * 86_400),
    "max_hops": (1, 1_000),
    "token_budget": (1, 1_000_000_000),
    "cost_budget_usd": (0.0001, 1_000_000),
    "budget_warning_ratio": (0.01, 1),
}
GATE_ATTEMPTS_RANGE = (1, 50)
HUMAN_TIMEOUT_RANGE = (1, 30 * 86_400)


def validate(spec: TeamSpec, context: ValidationContext | None = None) -> list[Problem]:
    """Every problem with ``spec``: errors first, then warnings, each located."""
    context = context or ValidationContext()
    if context._memo is None:  # the request's top level: references are worked out once
        references = References(context.lookup, context.team_id, context.max_inlined_nodes)
        context = replace(context, _memo=_Memo(references))
        too_large = _too_large(spec, references)
        if too_large:  # expanding it further is the attack: this is all there is to say
            return [too_large]
    checks = (
        _duplicate_ids,
        _entry,
        _edges,
        _fallbacks,
        _reachability,
        _pipeline_cycles,
        _tools_and_models,
        _fallback_model_chain,
        _model_catalogue,
        _schemas,
        _limits,
        _mcp_servers,
        _escalations,
        _team_nodes,
        _swarm_loops,
        _workers_report_back,
        _uncapped_gates,
        _unmentioned_tools,
    )
    problems = [p for check in checks for p in check(spec, context)]
    return sorted(problems, key=lambda p: p.severity != "error")


# -- structure -----------------------------------------------------------------------------


def _node_path(spec: TeamSpec, node_id: str) -> str | None:
    index = next((i for i, n in enumerate(spec.nodes) if n.id == node_id), None)
    return None if index is None else f"nodes.{index}"


def _edge_path(spec: TeamSpec, edge_id: str) -> str | None:
    index = next((i for i, e in enumerate(spec.edges) if e.id == edge_id), None)
    return None if index is None else f"edges.{index}"


def _duplicate_ids(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, node in enumerate(spec.nodes):
        if node.id in seen:
            yield error(
                "duplicate_id",
                f"Two nodes are called '{node.id}'. Give each node its own id.",
                node=node.id,
                path=f"nodes.{i}.id",
            )
        seen.add(node.id)
    seen_edges: set[str] = set()
    for i, edge in enumerate(spec.edges):
        if edge.id in seen_edges:
            yield error(
                "duplicate_id",
                f"Two edges are called '{edge.id}'. Give each edge its own id.",
                edge=edge.id,
                path=f"edges.{i}.id",
            )
        seen_edges.add(edge.id)


def _entry(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    if not spec.nodes:
        yield error("no_agents", "The team has no agents. Add at least one agent.", path="nodes")
    elif spec.entry is None:
        yield error(
            "no_entry",
            "The team has no entry agent, so a run would not know where to start. "
            "Mark one agent as the entry.",
            path="entry",
        )
    elif spec.node(spec.entry) is None:
        yield error(
            "unknown_entry",
            f"The entry '{spec.entry}' is not a node of this team. Choose an existing agent "
            "as the entry.",
            path="entry",
        )
    elif isinstance(spec.node(spec.entry), HumanNode):
        yield error(
            "human_entry",
            f"The entry '{spec.entry}' is a person; a run starts with an agent or a team. "
            "Put an agent first.",
            node=spec.entry,
            path="entry",
        )


_EDGE_VERB = {"delegates": "delegates to", "next": "leads to", "handoff": "hands off to"}


def _edges(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    expected_kind = EDGE_KIND_FOR_PATTERN[spec.pattern]
    for i, edge in enumerate(spec.edges):
        where = {"edge": edge.id, "path": f"edges.{i}"}
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if spec.node(node_id) is None:
                yield error(
                    f"unknown_{end}",
                    f"Edge '{edge.id}' {'starts at' if end == 'source' else _EDGE_VERB[edge.kind]}"
                    f" '{node_id}', which does not exist. Connect it to an existing node or "
                    "remove it.",
                    edge=edge.id,
                    path=f"edges.{i}.{end}",
                )
        if edge.source == edge.target:
            yield error(
                "self_edge",
                f"Edge '{edge.id}' connects '{edge.source}' to itself. Remove it.",
                **where,
            )
        if edge.kind != expected_kind:
            yield error(
                "wrong_edge_kind",
                f"A {spec.pattern} team connects agents with '{expected_kind}' edges, but edge "
                f"'{edge.id}' is '{edge.kind}'. Change its kind, or put the other pattern in a "
                "nested team.",
                edge=edge.id,
                path=f"edges.{i}.kind",
            )
        yield from _gate(spec, edge, i)


def _gate(spec: TeamSpec, edge: Edge, i: int) -> Iterator[Problem]:
    gate = edge.gate
    if gate is None:
        return
    path = f"edges.{i}.gate"
    if edge.kind != "next":
        yield error(
            "gate_not_allowed",
            f"Edge '{edge.id}' has a gate, but gates only guard pipeline ('next') edges. "
            "Remove the gate.",
            edge=edge.id,
            path=path,
        )
    if gate.kind == "reviewer":
        reviewer = spec.node(gate.reviewer) if gate.reviewer else None
        if not isinstance(reviewer, Agent):
            named = f"'{gate.reviewer}' is not an agent of this team" if gate.reviewer else ""
            yield error(
                "unknown_reviewer",
                f"The gate on edge '{edge.id}' needs a reviewer agent"
                f"{': ' + named if named else ''}. Choose one of the team's agents.",
                edge=edge.id,
                path=f"{path}.reviewer",
            )
    elif gate.output_schema is None:
        yield error(
            "missing_gate_schema",
            f"The schema gate on edge '{edge.id}' has no schema to check against. Add a JSON "
            "Schema or make it a reviewer gate.",
            edge=edge.id,
            path=f"{path}.schema",
        )


def _fallbacks(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        if not isinstance(node, Agent) or node.fallback is None:
            continue
        where = {"node": node.id, "path": f"nodes.{i}.fallback"}
        if node.fallback == node.id:
            yield error(
                "fallback_self",
                f"Agent '{node.id}' is its own fallback. Choose another agent to take over "
                "when it fails, or none.",
                **where,
            )
        elif not isinstance(spec.node(node.fallback), Agent):
            yield error(
                "unknown_fallback",
                f"Agent '{node.id}' falls back to '{node.fallback}', which is not an agent of "
                "this team. Choose an existing agent, or none.",
                **where,
            )


def _successors(spec: TeamSpec) -> dict[str, set[str]]:
    """Who can come to run after whom: edges, gate reviewers and fallbacks."""
    graph: dict[str, set[str]] = {n.id: set() for n in spec.nodes}
    for edge in spec.edges:
        if edge.source in graph and edge.target in graph:
            graph[edge.source].add(edge.target)
            if edge.gate and edge.gate.reviewer in graph:
                graph[edge.source].add(edge.gate.reviewer)
    for node in spec.agents():
        if node.fallback in graph:
            graph[node.id].add(node.fallback)
    return graph


def _reachability(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    if spec.entry is None or spec.node(spec.entry) is None:
        return  # reported by _entry; every node would look unreachable
    graph = _successors(spec)
    # A node an escalation hands work to runs when a service level passes, whatever ran.
    escalated_to = {r.hand_to for r in (spec.sla.escalations if spec.sla else []) if r.hand_to}
    graph[spec.entry] |= escalated_to & graph.keys()
    reached, frontier = {spec.entry}, [spec.entry]
    while frontier:
        for nxt in graph[frontier.pop()] - reached:
            reached.add(nxt)
            frontier.append(nxt)
    how = {
        "supervisor": "nothing delegates to it",
        "pipeline": "no stage leads to it",
        "swarm": "no agent hands off to it",
    }[spec.pattern]
    for i, node in enumerate(spec.nodes):
        if node.id not in reached:
            yield error(
                "unreachable",
                f"'{node.id}' can never run: {how} from the entry '{spec.entry}'. Connect it "
                "or remove it.",
                node=node.id,
                path=f"nodes.{i}",
            )


def _back_edges(spec: TeamSpec, kind: str) -> list[Edge]:
    """Edges of ``kind`` that close a cycle, found by depth-first search."""
    out: dict[str, list[Edge]] = {}
    for edge in spec.edges:
        if edge.kind == kind and edge.source != edge.target:
            out.setdefault(edge.source, []).append(edge)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    back: list[Edge] = []

    def visit(node_id: str) -> None:
        state[node_id] = 1
        for edge in out.get(node_id, []):
            if state.get(edge.target) == 1:
                back.append(edge)
            elif edge.target not in state:
                visit(edge.target)
        state[node_id] = 2

    for node in [n.id for n in spec.nodes] + list(out):
        if node not in state:
            visit(node)
    return back


def _pipeline_cycles(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    for edge in _back_edges(spec, "next"):
        yield error(
            "pipeline_cycle",
            f"Edge '{edge.id}' from '{edge.source}' back to '{edge.target}' makes the pipeline "
            "go round in a circle. A pipeline must flow one way: remove the edge, and use a "
            "gate to send work back for revision.",
            edge=edge.id,
            path=_edge_path(spec, edge.id),
        )


# -- references ----------------------------------------------------------------------------


def _is_known_tool(name: str, spec: TeamSpec, known: frozenset[str]) -> bool:
    if name in known:
        return True
    server, _, tool = name.partition(".")
    return bool(tool) and any(s.name == server for s in spec.mcp_servers)


def _tools_and_models(spec: TeamSpec, context: ValidationContext) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        if not isinstance(node, Agent):
            continue
        if context.known_tools is not None:
            for j, tool in enumerate(node.tools):
                if not _is_known_tool(tool, spec, context.known_tools):
                    yield error(
                        "unknown_tool",
                        f"Agent '{node.id}' uses the tool '{tool}', which does not exist. "
                        "Pick a tool from the list, or declare the MCP server that provides it.",
                        node=node.id,
                        path=f"nodes.{i}.tools.{j}",
                    )
        if node.model not in context.models():
            yield error(
                "unknown_model",
                f"Agent '{node.id}' uses the model '{node.model}', which is not configured. "
                "Add it under Settings → Models, or choose 'offline'.",
                node=node.id,
                path=f"nodes.{i}.model",
            )


def _fallback_model_chain(spec: TeamSpec, context: ValidationContext) -> Iterator[Problem]:
    yield from unknown_fallback_models(spec, context.known_models)


def _model_catalogue(spec: TeamSpec, context: ValidationContext) -> Iterator[Problem]:
    yield from model_warnings(spec, context.model_capabilities)


# -- models, from the catalogue: warnings, not errors (the catalogue may lag behind a provider)

#: Characters per token, roughly, for English prose: enough to tell "close to the window".
CHARS_PER_TOKEN = 4
#: Below this share of the window left for the task, the history and the answer: a warning.
CONTEXT_HEADROOM = 0.5


def model_warnings(spec: TeamSpec, capabilities: Mapping[str, CatalogueEntry]) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        entry = capabilities.get(node.model) if isinstance(node, Agent) else None
        if entry is None or not isinstance(node, Agent):
            continue
        model = f"'{node.model}' ({entry.model})"
        if node.tools and not entry.tools:
            yield warning(
                "model_without_tools",
                f"Agent '{node.id}' is given tools, but its model {model} cannot call tools. "
                "Choose a model that can, or remove the tools.",
                node=node.id,
                path=f"nodes.{i}.tools",
            )
        if node.output_schema is not None and not entry.structured_output:
            yield warning(
                "model_without_structured_output",
                f"Agent '{node.id}' has an output schema, but its model {model} cannot be held "
                "to one: answers that do not match are repaired, at extra cost. Choose a model "
                "with structured output.",
                node=node.id,
                path=f"nodes.{i}.output_schema",
            )
        prompt_tokens = len(node.instructions) // CHARS_PER_TOKEN
        if prompt_tokens > entry.context_window * CONTEXT_HEADROOM:
            yield warning(
                "context_window",
                f"Agent '{node.id}''s instructions take about {prompt_tokens:,} tokens, more than "
                f"half of its model {model}'s {entry.context_window:,}-token context window; "
                "the task and the conversation may not fit. Shorten them or choose a model "
                "with a larger window.",
                node=node.id,
                path=f"nodes.{i}.instructions",
            )


def unknown_fallback_models(spec: TeamSpec, known: frozenset[str]) -> Iterator[Problem]:
    """An error for each name in an agent's ``fallback_models`` that is not a model of the
    owner's (``known``, with ``offline``), as ``unknown_model`` is for ``model``."""
    for i, node in enumerate(spec.nodes):
        if not isinstance(node, Agent):
            continue
        for j, name in enumerate(node.fallback_models):
            if name not in known | {"offline"}:
                yield error(
                    "unknown_model",
                    f"Agent '{node.id}' falls back to the model '{name}', which is not "
                    "configured. Add it under Settings → Models, or remove it from the chain.",
                    node=node.id,
                    path=f"nodes.{i}.fallback_models.{j}",
                )


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` is not a valid JSON Schema, or None when it is."""
    try:
        canonical = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as exc:
        return str(exc)
    return _schema_problem(canonical)


# Checking against the 2020-12 meta-schema costs milliseconds, and the builder re-validates
# the same schemas on every edit: remember the verdicts, keyed by the schema's canonical JSON.
@lru_cache(maxsize=2048)
def _schema_problem(canonical: str) -> str | None:
    schema = json.loads(canonical)
    try:
        check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{exc.message}" + (f" (at '{where}')" if where else "")
    except (RecursionError, TypeError, ValueError) as exc:
        return str(exc)
    return None


def _schemas(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    located: list[tuple[Any, str, dict[str, Any], str]] = []
    if spec.input_schema is not None:
        located.append((spec.input_schema, "The team's input schema", {}, "input_schema"))
    for i, node in enumerate(spec.nodes):
        if isinstance(node, Agent) and node.output_schema is not None:
            located.append(
                (
                    node.output_schema,
                    f"The output schema of agent '{node.id}'",
                    {"node": node.id},
                    f"nodes.{i}.output_schema",
                )
            )
        if isinstance(node, HumanNode) and node.answer_schema is not None:
            located.append(
                (
                    node.answer_schema,
                    f"The answer schema of '{node.id}'",
                    {"node": node.id},
                    f"nodes.{i}.answer_schema",
                )
            )
    for i, edge in enumerate(spec.edges):
        if edge.gate and edge.gate.output_schema is not None:
            located.append(
                (
                    edge.gate.output_schema,
                    f"The gate schema on edge '{edge.id}'",
                    {"edge": edge.id},
                    f"edges.{i}.gate.schema",
                )
            )
    for schema, what, where, path in located:
        reason = schema_problem(schema)
        if reason:
            yield error(
                "invalid_schema",
                f"{what} is not valid JSON Schema: {reason}. Fix it or remove it.",
                path=path,
                **where,
            )


# -- limits --------------------------------------------------------------------------------


def _out_of_range(
    values: BaseModel, ranges: dict[str, tuple[float, float]]
) -> Iterator[tuple[str, Any, float, float]]:
    for name, (low, high) in ranges.items():
        value = getattr(values, name)
        if value is not None and not (low <= value <= high):
            yield name, value, low, high


def _range_message(what: str, name: str, value: Any, low: float, high: float) -> str:
    return f"{what}: {name} is {value}; use a value from {low:g} to {high:g}."


def _limits(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    for name, value, low, high in _out_of_range(spec.limits, TEAM_LIMIT_RANGES):
        yield error(
            "limit_out_of_range",
            _range_message("Team limits", name, value, low, high),
            path=f"limits.{name}",
        )
    for i, node in enumerate(spec.nodes):
        if isinstance(node, Agent):
            for name, value, low, high in _out_of_range(node.limits, AGENT_LIMIT_RANGES):
                yield error(
                    "limit_out_of_range",
                    _range_message(f"Agent '{node.id}'", name, value, low, high),
                    node=node.id,
                    path=f"nodes.{i}.limits.{name}",
                )
        elif isinstance(node, HumanNode) and node.timeout_s is not None:
            low, high = HUMAN_TIMEOUT_RANGE
            if not (low <= node.timeout_s <= high):
                yield error(
                    "limit_out_of_range",
                    _range_message(f"'{node.id}'", "timeout_s", node.timeout_s, low, high),
                    node=node.id,
                    path=f"nodes.{i}.timeout_s",
                )
    for i, edge in enumerate(spec.edges):
        attempts = edge.gate.max_attempts if edge.gate else None
        low, high = GATE_ATTEMPTS_RANGE
        if attempts is not None and not (low <= attempts <= high):
            yield error(
                "limit_out_of_range",
                _range_message(
                    f"The gate on edge '{edge.id}'", "max_attempts", attempts, low, high
                ),
                edge=edge.id,
                path=f"edges.{i}.gate.max_attempts",
            )


def _input_priorities(spec: TeamSpec) -> set[str] | None:
    """The priorities the run input may name, when its schema lists them."""
    schema = spec.input_schema or {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    priority = properties.get("priority") if isinstance(properties, dict) else None
    enum = priority.get("enum") if isinstance(priority, dict) else None
    return {v for v in enum if isinstance(v, str)} if isinstance(enum, list) else None


def _escalations(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    rules = spec.sla.escalations if spec.sla else []
    known = _input_priorities(spec)
    covered: set[str] = set()
    covers_all = False
    for i, rule in enumerate(rules):
        path = f"sla.escalations.{i}"
        which = f"Escalation {i + 1}"
        target = spec.node(rule.hand_to) if rule.hand_to else None
        if rule.hand_to and target is None:
            yield error(
                "unknown_escalation_target",
                f"{which} hands the work to '{rule.hand_to}', which is not a node of this "
                "team. Choose one of its agents or people.",
                path=f"{path}.hand_to",
            )
        elif isinstance(target, TeamNode):
            yield error(
                "escalation_to_team",
                f"{which} hands the work to '{rule.hand_to}', a nested team. Hand it to an "
                "agent or a person: they take over one task.",
                node=target.id,
                path=f"{path}.hand_to",
            )
        if not (rule.hand_to or rule.raise_priority_to or rule.notify_webhooks):
            yield error(
                "escalation_does_nothing",
                f"{which} does nothing. Hand the work to someone, raise the priority or "
                "notify the webhooks, or remove it.",
                path=path,
            )
        for priority in rule.priorities:
            if known is not None and priority not in known:
                yield warning(
                    "unknown_priority",
                    f"{which} is for priority '{priority}', which the run input never has "
                    f"(its priorities: {', '.join(sorted(known))}).",
                    path=f"{path}.priorities",
                )
        if covers_all or (rule.priorities and set(rule.priorities) <= covered):
            yield warning(
                "escalation_never_applies",
                f"{which} never applies: an earlier escalation already covers "
                f"{'every priority' if covers_all else 'its priorities'}. The first that "
                "matches is the one carried out.",
                path=path,
            )
        covered |= set(rule.priorities)
        covers_all = covers_all or not rule.priorities
    for i, node in enumerate(spec.nodes):
        if isinstance(node, TeamNode) and node.spec is not None and node.spec.sla is not None:
            yield warning(
                "nested_escalation_unused",
                f"The nested team '{node.id}' declares escalations, which are not used: only "
                "the team that is run escalates. Declare them on this team.",
                node=node.id,
                path=f"nodes.{i}.spec.sla",
            )


def _mcp_servers(spec: TeamSpec, context: ValidationContext) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, server in enumerate(spec.mcp_servers):
        path = f"mcp_servers.{i}"
        if server.name in seen:
            yield error(
                "duplicate_id",
                f"Two MCP servers are called '{server.name}'. Rename one.",
                path=f"{path}.name",
            )
        seen.add(server.name)
        if server.command or server.env:
            yield error(
                "mcp_program_in_team",
                f"MCP server '{server.name}' names a program to start or environment variables "
                "to give it. A team may not: the operator decides which programs run on the "
                "workers. Remove 'command' and 'env' and set 'server' to one of the registered "
                "MCP servers (GET /api/mcp-servers lists them), or use an HTTP server.",
                path=path,
            )
        elif server.transport == "stdio":
            yield from _registered_server(server.name, server.server, path, context)
        if server.transport == "http" and not server.url:
            yield error(
                "mcp_incomplete",
                f"MCP server '{server.name}' uses HTTP but has no URL. Add its endpoint.",
                path=f"{path}.url",
            )
        if server.transport == "http" and server.server:
            yield error(
                "mcp_server_not_http",
                f"MCP server '{server.name}' uses HTTP, so it is reached at its URL; 'server' "
                "names a registered stdio server. Remove 'server', or switch to stdio.",
                path=f"{path}.server",
            )


def _registered_server(
    name: str, registered: str | None, path: str, context: ValidationContext
) -> Iterator[Problem]:
    if not registered:
        yield error(
            "mcp_incomplete",
            f"MCP server '{name}' uses stdio but names no registered server. Set 'server' to "
            "one of the MCP servers the operator registered.",
            path=f"{path}.server",
        )
    elif context.mcp_servers is not None and registered not in context.mcp_servers:
        known = ", ".join(sorted(context.mcp_servers)) or "none are registered"
        yield error(
            "unknown_mcp_server",
            f"MCP server '{name}' refers to '{registered}', which is not one of the MCP servers "
            f"the operator registered ({known}). Choose a registered one.",
            path=f"{path}.server",
        )


# -- nested teams --------------------------------------------------------------------------


def _team_nodes(spec: TeamSpec, context: ValidationContext) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        if isinstance(node, TeamNode):
            yield from _team_node(node, i, context)


def _team_node(node: TeamNode, i: int, context: ValidationContext) -> Iterator[Problem]:
    where = {"node": node.id, "path": f"nodes.{i}"}
    if node.team_id is None and node.spec is None:
        yield error(
            "empty_team_node",
            f"Team node '{node.id}' has no team in it. Choose a saved team or build one inline.",
            **where,
        )
        return
    if node.team_id is not None and node.spec is not None:
        yield error(
            "ambiguous_team_node",
            f"Team node '{node.id}' names saved team {node.team_id} and also holds a team "
            "inline. Keep one of them.",
            **where,
        )
        return
    if node.team_id is not None:
        yield from _referenced_team(node, i, context)
        return
    assert node.spec is not None
    yield from _nested_problems(node, i, node.spec, context)


def _referenced_team(node: TeamNode, i: int, context: ValidationContext) -> Iterator[Problem]:
    assert node.team_id is not None and context._memo is not None
    where = {"node": node.id, "path": f"nodes.{i}.team_id"}
    if node.team_id == context.team_id:
        yield error(
            "nesting_cycle",
            f"Team node '{node.id}' includes this very team, which would run forever. "
            "Choose another team.",
            **where,
        )
        return
    references = context._memo.references
    facts = references.facts(node.team_id)
    if facts.cycle:
        yield error(
            "nesting_cycle",
            f"Team node '{node.id}' includes team {node.team_id}, which includes itself "
            f"(through teams {' → '.join(map(str, facts.cycle))}). Break the circle.",
            **where,
        )
        return
    nested = references.spec(node.team_id)
    if nested is None:
        yield error(
            "unknown_team",
            f"Team node '{node.id}' refers to team {node.team_id}, which does not exist or is "
            "not yours. Choose one of your teams.",
            **where,
        )
    elif context._depth + 1 + facts.height > MAX_NESTING_DEPTH:
        yield _too_deep(node, i)
    elif has_errors(_verdict(node.team_id, nested, context)):
        yield error(
            "invalid_nested_team",
            f"Team node '{node.id}' refers to team {node.team_id}, which has errors. Open that "
            "team and fix it first.",
            **where,
        )


def _verdict(team_id: int, nested: TeamSpec, context: ValidationContext) -> list[Problem]:
    """The referenced team's own problems, found once per request however often it is used
    (its circles and depth are already known to be fine, so this recursion ends)."""
    assert context._memo is not None
    verdicts = context._memo.verdicts
    if team_id not in verdicts:
        verdicts[team_id] = validate(nested, replace(context, _depth=0))
    return verdicts[team_id]


def _too_deep(node: TeamNode, i: int) -> Problem:
    return error(
        "nesting_too_deep",
        f"Team node '{node.id}' nests teams more than {MAX_NESTING_DEPTH} levels deep. "
        "Flatten the structure.",
        node=node.id,
        path=f"nodes.{i}",
    )


def _too_large(spec: TeamSpec, references: References) -> Problem | None:
    """The team, inlined, is larger than the cap: located on the team node that brings most."""
    try:
        size = references.of_document(spec).size
    except TeamTooLarge as exc:  # refers to more teams than the cap has nodes
        return error("team_too_large", str(exc), path="nodes")
    if size <= references.max_nodes:
        return None
    # Every referenced team's facts are known now: sizing one node at a time looks up nothing.
    _, i, node_id = max(
        (references.of_document(spec.model_copy(update={"nodes": [n]})).size, -i, n.id)
        for i, n in enumerate(spec.nodes)
    )
    i = -i  # the first of the largest
    return error(
        "team_too_large",
        references.too_large(f"holds {size:,} nodes"),
        node=node_id,
        path=f"nodes.{i}",
    )


def _nested_problems(
    node: TeamNode, i: int, nested: TeamSpec, context: ValidationContext
) -> Iterator[Problem]:
    """The inline nested team's problems, located on the team node that holds it."""
    if context._depth >= MAX_NESTING_DEPTH:
        yield _too_deep(node, i)
        return
    inner = replace(context, _depth=context._depth + 1)
    inline = node.spec is not None
    for problem in validate(nested, inner):
        yield problem.model_copy(
            update={
                "node": node.id,
                "edge": None,
                "message": f"In nested team '{node.id}': {problem.message}",
                "path": f"nodes.{i}.spec.{problem.path}"
                if inline and problem.path
                else f"nodes.{i}",
            }
        )


# -- warnings ------------------------------------------------------------------------------


def _strongly_connected(nodes: list[str], graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm; recursive, which is safe because a team has at most MAX_NODES."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in nodes:
        if v not in index:
            connect(v)
    return components


def _swarm_loops(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    if spec.pattern != "swarm":
        return
    graph: dict[str, set[str]] = {n.id: set() for n in spec.nodes}
    for edge in spec.edges:
        if edge.kind == "handoff" and edge.source in graph and edge.target in graph:
            graph[edge.source].add(edge.target)
    for component in _strongly_connected(list(graph), graph):
        if len(component) < 2:
            continue
        leaves = set().union(*(graph[v] for v in component)) - component
        if leaves:
            continue  # control can leave the circle for an agent outside it
        members = ", ".join(f"'{v}'" for v in sorted(component))
        first = min(component, key=lambda v: [n.id for n in spec.nodes].index(v))
        capped = (
            f"the run bounces until max_hops ({spec.limits.max_hops})"
            if spec.limits.max_hops
            else "nothing stops the run"
        )
        yield warning(
            "swarm_no_finisher",
            f"Agents {members} hand off to each other in a circle and none of them can leave "
            f"it for an agent that only answers; if none decides to answer, {capped}. Add an "
            "agent without handoffs that gives the final answer, or say in one agent's "
            "instructions when to answer instead of handing off.",
            node=first,
            path=_node_path(spec, first),
        )
    if spec.limits.max_hops is None and any(graph.values()):
        yield warning(
            "uncapped_loop",
            "The swarm has no hop limit, so agents could hand off to each other forever. "
            "Set limits.max_hops.",
            path="limits.max_hops",
        )


def _workers_report_back(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    """A supervisor waits for each worker's answer; some workers can never give one."""
    for edge in spec.edges:
        if edge.kind != "delegates":
            continue
        boss, worker = spec.node(edge.source), spec.node(edge.target)
        if not isinstance(worker, Agent):
            continue
        where = {"node": worker.id, "path": _node_path(spec, worker.id)}
        if worker.tools and worker.limits.max_turns <= 1:
            yield warning(
                "worker_cannot_report",
                f"Worker '{worker.id}' has tools but only one turn: after its first tool call "
                "it is stopped before it can report back. Give it at least two turns.",
                **where,
            )
        if isinstance(boss, Agent) and worker.limits.timeout_s > boss.limits.timeout_s:
            yield warning(
                "worker_cannot_report",
                f"Worker '{worker.id}' may take {worker.limits.timeout_s:g} s but '{boss.id}' "
                f"gives up after {boss.limits.timeout_s:g} s, so its report can be lost. "
                f"Shorten the worker's timeout or lengthen '{boss.id}''s.",
                **where,
            )


def _uncapped_gates(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    for i, edge in enumerate(spec.edges):
        if edge.gate and edge.gate.max_attempts is None:
            yield warning(
                "uncapped_gate",
                f"The gate on edge '{edge.id}' may send work back without limit. Set "
                "max_attempts so a run cannot loop forever.",
                edge=edge.id,
                path=f"edges.{i}.gate.max_attempts",
            )


def _mentions(text: str, tool: str) -> bool:
    words = {
        tool,
        tool.replace("_", " "),
        tool.split(".")[-1],
        tool.split(".")[-1].replace("_", " "),
    }
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE) for w in words)


def _unmentioned_tools(spec: TeamSpec, _: ValidationContext) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        if not isinstance(node, Agent):
            continue
        for j, tool in enumerate(node.tools):
            if not _mentions(node.instructions, tool):
                yield warning(
                    "tool_not_mentioned",
                    f"Agent '{node.id}' has the tool '{tool}' but its instructions never "
                    "mention it, so the model may not know when to use it. Say when to call "
                    f"'{tool}' in the instructions, or remove the tool.",
                    node=node.id,
                    path=f"nodes.{i}.tools.{j}",
                )


# -- parsing and references ----------------------------------------------------------------


def _clean_location(loc: tuple[Any, ...]) -> list[Any]:
    """Drop the discriminator tag pydantic puts after a node index ("nodes.0.agent.name")."""
    out: list[Any] = []
    for part in loc:
        if (
            part in _NODE_KINDS
            and len(out) >= 2
            and out[-2] == "nodes"
            and isinstance(out[-1], int)
        ):
            continue
        out.append(part)
    return out


def _id_at(document: Any, location: list[Any], collection: str) -> str | None:
    """The id of the node or edge (``collection``) an error location points into, if any."""
    if len(location) < 2 or location[0] != collection or not isinstance(location[1], int):
        return None
    try:
        found = document[collection][location[1]]["id"]
    except (KeyError, IndexError, TypeError):
        return None
    return found if isinstance(found, str) else None


def _plain_message(err: Any, location: list[Any]) -> str:
    field_name = str(location[-1]) if location else "the team"
    kind = err.get("type", "")
    if kind == "missing":
        return f"'{field_name}' is required."
    if kind == "extra_forbidden":
        return f"'{field_name}' is not a field of this part of a team; check the spelling."
    if kind in ("model_type", "dict_type") and not location:
        return "A team must be a JSON object with at least 'pattern' and 'nodes'."
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return "Each node needs a 'kind' of 'agent', 'human' or 'team'."
    where = ".".join(map(str, location))
    return f"{where}: {err.get('msg', 'is not valid')}." if where else f"{err.get('msg')}."


def problems_from_validation_error(exc: ValidationError, document: Any = None) -> list[Problem]:
    """Pydantic's errors as problems: a path for each, and the node or edge it points into."""
    problems = []
    for err in exc.errors():
        location = _clean_location(tuple(err.get("loc", ())))
        problems.append(
            error(
                "invalid",
                _plain_message(err, location),
                node=_id_at(document, location, "nodes"),
                edge=_id_at(document, location, "edges"),
                path=".".join(map(str, location)) or None,
            )
        )
    return problems


def parse_with_problems(document: Any) -> tuple[TeamSpec | None, list[Problem]]:
    """Parse untrusted JSON: the spec, or None and every reason it does not parse."""
    try:
        return parse(document), []
    except ValidationError as exc:
        return None, problems_from_validation_error(exc, document)
    except ValueError as exc:  # upgrade(): a format from a newer product
        return None, [error("unsupported_version", str(exc), path="spec_version")]


__all__ = [
    "AGENT_LIMIT_RANGES",
    "MAX_INLINED_NODES",
    "TEAM_LIMIT_RANGES",
    "Problem",
    "TeamTooLarge",
    "UnresolvedTeam",
    "ValidationContext",
    "has_errors",
    "inline_team_refs",
    "parse_with_problems",
    "problems_from_validation_error",
    "validate",
]
