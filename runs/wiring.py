"""What the engine is given for a run, built from the Django side: the resolved spec, the
owner's models, the tools and an artifact store that writes ``Artifact`` rows."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from teams.credentials import CredentialsMisconfigured
from teams.models import CustomTool, ModelConfig, Secret, custom_tools_registry
from teams.services import inlined
from teams.spec import dump, parse

from . import hooks
from .circuits import circuit_for
from .engine.interfaces import ModelProvider, ModelRegistry, RateLimit, ResolvedModel
from .engine.models import StaticModelRegistry, UnavailableProvider, catalogue, make_provider
from .engine.ratelimits import Limit
from .engine.tools import Registry, builtin_registry
from .engine.tools.mcp_servers import as_setting
from .engine.tools.netguard import NetworkPolicy
from .engine.tools.registry import ToolFailure
from .models import Artifact, Run
from .ratelimits import rate_limit_for
from .shell import store
from .shell.loop import in_db_thread


def resolve_spec(document: dict[str, Any], workspace: Any) -> dict[str, Any]:
    """The spec to pin on a new run: nested team references inlined (teams of ``workspace``,
    the run's, only), so the run is reproducible whatever happens to those teams later.
    Raises ``UnresolvedTeam`` (or its ``TeamTooLarge``: past the deployment's cap on inlined
    nodes)."""
    return dump(inlined(parse(document), workspace))


def model_registries(workspace_ids: Iterable[int]) -> dict[int, StaticModelRegistry]:
    """Each workspace's ModelConfigs plus the built-in offline model, in one query for all
    (and one for their secrets). Keys are read here, at execution time, on the worker: an
    operator credential's from its environment variable, a secret decrypted; never stored
    elsewhere."""
    configs: dict[int, dict[str, ResolvedModel]] = {ws: {} for ws in workspace_ids}
    secrets = {s.pk: s for s in store.select_in(Secret, "workspace", configs)}
    for config in store.select_in(ModelConfig, "workspace", configs):
        config.secret = secrets.get(config.secret_id) if config.secret_id else None
        configs[config.workspace_id][config.name] = resolved(config)
    return {ws: StaticModelRegistry(models) for ws, models in configs.items()}


def models_of(
    runs: Sequence[Run], registries: Mapping[int, StaticModelRegistry]
) -> dict[Any, ModelRegistry]:
    """Each run's models: its workspace's, unless a ``hooks.MODEL_WRAPPERS`` entry wraps them."""
    chosen: dict[Any, ModelRegistry] = {run.id: registries[run.workspace_id] for run in runs}
    for path in hooks.MODEL_WRAPPERS:
        chosen.update(hooks.resolved(path)(runs, registries))
    return chosen


@functools.lru_cache(maxsize=256)
def provider_for(
    provider: str,
    model: str,
    base_url: str | None,
    api_key: str | None,
    network: NetworkPolicy,
    key_hosts: frozenset[str] | None,
) -> ModelProvider:
    """One provider (one HTTP client, one TLS context) per model and key in the process,
    shared by every run: making a client per run costs more CPU than the run itself."""
    return make_provider(
        provider, model=model, base_url=base_url, api_key=api_key, network=network,
        key_hosts=key_hosts, max_answer_bytes=settings.MODEL_ANSWER_MAX_BYTES,
        max_answer_s=settings.MODEL_ANSWER_MAX_S,
    )  # fmt: skip


def resolved(config: ModelConfig) -> ResolvedModel:
    pricing = config.pricing()
    provider: ModelProvider
    offline = config.provider == ModelConfig.Provider.OFFLINE
    if offline:
        provider = provider_for(config.provider, config.model, None, None, NetworkPolicy(), None)
    else:
        try:
            provider = provider_for(config.provider, config.model, *destination(config))
        except Unavailable as exc:
            provider = UnavailableProvider(f"The model {config.name} cannot be used: {exc}")
    return ResolvedModel(
        name=config.name,
        provider=provider,
        model=config.model,
        input_usd_per_mtok=pricing.input_usd_per_mtok,
        output_usd_per_mtok=pricing.output_usd_per_mtok,
        cached_input_usd_per_mtok=pricing.cached_input_usd_per_mtok,
        cache_write_usd_per_mtok=pricing.cache_write_usd_per_mtok,
        simulated=config.provider == ModelConfig.Provider.OFFLINE,
        circuit=None if offline else circuit_for(_circuit_name(config)),
        rate_limit=None if offline else _rate_limit(config),
    )


def _rate_limit(config: ModelConfig) -> RateLimit:
    """The limiter the model's calls go through. The operator's requests and tokens per
    minute for the credential win; without them, a model the catalogue knows, called at its
    provider's own API, is paced at the provider's published tier-1 limits (per model, as
    the providers count them, so in a limiter of its own); else nothing paces it (its 429s
    still pause it for every run)."""
    name = _circuit_name(config)
    credential = config.operator_credential() if config.credential else None
    if credential is not None and (credential.rpm or credential.tpm):
        return rate_limit_for(name, Limit(rpm=credential.rpm, tpm=credential.tpm))
    published = catalogue.published_limit(
        config.provider, config.model, config.effective_base_url()
    )
    if published is None:
        return rate_limit_for(name, Limit())
    return rate_limit_for(f"{name}:model:{config.model}", Limit(published.rpm, published.tpm))


def _circuit_name(config: ModelConfig) -> str:
    """Whose circuit a call counts against: the key's (a credential, a secret), or for a
    keyless model its server's."""
    if config.credential:
        return f"credential:{config.credential}"
    if config.secret_id:
        return f"secret:{config.secret_id}"
    return f"server:{config.provider}:{config.base_url}"


class Unavailable(Exception):
    """Why a model config cannot be called; said to the person whose run it fails."""


def destination(
    config: ModelConfig,
) -> tuple[str | None, str | None, NetworkPolicy, frozenset[str] | None]:
    """(base URL, key, network policy, hosts the key may go to) for a call with ``config``."""
    fix = "edit it in Settings, Models and choose a credential or a secret."
    if config.needs_credential:
        raise Unavailable(f"its old key variable is not one the operator lends; {fix}")
    user_network = NetworkPolicy.allowing(settings.TOOLS_ALLOWED_PRIVATE_NETWORKS)
    if config.credential:
        credential = config.operator_credential()
        if credential is None:
            raise Unavailable(
                f"the operator no longer defines the credential {config.credential}; {fix}"
            )
        key = os.environ.get(credential.key_env) if credential.key_env else None
        if credential.key_env and not key:
            raise Unavailable(
                f"the operator's credential {credential.name} has no key on this worker "
                "(its environment variable is not set); ask the operator."
            )
        hosts = credential.allowed_hosts()
        # The operator chose these hosts, so they may be private (a model server on the LAN).
        trusted = NetworkPolicy.allowing([*settings.TOOLS_ALLOWED_PRIVATE_NETWORKS, *hosts])
        return config.effective_base_url() or None, key, trusted, hosts
    if config.secret is not None:
        hosts = frozenset(config.secret.hosts)
        if not config.secret.allows(config.base_url):
            raise Unavailable(
                f"its secret {config.secret.name} may only be sent to {', '.join(sorted(hosts))}."
            )
        try:
            key = config.secret.value()
        except CredentialsMisconfigured as exc:
            raise Unavailable(str(exc)) from None
        return config.base_url or None, key, user_network, hosts
    return config.base_url or None, None, user_network, None


def tool_registries(workspace_ids: Iterable[int]) -> dict[int, Registry]:
    """For each workspace, the built-in tools and the workspace's custom HTTP tools (read
    when the run starts), in one query for all."""
    custom: dict[int, list[CustomTool]] = {ws: [] for ws in workspace_ids}
    for tool in store.select_in(CustomTool, "workspace", custom):
        custom[tool.workspace_id].append(tool)
    secrets: dict[int, list[Secret]] = {ws: [] for ws, tools in custom.items() if tools}
    for secret in store.select_in(Secret, "workspace", secrets) if secrets else ():
        secrets[secret.workspace_id].append(secret)
    return {
        # The built-in registry is shared, never added to: a workspace without tools of its
        # own (most) is given it as it is.
        ws: builtin_registry().merged(custom_tools_registry(tools, secrets[ws]))
        if tools
        else builtin_registry()
        for ws, tools in custom.items()
    }


def tool_settings(owner_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """What tools read from the deployment's settings, in the engine's ``ToolContext``, for
    the runs of each owner: each person's runs publish into an outbox folder of their own, and
    only staff accounts' runs reach the operator's publishing webhooks (one query for all
    owners, none when the operator set no webhooks)."""
    owners = set(owner_ids)
    webhooks = dict(settings.PUBLISH_WEBHOOK_URLS)
    staff = (
        set(User.objects.filter(pk__in=owners, is_staff=True, is_active=True).values_list("pk", flat=True))
        if webhooks
        else set()
    )  # fmt: skip
    shared = {
        "data_cache_dir": str(settings.TOOLS_DATA_CACHE_DIR),
        "allowed_private_networks": list(settings.TOOLS_ALLOWED_PRIVATE_NETWORKS),
        "mcp_servers": as_setting(settings.MCP_SERVERS),
        "sandbox_user": settings.TOOLS_SANDBOX_USER,
    }
    return {
        owner: {
            **shared,
            "outbox_dir": str(outbox_of(owner)),
            "webhook_urls": webhooks if owner in staff else {},
        }
        for owner in owners
    }


def outbox_of(owner_id: int) -> Path:
    """The folder under ``OUTBOX_DIR`` the runs of ``owner_id`` publish into."""
    return Path(settings.OUTBOX_DIR) / f"user-{owner_id}"


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
        storage, field = artifact.file.storage, artifact.file.field
        stored = storage.get_available_name(
            field.generate_filename(artifact, name), max_length=field.max_length
        )
        try:
            artifact.file.name = storage.save(stored, ContentFile(data), field.max_length)
        except OSError as error:
            # A full or read-only disk: the agent is told in words, without the server's
            # path, and no half-written file is left behind (FileSystemStorage leaves one).
            with contextlib.suppress(OSError):
                storage.delete(stored)
            why = "is full" if error.errno == errno.ENOSPC else "cannot be written"
            raise ToolFailure(f"The artifact storage {why}: {name} was not saved.") from None
        artifact.save()
        # What the run's summaries list was read at the claim: read it again when it ends.
        getattr(self.run, "_prefetched_objects_cache", {}).pop("artifacts", None)
        return artifact
