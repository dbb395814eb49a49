"""What the engine is given for a run, built from the Django side: the resolved spec, the
owner's models, the tools and an artifact store that writes ``Artifact`` rows."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile

from teams.services import team_lookup
from teams.spec import dump, inline_team_refs, parse

from .engine.tools import builtin_registry
from .models import Artifact, Run
from .sink import in_db_thread


def resolve_spec(document: dict[str, Any], owner: Any) -> dict[str, Any]:
    """The spec to pin on a new run: nested team references inlined, so the run is
    reproducible whatever happens to those teams later. Raises ``UnresolvedTeam``."""
    return dump(inline_team_refs(parse(document), team_lookup(owner)))


def model_registry(owner_id: int) -> Any:
    """The owner's ModelConfigs plus the built-in offline model. Keys are read from the
    environment variable each config names, here, at execution time; never stored."""
    from teams.models import ModelConfig

    from .engine.models import StaticModelRegistry, make_provider

    return StaticModelRegistry(
        [make_provider(config) for config in ModelConfig.objects.filter(owner_id=owner_id)]
    )


def tool_registry(run: Run) -> Any:
    return builtin_registry()


class RunArtifacts:
    """Implements ``runs.engine.interfaces.ArtifactStore``: files become ``Artifact`` rows."""

    def __init__(self, run: Run) -> None:
        self.run = run

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        artifact = await in_db_thread(self._save, name, data, content_type)
        return artifact.to_dict()

    def _save(self, name: str, data: bytes, content_type: str) -> Artifact:
        artifact = Artifact(
            run=self.run,
            name=name[:255],
            content_type=content_type[:100],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        artifact.file.save(name, ContentFile(data), save=False)
        artifact.save()
        return artifact


def artifact_store(run: Run) -> RunArtifacts:
    return RunArtifacts(run)
