"""Cassettes: the model answers an experiment's runs got, recorded under a hash of the request
that got each, so a later experiment may replay them instead of calling the model.

It works at the engine's model interface: when runs are claimed (``runs.shell.claims``), a run
that is an item of an experiment with a cassette gets its workspace's models wrapped, each
provider in a ``CassetteProvider`` that looks the request up before calling, and records what
it got. The engine above it sees an ordinary provider, so a replayed answer streams the same
``message.delta`` chunks and lands in the run's audit trail like any other. A replayed answer used no tokens and cost nothing: its usage
is zero (the cassette keeps the usage it was recorded with).

The key is the sha256 of the request's canonical JSON: the provider kind, the endpoint (the
model configuration's base URL, or its credential's; left out for the provider's default,
so recordings made before it was keyed still replay), the model, the messages, the tools,
the output schema and the temperature. Two configurations with one model name at two
endpoints (a staging server and production) are two models, and one's answers are never
replayed for the other. Never the credential, the activity key or the attempt: the same
question asked by another run, or by the same run again, or after a key is rotated, has the
same key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q

from runs.engine.activities import _response_dict, _response_from
from runs.engine.interfaces import (
    DeltaCallback,
    ModelError,
    ModelProvider,
    ModelRegistry,
    ModelRequest,
    ModelResponse,
    ResolvedModel,
    Usage,
)
from runs.models import Run
from runs.shell.loop import in_db_thread
from teams.models import ModelConfig

from .models import CassetteEntry, Experiment, ExperimentItem, experiment_of


def request_key(provider: str, request: ModelRequest, endpoint: str = "") -> str:
    """The hash a request to ``endpoint`` ("": the provider's default) is recorded and
    looked up under."""
    document = {
        "provider": provider,
        **({"endpoint": endpoint.rstrip("/")} if endpoint else {}),
        "model": request.model,
        "messages": [dataclasses.asdict(m) for m in request.messages],
        "tools": [dataclasses.asdict(t) for t in request.tools],
        "output_schema": request.output_schema,
        "temperature": request.temperature,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Tape:
    """What one experiment does with cassettes: the one it replays (None: none) and what a
    request missing from it does, and the one it records into (None: none)."""

    replay: int | None
    on_miss: str
    record: int | None


class Missing(ModelError):
    def __init__(self, cassette: int, model: str) -> None:
        self.cassette = cassette
        super().__init__(
            f"The request to the model {model} is not in cassette {cassette}, and the "
            "experiment replays without calling models for what the cassette lacks "
            '("on_miss": "fail"). Its team or its inputs changed since the recording: run it '
            'with "on_miss": "live" to call the model for such requests.',
            transient=False,
        )


class CassetteProvider:
    """Implements ``ModelProvider``: the cassette's answer when it holds the request, else
    the model's (or a final ``ModelError`` when the experiment says to fail); what was used
    is recorded when the experiment records."""

    def __init__(self, inner: ModelProvider, kind: str, tape: Tape, endpoint: str = "") -> None:
        self.inner, self.kind, self.tape, self.endpoint = inner, kind, tape, endpoint

    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        key = request_key(self.kind, request, self.endpoint)
        found = await in_db_thread(_lookup, self.tape.replay, key) if self.tape.replay else None
        if found is not None:
            response, deltas = found
            for chunk in deltas:
                if on_delta is not None:
                    await on_delta(chunk)
            if self.tape.record and self.tape.record != self.tape.replay:
                await in_db_thread(_store, self.tape.record, key, _response_dict(response), deltas)
            return dataclasses.replace(response, usage=Usage())
        if self.tape.replay and self.tape.on_miss == Experiment.OnMiss.FAIL:
            raise Missing(self.tape.replay, request.model)
        streamed: list[str] = []

        async def recording(chunk: str) -> None:
            streamed.append(chunk)
            if on_delta is not None:
                await on_delta(chunk)

        response = await self.inner.complete(request, recording)
        if self.tape.record:
            await in_db_thread(_store, self.tape.record, key, _response_dict(response), streamed)
        return response


def _lookup(cassette: int, key: str) -> tuple[ModelResponse, list[str]] | None:
    entry = CassetteEntry.objects.filter(cassette_id=cassette, key=key).first()
    if entry is None:
        return None
    return _response_from(entry.response), [str(c) for c in entry.deltas]


def _store(cassette: int, key: str, response: dict[str, Any], deltas: list[str]) -> None:
    # The first answer to a request stays: a replay gives what the recording's first run got.
    CassetteEntry.objects.bulk_create(
        [CassetteEntry(cassette_id=cassette, key=key, response=response, deltas=deltas)],
        ignore_conflicts=True,
    )


class CassetteRegistry:
    """Implements ``ModelRegistry``: the workspace's models, each behind a cassette.
    ``kinds``: each model's provider kind and endpoint, by name."""

    def __init__(
        self, inner: ModelRegistry, kinds: Mapping[str, tuple[str, str]], tape: Tape
    ) -> None:
        self.inner, self.kinds, self.tape = inner, kinds, tape
        self._made: dict[str, ResolvedModel] = {}

    def get(self, name: str) -> ResolvedModel:
        if name not in self._made:
            model = self.inner.get(name)
            # The provider kind from the workspace's configuration, not from the provider
            # object: a model whose key is missing on this machine still replays.
            kind, endpoint = self.kinds.get(name, ("offline" if model.simulated else "unknown", ""))
            provider = CassetteProvider(model.provider, kind, self.tape, endpoint)
            self._made[name] = dataclasses.replace(model, provider=provider)
        return self._made[name]


#: Whether each experiment this process met had a cassette, by id. One that had none never
#: gains one (``do_start_experiment`` sets its cassettes as it creates it, before any item
#: runs), so the runs of such an experiment are claimed without a query; one that had one may
#: lose it (a cassette deleted), so its runs are looked up every time. Forgotten past
#: ``_KNOWN_MAX`` experiments.
_had_cassette: dict[int, bool] = {}
_KNOWN_MAX = 10_000


def _may_have_cassette(runs: Sequence[Run]) -> list[Run]:
    """The runs started by an experiment that has, or had, a cassette (or by one unknown)."""
    started = [(run, e) for run in runs if (e := experiment_of(run.started_by)) is not None]
    unknown = {e for _, e in started if e not in _had_cassette}
    if unknown:
        if len(_had_cassette) + len(unknown) > _KNOWN_MAX:
            _had_cassette.clear()
        # A deleted experiment is not remembered (its runs are looked up, and found no item).
        _had_cassette.update(
            (pk, recording is not None or replay is not None)
            for pk, recording, replay in Experiment.objects.filter(pk__in=unknown).values_list(
                "pk", "recording_id", "replay_id"
            )
        )
    return [run for run, e in started if _had_cassette.get(e, True)]


def wrap_models(runs: Sequence[Run], registries: Mapping[int, Any]) -> dict[Any, ModelRegistry]:
    """For the runs that are items of an experiment with a cassette, their models behind it
    (``runs.hooks.MODEL_WRAPPERS``). No query for runs no experiment started, nor for those
    of an experiment already seen to have no cassette."""
    ids = [run.id for run in _may_have_cassette(runs)]
    if not ids:
        return {}
    tapes = {
        run_id: Tape(replay, on_miss, record)
        for run_id, replay, on_miss, record in ExperimentItem.objects.filter(run_id__in=ids)
        .filter(Q(experiment__recording__isnull=False) | Q(experiment__replay__isnull=False))
        .values_list(
            "run_id", "experiment__replay_id", "experiment__on_miss", "experiment__recording_id"
        )
    }
    if not tapes:
        return {}
    workspaces = {run.workspace_id for run in runs if run.id in tapes}
    kinds: dict[int, dict[str, tuple[str, str]]] = {ws: {} for ws in workspaces}
    configs = ModelConfig.objects.filter(workspace_id__in=workspaces).only(
        "workspace_id", "name", "provider", "base_url", "credential"
    )
    for config in configs:
        endpoint = "" if config.provider == "offline" else config.effective_base_url()
        kinds[config.workspace_id][config.name] = (config.provider, endpoint)
    return {
        run.id: CassetteRegistry(
            registries[run.workspace_id], kinds[run.workspace_id], tapes[run.id]
        )
        for run in runs
        if run.id in tapes
    }
