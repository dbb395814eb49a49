"""Model checks for the builder. Warnings from the model catalogue: an agent given tools on a model that cannot call
them, an output schema on a model without structured output, instructions that leave no room
in the model's context window. Warnings, not errors: the catalogue may lag behind a provider.

``model_warnings(spec, capabilities)`` is a validator check in the shape of those in
``teams/validation.py``; ``model_capabilities(owner)`` maps each of the owner's model names to
its catalogue entry (models the catalogue does not know are not warned about).
``unknown_fallback_models(spec, known)`` is the error check for an agent's model chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runs.engine.models import catalogue

from .models import ModelConfig
from .spec import Agent, TeamSpec
from .validation import Problem, error, warning

#: Characters per token, roughly, for English prose: enough to tell "close to the window".
CHARS_PER_TOKEN = 4
#: Below this share of the window left for the task, the history and the answer: a warning.
CONTEXT_HEADROOM = 0.5


def model_capabilities(owner: Any) -> dict[str, catalogue.Entry]:
    """The catalogue entry of each of ``owner``'s models (and of ``offline``), by name."""
    entries = {"offline": catalogue.entry("offline", "offline")}
    for config in ModelConfig.objects.for_user(owner):
        entries[config.name] = config.catalogue_entry()
    return {name: entry for name, entry in entries.items() if entry is not None}


def model_warnings(
    spec: TeamSpec, capabilities: Mapping[str, catalogue.Entry]
) -> Iterator[Problem]:
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
