"""TeamSpec: the one contract for what a team is.

The builder saves it, the API accepts and returns it, the database stores it and the engine
runs it; export and import are this JSON. Nothing here imports Django, so the engine can use it.

Shape, in short:

- ``nodes`` are agents, human nodes and team nodes (a whole team acting as one agent), told
  apart by ``kind``. Every node has an ``id`` that edges, ``entry`` and ``fallback`` refer to.
- ``edges`` are typed by the pattern: ``delegates`` (supervisor to worker), ``next`` (pipeline
  stage to stage, optionally guarded by a ``gate``) and ``handoff`` (swarm peer to peer).
- ``layout`` is where the builder drew each node, so the canvas looks the same everywhere.

Older documents load after the format grows: ``spec_version`` says which format a document
was written in and ``upgrade()`` brings it to the current one before parsing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

SPEC_VERSION = 1
MAX_NODES = 200
MAX_EDGES = 1_000

Pattern = Literal["supervisor", "pipeline", "swarm"]
EdgeKind = Literal["delegates", "next", "handoff"]

#: The edge kind each pattern is drawn with. Hybrids nest a team of another pattern.
EDGE_KIND_FOR_PATTERN: dict[str, str] = {
    "supervisor": "delegates",
    "pipeline": "next",
    "swarm": "handoff",
}

NodeId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$",
        description="Stable identifier: letters, digits, '-' and '_', starting with a letter or digit.",
    ),
]


class _Model(BaseModel):
    # Unknown keys are refused so a typo in an import ("instruction") is reported, not dropped.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AgentLimits(_Model):
    """Per-agent constraints. Range checks live in ``validate`` so every problem is reported."""

    max_turns: int = Field(10, description="Model turns the agent may take for one task.")
    timeout_s: float = Field(120.0, description="Deadline for one task of this agent, in seconds.")
    max_retries: int = Field(2, description="Retries of one model call on transient errors.")
    token_budget: int | None = Field(
        None, description="Tokens (in + out) this agent may spend in a run."
    )
    cost_budget_usd: float | None = Field(None, description="Money this agent may spend in a run.")


class TeamLimits(_Model):
    """Run-wide constraints."""

    timeout_s: float = Field(900.0, description="Deadline for the whole run, in seconds.")
    max_hops: int | None = Field(
        20, description="Swarm: handoffs allowed in one run. None means uncapped (a warning)."
    )
    token_budget: int | None = Field(None, description="Tokens (in + out) the run may spend.")
    cost_budget_usd: float | None = Field(None, description="Money the run may spend.")
    budget_warning_ratio: float = Field(
        0.8, description="Share of a budget at which a warning event is emitted."
    )


class Agent(_Model):
    kind: Literal["agent"] = "agent"
    id: NodeId
    name: str = Field(min_length=1, max_length=200)
    role: str = Field("", max_length=500, description="One line: what this agent is for.")
    instructions: str = Field("", max_length=50_000, description="The system prompt.")
    model: str = Field("offline", min_length=1, max_length=200, description="A ModelConfig name.")
    fallback_models: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=5,
        description="ModelConfig names tried in order when the model keeps failing with "
        "retryable errors (rate limits, outages) after its retries.",
    )
    tools: list[str] = Field(default_factory=list, description="Tool names from the registry.")
    output_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema the agent's answer must satisfy."
    )
    limits: AgentLimits = Field(default_factory=AgentLimits)
    fallback: str | None = Field(None, description="Agent id that takes over when this one fails.")

    @model_serializer(mode="wrap")
    def _no_empty_chain(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A spec without a model chain keeps the form it had before chains existed.
        data: dict[str, Any] = handler(self)
        if not data.get("fallback_models"):
            data.pop("fallback_models", None)
        return data


class HumanNode(_Model):
    """A person in the team: the run waits until they answer in the browser or the API."""

    kind: Literal["human"] = "human"
    id: NodeId
    name: str = Field(min_length=1, max_length=200)
    role: str = Field("", max_length=500)
    prompt: str = Field("", max_length=10_000, description="What the person is asked.")
    answer_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema the answer must satisfy; free text when absent."
    )
    timeout_s: float | None = Field(
        None, description="How long to wait for the answer; None waits until the run deadline."
    )


class TeamNode(_Model):
    """A whole team acting as one agent of its parent: this is how hybrids are built.

    Either ``team_id`` names a saved team (resolved to its current version when a run starts)
    or ``spec`` holds the nested team inline (what export writes, so a file is self-contained).
    """

    kind: Literal["team"] = "team"
    id: NodeId
    name: str = Field(min_length=1, max_length=200)
    role: str = Field("", max_length=500)
    team_id: int | None = None
    spec: TeamSpec | None = None


Node = Annotated[Agent | HumanNode | TeamNode, Field(discriminator="kind")]


class Gate(_Model):
    """A check on a pipeline edge: pass the output on, or send it back with feedback."""

    kind: Literal["reviewer", "schema"]
    reviewer: str | None = Field(
        None, description="reviewer: id of the agent that answers pass/fail with feedback."
    )
    output_schema: dict[str, Any] | None = Field(
        None, alias="schema", description="schema: JSON Schema the output must satisfy."
    )
    criteria: str = Field("", max_length=10_000, description="reviewer: what to check for.")
    max_attempts: int | None = Field(
        3, description="Times the work may be sent back. None means uncapped (a warning)."
    )


class Edge(_Model):
    id: NodeId
    source: str
    target: str
    kind: EdgeKind
    gate: Gate | None = None
    description: str = Field(
        "", max_length=2_000, description="When to delegate or hand off along this edge."
    )


class McpServer(_Model):
    """An MCP server whose tools the team's agents may use, named ``<name>.<tool>``.

    A stdio server is one the operator registered (the ``MCP_SERVERS`` setting): ``server``
    names it, and the operator's entry alone says what program runs with which environment.
    An HTTP server is any ``url``, reached through the network guard.

    ``command`` and ``env`` are how teams named a program before the registry existed. They
    still parse, so those teams and their runs load, but validation refuses them and no run
    starts a server described by them.
    """

    name: NodeId
    transport: Literal["stdio", "http"]
    server: str | None = Field(
        None, max_length=64, description="stdio: the name of a server the operator registered."
    )
    url: str | None = Field(None, description="http: the streamable-HTTP endpoint.")
    command: list[str] | None = Field(
        None, description="No longer accepted: name a registered server instead."
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="No longer accepted: the operator's entry lists these."
    )


class Escalation(_Model):
    """What a breached service level does, for the ticket priorities it names. The service
    level itself comes with the run input (``priority`` + ``sla``, see ``runs/engine/sla.py``);
    the team says what a breach sets going. Several actions may be combined."""

    priorities: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list,
        max_length=20,
        description="Ticket priorities this escalation is for; empty means every priority.",
    )
    hand_to: str | None = Field(
        None,
        description="Id of an agent or human node that takes the work over when the service "
        "level passes; the work in progress stops.",
    )
    raise_priority_to: str | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="The priority the run carries from the breach on (what the node that "
        "takes over, the timeline and webhooks see).",
    )
    notify_webhooks: bool = Field(
        False,
        description="POST a signed 'escalated' delivery to the team's webhooks that want it.",
    )


class ServiceLevel(_Model):
    """What the team does when a run passes its service level."""

    escalations: list[Escalation] = Field(
        default_factory=list,
        max_length=20,
        description="Tried in order; the first whose priorities include the run's applies.",
    )


class Position(_Model):
    x: float
    y: float


class Viewport(_Model):
    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0


class Layout(_Model):
    positions: dict[str, Position] = Field(default_factory=dict)
    viewport: Viewport | None = None


class TeamSpec(_Model):
    spec_version: int = SPEC_VERSION
    name: str = Field("Untitled team", min_length=1, max_length=200)
    description: str = Field("", max_length=5_000)
    pattern: Pattern
    entry: str | None = Field(None, description="Node id where the run starts.")
    # Caps far above any real team keep validation's graph walks small and bounded.
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)
    limits: TeamLimits = Field(default_factory=TeamLimits)
    input_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema of the run input; the run form is generated from it."
    )
    mcp_servers: list[McpServer] = Field(default_factory=list)
    sla: ServiceLevel | None = Field(
        None, description="What a breached service level does (escalation)."
    )
    layout: Layout = Field(default_factory=Layout)

    @model_serializer(mode="wrap")
    def _no_empty_sla(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A team without escalation keeps the form it had before service levels existed.
        data: dict[str, Any] = handler(self)
        if data.get("sla") is None:
            data.pop("sla", None)
        return data

    def node(self, node_id: str) -> Agent | HumanNode | TeamNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def agents(self) -> list[Agent]:
        return [n for n in self.nodes if isinstance(n, Agent)]

    def escalation_for(self, priority: str) -> Escalation | None:
        """The escalation a breach of a run of ``priority`` sets going, if the team has one."""
        rules = self.sla.escalations if self.sla else []
        return next((r for r in rules if not r.priorities or priority in r.priorities), None)

    def edges_from(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.source == node_id and (kind is None or e.kind == kind)]

    def edges_to(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id and (kind is None or e.kind == kind)]


TeamNode.model_rebuild()


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored or imported document to the current ``spec_version``.

    Each format change adds a step here; old documents are never rewritten in the database,
    they are upgraded as they are read.
    """
    version = document.get("spec_version", SPEC_VERSION)
    if isinstance(version, int) and version > SPEC_VERSION:
        raise ValueError(
            f"This team was saved by a newer version of the product (format {version}); "
            f"this one reads formats up to {SPEC_VERSION}."
        )
    return document


def parse(document: Any) -> TeamSpec:
    """Parse untrusted JSON into a TeamSpec. Raises pydantic.ValidationError on bad shape."""
    if isinstance(document, dict):
        document = upgrade(document)
    return TeamSpec.model_validate(document)


def dump(spec: TeamSpec) -> dict[str, Any]:
    """The canonical JSON form: what the API returns, export writes and the database keeps."""
    return spec.model_dump(mode="json", by_alias=True, exclude_none=False)
