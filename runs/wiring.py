"""What the engine is given for a run, built from the Django side: the resolved spec, the
owner's models, the tools and an artifact store that writes ``Artifact`` rows."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile

from teams.models import CustomTool, ModelConfig, custom_tools_registry
from teams.services import team_lookup
from teams.spec import dump, inline_team_refs, parse

from . import sql
from .engine.interfaces import ModelProvider, ResolvedModel
from .engine.models import StaticModelRegistry, make_provider
from .engine.tools import Registry, builtin_registry
from .models import Artifact, Run
from .sink import in_db_thread


def resolve_spec(document: dict[str, Any], owner: Any) -> dict[str, Any]:
    """The spec to pin on a new run: nested team references inlined, so the run is
    reproducible whatever happens to those teams later. Raises ``UnresolvedTeam``."""
    return dump(inline_team_refs(parse(document), team_lookup(owner)))


def model_registries(owner_ids: Iterable[int]) -> dict[int, StaticModelRegistry]:
    """Each owner's ModelConfigs plus the built-in offline model, in one query for all.
    Keys are read from the environment variable each config names, here, at execution time;
    never stored."""
    configs: dict[int, dict[str, ResolvedModel]] = {owner: {} for owner in owner_ids}
    for config in sql.select_in(ModelConfig, "owner", configs):
        configs[config.owner_id][config.name] = resolved(config)
    return {owner: StaticModelRegistry(models) for owner, models in configs.items()}


@functools.lru_cache(maxsize=256)
def provider_for(
    provider: str, model: str, base_url: str | None, api_key: str | None
) -> ModelProvider:
    """One provider (one HTTP client, one TLS context) per model and key in the process,
    shared by every run: making a client per run costs more CPU than the run itself."""
    return make_provider(provider, model=model, base_url=base_url, api_key=api_key)


def resolved(config: ModelConfig) -> ResolvedModel:
    api_key = os.environ.get(config.api_key_env) if config.api_key_env else None
    provider = provider_for(config.provider, config.model, config.base_url or None, api_key)
    return ResolvedModel(
        name=config.name,
        provider=provider,
        model=config.model,
        input_usd_per_mtok=float(config.input_usd_per_mtok),
        output_usd_per_mtok=float(config.output_usd_per_mtok),
        simulated=config.provider == ModelConfig.Provider.OFFLINE,
    )


def tool_registries(owner_ids: Iterable[int]) -> dict[int, Registry]:
    """For each owner, the built-in tools and the owner's custom HTTP tools (read when the
    run starts), in one query for all."""
    custom: dict[int, list[CustomTool]] = {owner: [] for owner in owner_ids}
    for tool in sql.select_in(CustomTool, "owner", custom):
        custom[tool.owner_id].append(tool)
    return {
        # The built-in registry is shared, never added to: an owner without tools of their
        # own (most) is given it as it is.
        owner: builtin_registry().merged(custom_tools_registry(tools))
        if tools
        else builtin_registry()
        for owner, tools in custom.items()
    }


def tool_settings() -> dict[str, Any]:
    """What tools read from the deployment's settings, in the engine's ``ToolContext``."""
    return {
        "outbox_dir": str(settings.OUTBOX_DIR),
        "data_cache_dir": str(settings.TOOLS_DATA_CACHE_DIR),
        "allowed_private_networks": list(settings.TOOLS_ALLOWED_PRIVATE_NETWORKS),
        "webhook_urls": dict(settings.PUBLISH_WEBHOOK_URLS),
        "sandbox_user": settings.TOOLS_SANDBOX_USER,
    }


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
        # What the run's summaries list was read at the claim: read it again when it ends.
        getattr(self.run, "_prefetched_objects_cache", {}).pop("artifacts", None)
        return artifact
