"""Nested team references, each worked out once however often it is referred to.

A team node may name a saved team (``team_id``), which may name others: twenty references at
each of four levels is a 3 KB document that stands for 160,000 nodes. So everything about the
references of one document (their specs, whether they come back round, how deep they nest,
how many nodes they hold once inlined) is found in one walk that visits each saved team once,
and a document whose inlined size passes ``max_nodes`` is refused before anything expands it:
in validation, export and at run start.

No Django here: the shell passes a ``TeamLookup``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .spec import Agent, HumanNode, TeamNode, TeamSpec

TeamLookup = Callable[[int], TeamSpec | None]

#: Levels of teams inside teams below the one being validated.
MAX_NESTING_DEPTH = 5
#: Nodes a team may hold with every nested team reference inlined (the ``MAX_INLINED_NODES``
#: setting overrides it): far above a real team, far below what fan-out can reach.
MAX_INLINED_NODES = 500


class UnresolvedTeam(ValueError):
    """A nested team reference that cannot be inlined (missing, not yours, or circular)."""


class TeamTooLarge(UnresolvedTeam):
    """A team whose nested references, inlined, hold more nodes than the cap."""


@dataclass(frozen=True)
class Shape:
    """What a spec adds itself, inline nested specs included: its nodes, how deep its inline
    teams nest, and each saved-team reference with the inline depth it sits at."""

    nodes: int
    inline_height: int
    references: tuple[tuple[int, int], ...]  # (team_id, levels of inline teams above it)


def shape(spec: TeamSpec, depth: int = 0) -> Shape:
    nodes, height, references = len(spec.nodes), 0, []
    for node in spec.nodes:
        if not isinstance(node, TeamNode):
            continue
        height = max(height, 1)
        if node.team_id is not None:
            references.append((node.team_id, depth))
        elif node.spec is not None:  # bounded by the document's own depth (services.py)
            inner = shape(node.spec, depth + 1)
            nodes += inner.nodes
            height = max(height, 1 + inner.inline_height)
            references.extend(inner.references)
    return Shape(nodes, height, tuple(references))


@dataclass
class Facts:
    """A team as its references make it: levels of nesting below it, nodes once inlined, and
    a chain of team ids that comes back round, if any."""

    height: int = 0
    size: int = 0
    cycle: list[int] | None = None

    def add(self, depth: int, child: Facts) -> None:
        """Take in a team referred to from ``depth`` levels of inline teams down."""
        self.height = max(self.height, depth + 1 + child.height)
        self.size += child.size
        self.cycle = self.cycle or child.cycle


@dataclass
class _Frame:
    team_id: int
    shape: Shape
    facts: Facts
    next: int = 0


@dataclass
class References:
    """The saved teams one document refers to, each looked up and walked at most once.

    ``root_id`` is the saved team the document is (a reference back to it is a circle);
    ``max_nodes`` the inlined size above which a team is refused. A document that refers to
    more distinct teams than that is too large whatever they hold, so lookups stop there.
    """

    lookup: TeamLookup | None
    root_id: int | None = None
    max_nodes: int = MAX_INLINED_NODES
    _specs: dict[int, TeamSpec | None] = field(default_factory=dict)
    _facts: dict[int, Facts] = field(default_factory=dict)

    def spec(self, team_id: int) -> TeamSpec | None:
        if team_id not in self._specs:
            if len(self._specs) >= self.max_nodes:
                raise TeamTooLarge(self.too_large(f"refers to more than {self.max_nodes} teams"))
            self._specs[team_id] = self.lookup(team_id) if self.lookup else None
        return self._specs[team_id]

    def too_large(self, what: str) -> str:
        return (
            f"With its nested teams inlined, this team {what}; the limit is {self.max_nodes} "
            "nodes. Refer to fewer or smaller teams, or ask the operator to raise "
            "MAX_INLINED_NODES."
        )

    def of_document(self, spec: TeamSpec) -> Facts:
        """The facts of a document (saved or not) from those of the teams it refers to."""
        own = shape(spec)
        self._prefetch(own)
        facts = Facts(height=own.inline_height, size=own.nodes)
        for team_id, depth in own.references:
            if team_id == self.root_id:
                facts.cycle = facts.cycle or [team_id]
            else:
                facts.add(depth, self.facts(team_id))
        return facts

    def _prefetch(self, own: Shape) -> None:
        """Look the references up a level at a time when the lookup can take many at once
        (one query per level instead of one per team); deeper than a valid team nests, the
        walk looks up the rest one by one."""
        many = getattr(self.lookup, "many", None)
        frontier = {team_id for team_id, _ in own.references}
        for _ in range(MAX_NESTING_DEPTH + 2):
            wanted = sorted(frontier - self._specs.keys())[: self.max_nodes - len(self._specs)]
            if many is None or not wanted:
                return
            found = many(wanted)
            self._specs.update({team_id: found.get(team_id) for team_id in wanted})
            frontier = {
                child
                for team_id in wanted
                if (nested := found.get(team_id)) is not None
                for child, _ in shape(nested).references
            }

    def facts(self, team_id: int) -> Facts:
        """Depth-first over the references, iteratively (chains can be long), finishing each
        team once; a reference back onto the current path is a circle and adds nothing."""
        if team_id in self._facts:
            return self._facts[team_id]
        path, on_path = [self._frame(team_id)], {team_id}
        while path:
            frame = path[-1]
            if frame.next == len(frame.shape.references):
                path.pop()
                on_path.discard(frame.team_id)
                self._facts[frame.team_id] = frame.facts
                if path:
                    parent = path[-1]
                    parent.facts.add(parent.shape.references[parent.next - 1][1], frame.facts)
                continue
            child, depth = frame.shape.references[frame.next]
            frame.next += 1
            if child in on_path or child == self.root_id:
                chain = [f.team_id for f in path]
                start = chain.index(child) if child in on_path else 0
                frame.facts.cycle = frame.facts.cycle or [*chain[start:], child]
            elif child in self._facts:
                frame.facts.add(depth, self._facts[child])
            else:
                path.append(self._frame(child))
                on_path.add(child)
        return self._facts[team_id]

    def _frame(self, team_id: int) -> _Frame:
        nested = self.spec(team_id)
        own = shape(nested) if nested is not None else Shape(0, 0, ())
        return _Frame(team_id, own, Facts(height=own.inline_height, size=own.nodes))

    def check_size(self, spec: TeamSpec) -> None:
        """Refuse ``spec`` if, inlined, it holds more than ``max_nodes`` nodes."""
        size = self.of_document(spec).size
        if size > self.max_nodes:
            raise TeamTooLarge(self.too_large(f"holds {size:,} nodes"))


def inline_team_refs(
    spec: TeamSpec, lookup: TeamLookup, max_nodes: int = MAX_INLINED_NODES
) -> TeamSpec:
    """``spec`` with every ``team_id`` reference replaced by that team's spec, recursively.
    Refuses (``UnresolvedTeam``) a reference that is missing or circular, and
    (``TeamTooLarge``) a result of more than ``max_nodes`` nodes, before building it."""
    references = References(lookup, max_nodes=max_nodes)
    facts = references.of_document(spec)
    if facts.cycle:
        raise UnresolvedTeam(f"Team {facts.cycle[-1]} includes itself.")
    references.check_size(spec)
    inlined: dict[int, TeamSpec] = {}
    return _inline(spec, references, inlined)


def _inline(spec: TeamSpec, references: References, inlined: dict[int, TeamSpec]) -> TeamSpec:
    nodes: list[Agent | HumanNode | TeamNode] = []
    for node in spec.nodes:
        if isinstance(node, TeamNode) and node.spec is not None and node.team_id is None:
            node = node.model_copy(update={"spec": _inline(node.spec, references, inlined)})
        elif isinstance(node, TeamNode) and node.team_id is not None:
            if node.team_id not in inlined:
                nested = references.spec(node.team_id)
                if nested is None:
                    raise UnresolvedTeam(
                        f"Team node '{node.id}' refers to team {node.team_id}, which does not "
                        "exist."
                    )
                inlined[node.team_id] = _inline(nested, references, inlined)
            node = node.model_copy(update={"team_id": None, "spec": inlined[node.team_id]})
        nodes.append(node)
    return spec.model_copy(update={"nodes": nodes})
