"""What a team is, as stored: the team, its immutable versions, model configs, secrets and API
tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from orchestration_site import tokens
from runs.engine.models import catalogue
from runs.engine.tools import builtin_registry
from runs.engine.tools.http_tool import (
    BoundSecret,
    HttpToolDefinition,
    http_tool,
    http_tools_registry,
)
from workspaces.access import TokenScope, WorkspaceQuerySet
from workspaces.models import InWorkspace, Membership, Workspace, personal_workspace
from workspaces.roles import Role, at_most

from . import credentials
from .spec import TeamSpec, dump


class OwnedQuerySet(WorkspaceQuerySet):
    """Rows that belong to a workspace, read through ``workspaces.access``."""


class Team(InWorkspace):
    VIEW_PERMISSION = "team.view"

    class Pattern(models.TextChoices):
        SUPERVISOR = "supervisor", "Supervisor"
        PIPELINE = "pipeline", "Pipeline"
        SWARM = "swarm", "Swarm"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="teams")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    pattern = models.CharField(max_length=20, choices=Pattern.choices, db_index=True)
    spec = models.JSONField(help_text="The current TeamSpec document (its latest version).")
    version = models.PositiveIntegerField(default=0, help_text="Number of the latest version.")
    is_valid = models.BooleanField(default=False, help_text="Whether the latest version validates.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["workspace", "-updated_at"])]

    def __str__(self) -> str:
        return self.name

    @transaction.atomic
    def save_version(
        self,
        spec: TeamSpec,
        *,
        by: Any,
        is_valid: bool,
        problems: list[dict[str, Any]] | None = None,
        message: str = "",
    ) -> TeamVersion:
        """Make ``spec`` the team's current spec as a new immutable, numbered version.

        The row lock makes two concurrent saves get consecutive numbers instead of colliding.
        """
        if self.pk:
            locked = Team.objects.select_for_update().get(pk=self.pk)
            self.version = locked.version
        document = dump(spec)
        self.spec = document
        self.name = spec.name
        self.description = spec.description
        self.pattern = spec.pattern
        self.is_valid = is_valid
        self.version += 1
        self.save()
        return TeamVersion.objects.create(
            team=self,
            number=self.version,
            spec=document,
            is_valid=is_valid,
            problems=problems or [],
            message=message,
            created_by=by if getattr(by, "is_authenticated", False) else None,
        )

    def current_version(self) -> TeamVersion | None:
        return self.versions.filter(number=self.version).first()


class TeamVersion(models.Model):
    """One saved state of a team. Never changed after it is written; runs point at it."""

    team = models.ForeignKey(Team, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    is_valid = models.BooleanField(default=False)
    problems = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["team", "number"], name="unique_team_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.team.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("A team version is immutable; save a new version instead.")
        super().save(*args, **kwargs)


class Secret(InWorkspace):
    """A key a user stored for their own models and tools: encrypted at rest
    (``teams.credentials``), never shown again, and sent only to the hosts it is bound to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=100)
    hosts = models.JSONField(default=list, help_text="The host names it may be sent to.")
    ciphertext = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()
    VIEW_PERMISSION = "secret.view"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_secret_name")
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Secret {self.name!r} for {', '.join(self.hosts)}>"

    def set_value(self, value: str) -> None:
        self.ciphertext = credentials.encrypt(value)

    def value(self) -> str:
        return credentials.decrypt(self.ciphertext)

    def allows(self, url: str) -> bool:
        """Whether this secret may be sent to ``url``'s host."""
        return bool(url) and credentials.host_of(url) in self.hosts

    def to_dict(self) -> dict[str, Any]:
        """What the API and pages show: never the value."""
        return {
            "id": self.pk,
            "name": self.name,
            "hosts": list(self.hosts),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Pricing:
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float | None = None
    cache_write_usd_per_mtok: float | None = None
    source: str = "model"  # "credential", "model", "catalogue" or "unknown"


class ModelConfig(InWorkspace):
    """A model agents can use, referenced by ``name`` from a TeamSpec agent's ``model``.

    Its key comes from an operator ``credential`` (by name: the base URL and the prices are
    the credential's) or from one of the owner's ``secret``s (sent only to the secret's
    hosts), or it has none. It never names an environment variable. ``needs_credential``
    marks a config whose old key variable the operator does not lend (see migration 0005):
    runs using it fail with that reason until the owner picks a credential or a secret.
    """

    class Provider(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible"
        ANTHROPIC = "anthropic", "Anthropic"
        GEMINI = "gemini", "Google Gemini"
        OFFLINE = "offline", "Offline simulator"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="model_configs"
    )
    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    model = models.CharField(
        max_length=200, help_text="The provider's model name, e.g. gpt-4o-mini."
    )
    base_url = models.URLField(blank=True, help_text="Empty means the provider's default.")
    credential = models.CharField(
        max_length=100, blank=True, help_text="The name of an operator credential."
    )
    secret = models.ForeignKey(
        Secret, models.PROTECT, null=True, blank=True, related_name="model_configs"
    )
    input_usd_per_mtok = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal(0))
    output_usd_per_mtok = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal(0))
    needs_credential = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()
    VIEW_PERMISSION = "model.view"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_model_config_name")
        ]

    def __str__(self) -> str:
        return self.name

    def operator_credential(self) -> credentials.OperatorCredential | None:
        return credentials.operator_credentials().get(self.credential) if self.credential else None

    def effective_base_url(self) -> str:
        """Where calls go: the credential's base URL when it has one, else the config's."""
        credential = self.operator_credential()
        return (credential.base_url if credential and credential.base_url else "") or self.base_url

    def prices(self) -> tuple[Decimal, Decimal]:
        """USD per 1M input and output tokens: the operator's, for an operator credential."""
        if self.credential:
            credential = self.operator_credential()
            if credential is None:
                return Decimal(0), Decimal(0)
            return credential.input_usd_per_mtok, credential.output_usd_per_mtok
        return self.input_usd_per_mtok, self.output_usd_per_mtok

    def pricing(self) -> Pricing:
        """What a call costs, USD per 1M tokens, and where that comes from: the operator's
        credential or this config when either sets a price, else the model catalogue."""
        input_price, output_price = self.prices()
        if input_price or output_price or self.provider == self.Provider.OFFLINE:
            source = "credential" if self.credential else "model"
            return Pricing(float(input_price), float(output_price), source=source)
        entry = catalogue.entry(self.provider, self.model)
        if entry is None:
            return Pricing(0.0, 0.0, source="unknown")
        return Pricing(
            entry.input, entry.output, entry.cached_input, entry.cache_write, "catalogue"
        )

    def catalogue_entry(self) -> catalogue.Entry | None:
        return catalogue.entry(self.provider, self.model)

    def to_dict(self) -> dict[str, Any]:
        pricing = self.pricing()
        entry = self.catalogue_entry()
        return {
            "id": self.pk,
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "base_url": self.effective_base_url() or None,
            "credential": self.credential or None,
            "secret": self.secret.name if self.secret_id else None,
            "input_usd_per_mtok": pricing.input_usd_per_mtok,
            "output_usd_per_mtok": pricing.output_usd_per_mtok,
            "cached_input_usd_per_mtok": pricing.cached_input_usd_per_mtok,
            "price_source": pricing.source,
            "capabilities": entry.capabilities() if entry else None,
            "needs_credential": self.needs_credential,
            "simulated": self.provider == self.Provider.OFFLINE,
        }


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())


