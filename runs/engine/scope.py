"""Where in a run a part of it is, and the keys and span ids that follow from it.

Every place in a run has a ``Scope`` whose ``path`` names it from the root:
``run/sup/t2/c0/researcher/t1`` is turn 1 of the researcher that the supervisor delegated to
with the first tool call of its second turn. Span ids are ``span_id_for(path)``, so they nest
(run > agent > turn > tool call > agent ...) and are the same when a run is executed again.
Event keys are ``<path>:<what>`` and activity keys are paths; neither ever depends on timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .events import span_id_for


@dataclass(frozen=True)
class Scope:
    path: str
    agent: str | None = None
    parent_span_id: str | None = None

    @cached_property
    def span_id(self) -> str:
        return span_id_for(self.path)

    def child(self, segment: str, agent: str | None = None) -> Scope:
        return Scope(f"{self.path}/{segment}", agent or self.agent, self.span_id)

    def key(self, what: str) -> str:
        return f"{self.path}:{what}"


ROOT = Scope("run")