class TokenRefused(ValueError):
    """A token asked for a workspace its user is not in, or a role above theirs."""


class DigestToken(models.Model):
    """A bearer secret kept as its digest (``orchestration_site.tokens``): issued once with a
    hint of its first characters, found by its digest with its use recorded, revoked by a
    date. ``ApiToken`` is one, and so is ``publishing.PublicationKey``."""

    PREFIX = ""

    name = models.CharField(max_length=100)
    hint = models.CharField(
        max_length=16, help_text="The token's first characters, to tell it apart."
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    digest_of = staticmethod(tokens.digest)

    @classmethod
    def mint(cls, **fields: Any) -> tuple[Any, str]:
        """A new row with ``fields`` and its token, which is shown once and never stored."""
        token = tokens.new_token(cls.PREFIX)
        row = cls._default_manager.create(hint=token[:10], digest=cls.digest_of(token), **fields)
        return row, token

    @classmethod
    def used(cls, rows: models.QuerySet[Any], token: str) -> Any | None:
        """The row among ``rows`` that ``token`` is, its use recorded; None for none."""
        row = rows.filter(digest=cls.digest_of(token)).first()
        if row is not None:
            cls._default_manager.filter(pk=row.pk).update(last_used_at=timezone.now())
        return row

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiToken(DigestToken):
    """A bearer token for the API. Only its sha256 digest is stored; the token is shown once.

    A token reaches one workspace with a role no higher than its user's there; what it may do
    is what both its role and the user's current role allow (``workspaces.access``)."""

    PREFIX = "ato_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    workspace = models.ForeignKey("workspaces.Workspace", models.CASCADE, related_name="api_tokens")
    role = models.CharField(max_length=10, choices=Role.choices)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Never when empty.")

    objects = ApiTokenQuerySet.as_manager()

    @classmethod
    def issue(
        cls,
        user: Any,
        name: str,
        *,
        workspace: Workspace | None = None,
        role: str | None = None,
        expires_at: Any = None,
    ) -> tuple[ApiToken, str]:
        """A new token for ``user`` in ``workspace`` (their personal one by default) with
        ``role`` (their own role there by default); ``TokenRefused`` when they are not a
        member or ``role`` is higher than theirs."""
        workspace = workspace or personal_workspace(user)
        held = Membership.objects.filter(workspace=workspace, user=user)
        mine = held.values_list("role", flat=True).first()
        if mine is None:
            raise TokenRefused(f"{user} is not a member of {workspace.name}.")
        role = role or mine
        if not at_most(role, mine):
            raise TokenRefused(
                f"A token cannot have a role higher than its user's: {user} is {mine} in "
                f"{workspace.name}, and {role} allows more."
            )
        return cls.mint(user=user, workspace=workspace, role=role, name=name, expires_at=expires_at)

    @classmethod
    def authenticate(cls, token: str) -> ApiToken | None:
        """The token row (with its user), or None for an unknown, revoked or expired token."""
        rows = cls.objects.active().select_related("user").filter(user__is_active=True)
        return cls.used(rows, token)

    @classmethod
    def user_for(cls, token: str) -> Any | None:
        """The token's user carrying its ``TokenScope`` (what ``workspaces.access`` limits
        them to), or None; for the API and the websocket alike."""
        row = cls.authenticate(token)
        if row is None:
            return None
        row.user.token_scope = TokenScope(row.workspace_id, row.role, token_id=row.pk)
        return row.user

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class CustomToolQuerySet(OwnedQuerySet):
    def registry(self) -> Any:
        """These tools as an engine ``Registry``, to merge with the built-ins for a run."""
        return custom_tools_registry(self)


def custom_tools_registry(tools: Iterable[CustomTool], secrets: Iterable[Secret] = ()) -> Any:
    """Custom tools (any iterable of them) as an engine ``Registry``, with their owner's
    ``secrets`` decrypted for the ``secret:NAME`` headers (in memory, for the run only)."""
    bound: dict[str, BoundSecret] = {}
    for secret in secrets:
        try:
            bound[secret.name] = BoundSecret(secret.value(), frozenset(secret.hosts))
        except credentials.CredentialsMisconfigured:
            continue  # its key was removed: a tool using it says the secret is missing
    return http_tools_registry((tool.definition() for tool in tools), bound)


class CustomTool(InWorkspace):
    """A user's HTTP tool: agents call it like a built-in (``runs.engine.tools.http_tool``).

    Header values that are secrets are stored as ``secret:NAME``, a reference to one of the
    owner's ``Secret``s bound to the tool's host; the definition itself never holds a secret.
    """

    class Method(models.TextChoices):
        GET = "GET"
        POST = "POST"
        PUT = "PUT"
        PATCH = "PATCH"
        DELETE = "DELETE"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="custom_tools")
    name = models.CharField(max_length=64)
    description = models.TextField(max_length=1000)
    parameters = models.JSONField(default=dict, help_text="JSON Schema of the arguments.")
    url = models.URLField(max_length=2000, help_text="May contain {argument} placeholders.")
    method = models.CharField(max_length=6, choices=Method.choices, default=Method.GET)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomToolQuerySet.as_manager()
    VIEW_PERMISSION = "tool.view"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_custom_tool_name")
        ]

    def __str__(self) -> str:
        return self.name

    def store(self, definition: HttpToolDefinition) -> None:
        """Saves ``definition`` as this tool; ``ValueError`` when its name is already taken,
        ``credentials.Refused`` when a header refers to a secret it may not use."""
        if builtin_registry().get(definition.name) is not None:
            raise ValueError(f"{definition.name} is a built-in tool; choose another name.")
        check_secret_headers(definition, Secret.objects.filter(workspace=self.place()))
        for field, value in definition.model_dump().items():
            setattr(self, field, value)
        try:
            with transaction.atomic():
                self.save()
        except IntegrityError:
            raise ValueError(f"You already have a tool named {definition.name}.") from None

    def as_tool(self) -> Any:
        """The engine ``Tool`` agents call."""
        return http_tool(self.definition())

    def definition(self) -> HttpToolDefinition:
        return HttpToolDefinition(
            name=self.name, description=self.description, parameters=self.parameters,
            url=self.url, method=self.method, headers=self.headers,
        )  # fmt: skip


def check_secret_headers(definition: HttpToolDefinition, secrets: Iterable[Secret]) -> None:
    """Each ``secret:NAME`` header must name one of ``secrets`` bound to the URL's host, and
    that host must be fixed (a placeholder there would let an agent choose where it goes)."""
    names = definition.secret_names()
    if not names:
        return
    host = credentials.host_of(definition.url.replace("{", "").replace("}", ""))
    if "{" in definition.url.split("/")[2]:
        raise credentials.Refused(
            "url",
            "A tool that sends a secret needs a fixed host: no {placeholder} before the path.",
        )
    stored = {s.name: s for s in secrets}
    for name in sorted(names):
        secret = stored.get(name)
        if secret is None:
            raise credentials.Refused(
                "headers", f"You have no secret named {name}; add it in Settings, Secrets first."
            )
        if host not in secret.hosts:
            raise credentials.Refused(
                "headers",
                f"The secret {name} may only be sent to {', '.join(secret.hosts)}, not {host}. "
                "Add the host to the secret, or use another secret.",
            )


class TeamTemplate(models.Model):
    """A ready-made team in the gallery, the same for every user.

    Installed from ``teams/team_templates/<slug>/`` by ``manage.py loadtemplates``; the files
    are the source of truth and a row is rewritten whenever they change. Using a template
    copies its spec into a new team of the user's own, so later template updates never
    change a team someone already made from it.
    """

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    pattern = models.CharField(max_length=20, choices=Team.Pattern.choices)
    spec = models.JSONField(help_text="The template's TeamSpec document.")
    sample_input = models.JSONField(default=dict, blank=True)
    about = models.TextField(blank=True, help_text="What the template does, as Markdown.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the gallery.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def about_html(self) -> str:
        from django.utils.safestring import mark_safe

        from .team_templates import render_about

        return mark_safe(render_about(self.about))  # noqa: S308 - raw HTML is escaped

    def agents(self) -> list[dict[str, Any]]:
        """The template's top-level nodes, for the gallery card."""
        return [n for n in self.spec.get("nodes", []) if isinstance(n, dict)]
