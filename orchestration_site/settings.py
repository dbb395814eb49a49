"""Settings for the agent-team orchestrator, all from the environment (12-factor).

With no environment at all this is the embedded default: SQLite in the project folder, the
in-memory channel layer and runs executed on a thread of the web process. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL, channels-redis and Celery workers on Redis.
"""

from pathlib import Path

import csp.constants
import environ
import limits
from celery.schedules import crontab

from runs import signing
from runs.engine.tools.mcp_servers import load_registry as load_mcp_servers
from teams.credentials import parse_encryption_keys, parse_operator_credentials
from workspaces import roles as workspace_roles

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.smart_cast = False

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 for local use."
        )
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # django-ninja's own Swagger UI assets (static/ninja/): /api/docs then needs no CDN, and
    # no inline script that the Content-Security-Policy would block.
    "ninja",
    "workspaces",
    "teams",
    "runs",
    "accounts",
    "django_celery_beat",
    "triggers",
    "evaluations",
    "publishing",
    "conversations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "orchestration_site.middleware.RefuseUnstorableJSON",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "orchestration_site.urls"
WSGI_APPLICATION = "orchestration_site.wsgi.application"
ASGI_APPLICATION = "orchestration_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.views.signup_setting",
                "workspaces.context.workspace",
                "runs.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# Behind PgBouncer in transaction mode a server-side cursor (``.iterator()``, as the audit
# export uses) may find its transaction on another server connection: turn them off there.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DATABASE_TRANSACTION_POOLER", default=False
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Runs write events from a thread while the web process reads them: WAL and a busy
    # timeout keep SQLite from answering "database is locked" under that load.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Redis pub/sub ignores database numbers: the prefix keeps stacks sharing one
            # Redis (and parallel test runs) from hearing each other's groups.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi"),
            },
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_TRANSPORT = "orchestration_site.broker:Transport"
    RUN_EXECUTOR = "celery"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    RUN_EXECUTOR = "thread"
RUN_EXECUTOR = env.str("RUN_EXECUTOR", default=RUN_EXECUTOR)

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
# Runs wait on model APIs: a worker process carries many at once on one event loop, each
# Celery thread only waiting for its run (docs/architecture.md, "Many runs per worker").
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=200)
# An executing run beats its heart every RUN_HEARTBEAT_S (each beat rewrites the row of every
# run a worker executes); one silent for RUN_STALE_AFTER_S is taken over by another worker.
RUN_HEARTBEAT_S = env.float("RUN_HEARTBEAT_S", default=5.0)
RUN_STALE_AFTER_S = env.float("RUN_STALE_AFTER_S", default=30.0)
if not 0 < RUN_HEARTBEAT_S * 2 <= RUN_STALE_AFTER_S:
    raise environ.ImproperlyConfigured(
        f"RUN_STALE_AFTER_S ({RUN_STALE_AFTER_S:g}) must be at least twice RUN_HEARTBEAT_S "
        f"({RUN_HEARTBEAT_S:g}), which must be positive: a live run would be taken over."
    )
# Each process that executes runs looks this often for runs whose executor died and runs whose
# question's deadline has passed (runs.wakes); 0 turns that off in the process.
RUN_WAKE_SWEEP_S = env.float("RUN_WAKE_SWEEP_S", default=5.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files (after collectstatic) in production; tests and DEBUG use the
    # plain storage so pages render without a collectstatic first.
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Health checks and scrapes come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Tools that reach the network refuse private, loopback and link-local addresses unless
# the operator allows them here (a comma-separated list of hosts or CIDR ranges).
TOOLS_ALLOWED_PRIVATE_NETWORKS = env.list("TOOLS_ALLOWED_PRIVATE_NETWORKS", default=[])
OUTBOX_DIR = Path(env.str("OUTBOX_DIR", default=str(BASE_DIR / "var" / "outbox")))
# Where tools build their read-only datasets (the sample ledger as SQLite) on first use.
TOOLS_DATA_CACHE_DIR = Path(
    env.str("TOOLS_DATA_CACHE_DIR", default=str(BASE_DIR / "var" / "datasets"))
)
# The publish tool POSTs a piece to these, per platform: "blog=https://...,x=https://...".
PUBLISH_WEBHOOK_URLS = env.dict("PUBLISH_WEBHOOK_URLS", default={})

# Operating it (docs/operating.md). OpenTelemetry is off unless an OTLP endpoint is set; the
# SDK reads its other OTEL_* variables (headers, service name) itself.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset, it is closed.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_S = env.float("WEBHOOK_RETRY_BASE_S", default=30.0)
# A delivery attempt ends after WEBHOOK_TIMEOUT_S in all, however slowly the receiver answers;
# its body is never read (runs/webhooks.py).
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", default=10.0)

# Credentials and secrets (docs/security.md). Users never name environment variables: models
# use a credential the operator defines here, or a secret the user stored (encrypted with these
# keys, bound to hosts). Both are parsed now, so nonsense fails at start-up.
MODEL_CREDENTIALS = parse_operator_credentials(env.str("MODEL_CREDENTIALS", default=""))
SECRETS_ENCRYPTION_KEYS = parse_encryption_keys(
    env.str("SECRETS_ENCRYPTION_KEYS", default=""), debug=DEBUG, secret_key=SECRET_KEY
)
# A model's streamed answer is cut off past this size or this total time (a hostile server
# could stream without end).
MODEL_ANSWER_MAX_BYTES = env.int("MODEL_ANSWER_MAX_BYTES", default=16_000_000)
MODEL_ANSWER_MAX_S = env.float("MODEL_ANSWER_MAX_S", default=600.0)

# Programs on the workers and bounded validation (docs/security.md). The stdio MCP servers
# teams may use, by name: the only programs a team can have started. JSON in MCP_SERVERS, or
# in the file MCP_SERVERS_FILE names; nonsense stops start-up here.
try:
    MCP_SERVERS = load_mcp_servers(
        env.str("MCP_SERVERS", default=""), env.str("MCP_SERVERS_FILE", default="")
    )
except ValueError as exc:
    raise environ.ImproperlyConfigured(str(exc)) from exc
# A team whose nested team references, inlined, hold more nodes than this is refused when it
# is saved, exported or started: references can fan out, so the cap is on what runs.
MAX_INLINED_NODES = env.int("MAX_INLINED_NODES", default=500)

# The audit trail (docs/security.md, "The audit trail"): each run's head is signed with an
# Ed25519 key kept out of the database, so a trail rewritten or cut short there fails
# verification. Production refuses to start without one; DEBUG keeps its own in var/. Heads
# signed with a retired key still verify while its public key is in AUDIT_VERIFY_KEYS.

AUDIT_DEVELOPMENT_KEY_FILE = BASE_DIR / "var" / "audit-signing-key.pem"
try:
    if env.str("AUDIT_SIGNING_KEY", default=""):
        AUDIT_SIGNING_KEY = signing.private_key(env.str("AUDIT_SIGNING_KEY"))
    elif DEBUG:
        AUDIT_SIGNING_KEY = signing.development_key(AUDIT_DEVELOPMENT_KEY_FILE)
    else:
        raise environ.ImproperlyConfigured(
            "AUDIT_SIGNING_KEY is not set. Set it to an Ed25519 private key (PEM, or 32 random "
            "bytes in base64) kept out of the database, or set DEBUG=1 for local use."
        )
    AUDIT_VERIFY_KEYS = signing.public_keys(env.str("AUDIT_VERIFY_KEYS", default=""))
except signing.UnusableKey as error:
    raise environ.ImproperlyConfigured(str(error)) from None
# --- Models: providers and circuit breakers (issue 19) ---------------------------------------
# A model credential's circuit opens after this many retryable failures in a row; while open,
# agents with fallback_models go straight to the next model, and after the cool-down one call
# probes it. Shared by every worker through Redis when REDIS_URL is set, else per process.
MODEL_CIRCUIT_FAILURES = env.int("MODEL_CIRCUIT_FAILURES", default=5)
MODEL_CIRCUIT_COOLDOWN_S = env.float("MODEL_CIRCUIT_COOLDOWN_S", default=30.0)
MODEL_CIRCUIT_PREFIX = env.str("MODEL_CIRCUIT_PREFIX", default="orchestrator:circuit")
if MODEL_CIRCUIT_FAILURES < 1 or MODEL_CIRCUIT_COOLDOWN_S <= 0:
    raise environ.ImproperlyConfigured(
        "MODEL_CIRCUIT_FAILURES must be at least 1 and MODEL_CIRCUIT_COOLDOWN_S above 0."
    )

# --- Quotas, sign-up and the web surface (docs/security.md, "Quotas and sign-up") -------------
# Who may make an account: "closed" (only the operator makes them: createsuperuser, admin),
# "invite" (with a one-time link from `manage.py createinvite`) or "open" (anyone).
SIGNUP = env.str("SIGNUP", default="open" if DEBUG else "closed")
if SIGNUP not in ("closed", "invite", "open"):
    raise environ.ImproperlyConfigured(f"SIGNUP must be closed, invite or open, not {SIGNUP!r}.")
INVITE_VALID_DAYS = env.int("INVITE_VALID_DAYS", default=7)
# Rates as the `limits` library reads them ("300/minute", "10 per 15 minutes"; empty: off).
# The counters live in Redis when REDIS_URL is set (under QUOTA_KEY_PREFIX), else in memory.
QUOTA_KEY_PREFIX = env.str("QUOTA_KEY_PREFIX", default="quota")
QUOTA_API_REQUESTS = env.str("QUOTA_API_REQUESTS", default="300/minute")
QUOTA_RUNS = env.str("QUOTA_RUNS", default="60/hour")
QUOTA_WEBSOCKET_CONNECTS = env.str("QUOTA_WEBSOCKET_CONNECTS", default="60/minute")
QUOTA_WEBSOCKET_SUBSCRIBES = env.str("QUOTA_WEBSOCKET_SUBSCRIBES", default="120/minute")
LOGIN_RATE_PER_IP = env.str("LOGIN_RATE_PER_IP", default="30/10 minutes")
LOGIN_RATE_PER_USERNAME = env.str("LOGIN_RATE_PER_USERNAME", default="10/15 minutes")
SIGNUP_RATE_PER_IP = env.str("SIGNUP_RATE_PER_IP", default="10/hour")
# "Test connection" on a model makes a real call with its key: a few a minute per person.
QUOTA_MODEL_TESTS = env.str("QUOTA_MODEL_TESTS", default="10/minute")
# Caps per person (0: none): runs queued or running at once, and tokens and dollars their runs
# of the last 24 hours may have used for a new one to start; webhooks per team.
QUOTA_RUNS_IN_FLIGHT = env.int("QUOTA_RUNS_IN_FLIGHT", default=10)
QUOTA_TOKENS_PER_DAY = env.int("QUOTA_TOKENS_PER_DAY", default=5_000_000)
QUOTA_USD_PER_DAY = env.float("QUOTA_USD_PER_DAY", default=50.0)
QUOTA_WEBHOOKS_PER_TEAM = env.int("QUOTA_WEBHOOKS_PER_TEAM", default=10)
# Every run has a budget: the default where its team sets none, never more than the maximum
# (also after a person approves more at the budget question).
RUN_DEFAULT_TOKEN_BUDGET = env.int("RUN_DEFAULT_TOKEN_BUDGET", default=2_000_000)
RUN_DEFAULT_COST_BUDGET_USD = env.float("RUN_DEFAULT_COST_BUDGET_USD", default=5.0)
RUN_MAX_TOKEN_BUDGET = env.int("RUN_MAX_TOKEN_BUDGET", default=20_000_000)
RUN_MAX_COST_BUDGET_USD = env.float("RUN_MAX_COST_BUDGET_USD", default=50.0)
# Every page's Content-Security-Policy (django-csp): scripts, styles and connections only from
# this origin, so markup that slipped past escaping cannot run or send anything anywhere.
# The websocket's own origin is listed too, for browsers whose 'self' does not cover ws:.
_ws_origin = SITE_URL.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        # The nonce lets the builder's code editor (CodeMirror) add its own style element.
        "style-src": [csp.constants.SELF, csp.constants.NONCE],
        "img-src": [csp.constants.SELF, "data:"],
        "connect-src": [csp.constants.SELF, _ws_origin],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    },
}
for _rate in (
    QUOTA_API_REQUESTS, QUOTA_RUNS, QUOTA_WEBSOCKET_CONNECTS, QUOTA_WEBSOCKET_SUBSCRIBES,
    LOGIN_RATE_PER_IP, LOGIN_RATE_PER_USERNAME, SIGNUP_RATE_PER_IP, QUOTA_MODEL_TESTS,
):  # fmt: skip
    if _rate:
        try:
            limits.parse(_rate)
        except ValueError:
            raise environ.ImproperlyConfigured(
                f"{_rate!r} is not a rate; write it like '300/minute' or '10 per 15 minutes'."
            ) from None

# The tool sandbox (docs/security.md, "The tool sandbox"): where the worker runs as root,
# programs tools start (ruff, bandit) run as this unprivileged user. Empty: as the worker's own
# user, which an operator must choose knowingly (a root worker then runs checkers as root).
# DEBUG (`make run`: one person on 127.0.0.1) defaults to empty, since `nobody` often cannot
# read an interpreter installed under a home folder, and the code-review template would fail.
TOOLS_SANDBOX_USER = env.str("TOOLS_SANDBOX_USER", default="" if DEBUG else "nobody")
# Schedules and signed triggers (triggers/, docs/putting-a-team-to-work.md) ------------------
# Beat keeps schedules in the database (django-celery-beat), so they change without a restart.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Without Redis there is no beat: the web process fires due schedules this often (0: never).
SCHEDULES_SWEEP_S = env.float("SCHEDULES_SWEEP_S", default=10.0)
TRIGGER_MAX_BODY_BYTES = env.int("TRIGGER_MAX_BODY_BYTES", default=512 * 1024)
TRIGGER_SIGNATURE_TOLERANCE_S = env.int("TRIGGER_SIGNATURE_TOLERANCE_S", default=300)
# --- Model rate limits (shared by every worker) ---
# Where the per-credential limiters live in Redis (REDIS_URL; without it each process has its
# own). The limits themselves are each operator credential's "rpm" and "tpm".
MODEL_RATE_LIMIT_PREFIX = env.str("MODEL_RATE_LIMIT_PREFIX", default="orchestrator:ratelimit")
# Slow watchers (docs/runs.md, "The websocket"): a websocket watcher with more than
# WATCHER_MAX_BACKLOG_BYTES sent to it and not yet read for WATCHER_BACKLOG_WAIT_S is closed
# with code 4008 and catches up from the database when it connects again; it then has
# WATCHER_CLOSE_GRACE_S to read up to the close frame before it is dropped.
WATCHER_MAX_BACKLOG_BYTES = env.int("WATCHER_MAX_BACKLOG_BYTES", default=1024 * 1024)
if WATCHER_MAX_BACKLOG_BYTES < 64 * 1024:
    raise environ.ImproperlyConfigured(
        f"WATCHER_MAX_BACKLOG_BYTES is {WATCHER_MAX_BACKLOG_BYTES}: give 65536 bytes or more."
    )
WATCHER_BACKLOG_WAIT_S = env.float("WATCHER_BACKLOG_WAIT_S", default=2.0)
WATCHER_CLOSE_GRACE_S = env.float("WATCHER_CLOSE_GRACE_S", default=10.0)
# Retention and archives (docs/operating.md, "Retention"): finished runs older than
# RUN_RETENTION_DAYS (0 keeps every run) are written to JSON Lines files under ARCHIVE_ROOT,
# signed head included, then their events leave the database ARCHIVE_BATCH runs at a time.
RUN_RETENTION_DAYS = env.int("RUN_RETENTION_DAYS", default=0)
if RUN_RETENTION_DAYS < 0:
    raise environ.ImproperlyConfigured(
        f"RUN_RETENTION_DAYS is {RUN_RETENTION_DAYS}: give a number of days, or 0 to keep every run."
    )
ARCHIVE_ROOT = Path(env.str("ARCHIVE_ROOT", default=str(BASE_DIR / "var" / "archives")))
ARCHIVE_BATCH = env.int("ARCHIVE_BATCH", default=50)
if ARCHIVE_BATCH < 1:
    raise environ.ImproperlyConfigured(f"ARCHIVE_BATCH is {ARCHIVE_BATCH}: give 1 or more runs.")
# The daily pass, for a `celery beat` process (or django-celery-beat, which copies it in); it
# does nothing while RUN_RETENTION_DAYS is 0.
CELERY_BEAT_SCHEDULE = {
    "archive-old-runs": {
        "task": "runs.archive.retention_pass",
        "schedule": crontab(hour=3, minute=17),
    },
}
# Experiments (evaluations/, docs/evaluations.md): each running experiment is advanced this
# often (scores ended items, starts pending ones); the sweep takes up one whose chain of
# advances died with its worker.
EXPERIMENT_POLL_S = env.float("EXPERIMENT_POLL_S", default=1.0)
EXPERIMENTS_SWEEP_S = env.float("EXPERIMENTS_SWEEP_S", default=30.0)
# The experiment websocket reads a busy experiment's progress at most this often (per
# experiment and web process, for all its watchers), however many steps it takes meanwhile.
EXPERIMENT_WATCH_INTERVAL_S = env.float("EXPERIMENT_WATCH_INTERVAL_S", default=0.5)
CELERY_BEAT_SCHEDULE["experiments-sweep"] = {
    "task": "evaluations.tasks.sweep",
    "schedule": EXPERIMENTS_SWEEP_S,
}

# --- Metrics per process (prometheus_client; issue 17) ---------------------------------------
# Each process counts in its own registry. Processes on one host that share
# PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself) are added up by /metrics; a Celery
# worker on a host without a web process serves its host's metrics on METRICS_WORKER_PORT.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
if not 0 <= METRICS_WORKER_PORT <= 65535:
    raise environ.ImproperlyConfigured(
        f"METRICS_WORKER_PORT is {METRICS_WORKER_PORT}: give a TCP port, or 0 for none."
    )
METRICS_WORKER_ADDRESS = env.str("METRICS_WORKER_ADDRESS", default="127.0.0.1")

# --- Single sign-on with OpenID Connect (docs/single-sign-on.md) -----------------------------
# mozilla-django-oidc does the protocol (state, nonce, PKCE, the code exchange, the ID token's
# signature); accounts/sso.py decides who the person is: by the provider's `sub`, never by
# e-mail. On when OIDC_CLIENT_ID is set; password log-in stays either way.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").strip()


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_ENABLED = bool(OIDC_CLIENT_ID)
if OIDC_ENABLED and not (OIDC_ISSUER and OIDC_CLIENT_SECRET):
    raise environ.ImproperlyConfigured(
        "OIDC_CLIENT_ID is set, so single sign-on is on: set OIDC_ISSUER (the provider's issuer "
        "URL, where /.well-known/openid-configuration lives) and OIDC_CLIENT_SECRET too."
    )
# The endpoints come from the issuer's discovery document unless given here.
OIDC_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default="")
OIDC_USERINFO_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default="")
OIDC_JWKS_ENDPOINT = env.str("OIDC_JWKS_ENDPOINT", default="")
OIDC_END_SESSION_ENDPOINT = env.str("OIDC_END_SESSION_ENDPOINT", default="")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="") or "openid email profile"
if OIDC_ENABLED and not {"openid", "email"} <= set(OIDC_SCOPES.split()):
    raise environ.ImproperlyConfigured(
        f"OIDC_SCOPES is {OIDC_SCOPES!r}: it needs at least 'openid email' (people are known by "
        "their verified e-mail address)."
    )
OIDC_BUTTON_LABEL = env.str("OIDC_BUTTON_LABEL", default="") or "single sign-on"
# New people may be made from the provider whatever SIGNUP says (the provider is the
# operator's), unless this is off: then only identities linked in the admin may log in.
OIDC_CREATE_USERS = env.bool("OIDC_CREATE_USERS", default=True)
OIDC_ALLOWED_DOMAINS = [
    d.strip().lower().lstrip("@") for d in env.list("OIDC_ALLOWED_DOMAINS", default=[]) if d.strip()
]
OIDC_REQUIRE_VERIFIED_EMAIL = env.bool("OIDC_REQUIRE_VERIFIED_EMAIL", default=True)
OIDC_JOIN_WORKSPACE = env.str("OIDC_JOIN_WORKSPACE", default="")
OIDC_JOIN_ROLE = env.str("OIDC_JOIN_ROLE", default="") or "viewer"
if OIDC_JOIN_ROLE not in workspace_roles.Role.values:
    raise environ.ImproperlyConfigured(
        f"OIDC_JOIN_ROLE is {OIDC_JOIN_ROLE!r}: give one of {', '.join(workspace_roles.Role.values)}."
    )
OIDC_LOGOUT_AT_PROVIDER = env.bool("OIDC_LOGOUT_AT_PROVIDER", default=True)
OIDC_TIMEOUT_S = env.float("OIDC_TIMEOUT_S", default=10.0)
# What mozilla-django-oidc reads (the endpoints are looked up by accounts/oidc.py).
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET
OIDC_RP_SCOPES = OIDC_SCOPES
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=True)
OIDC_STORE_ID_TOKEN = True  # the hint RP-initiated logout sends back to the provider
OIDC_TIMEOUT = OIDC_TIMEOUT_S
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "accounts.sso.OIDCBackend",
]
# Logging out sends the browser from the log-out form on to the provider's end-session
# endpoint, which the form-action directive must then allow.
if OIDC_ENABLED:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += sorted(
        {_origin_of(url) for url in (OIDC_ISSUER, OIDC_END_SESSION_ENDPOINT) if url}
    )

# The inbox: how often an open page asks for questions waiting for a person (the top bar's
# count and the browser notification of a new one).
INBOX_POLL_SECONDS = env.int("INBOX_POLL_SECONDS", default=15)
if INBOX_POLL_SECONDS < 1:
    raise environ.ImproperlyConfigured(
        f"INBOX_POLL_SECONDS is {INBOX_POLL_SECONDS}: give 1 or more seconds."
    )

# Published teams (publishing/, docs/putting-a-team-to-work.md) -----------------------------
# A publication's calls per key (POST/GET /p/<slug>/runs and every /mcp/ request), unless the
# publisher gives it another rate; written as the `limits` library parses it.
PUBLICATION_RATE_LIMIT = env.str("PUBLICATION_RATE_LIMIT", default="60/minute")
# How long `?wait=true` and an MCP tool call wait for a run's output before answering with
# the run still going (its id and URL, to read it later).
PUBLICATION_WAIT_S = env.float("PUBLICATION_WAIT_S", default=60.0)
# Waits under way at once (`?wait=true` and MCP tool calls), per key and per web process; one
# more is a 429 with Retry-After that starts nothing. A wait holds no database connection or
# thread (publishing/waits.py) but reads the run every few seconds.
PUBLICATION_MAX_WAITS_PER_KEY = env.int("PUBLICATION_MAX_WAITS_PER_KEY", default=10)
PUBLICATION_MAX_WAITS = env.int("PUBLICATION_MAX_WAITS", default=200)
if min(PUBLICATION_MAX_WAITS_PER_KEY, PUBLICATION_MAX_WAITS) < 1:
    raise environ.ImproperlyConfigured(
        f"PUBLICATION_MAX_WAITS_PER_KEY is {PUBLICATION_MAX_WAITS_PER_KEY} and "
        f"PUBLICATION_MAX_WAITS is {PUBLICATION_MAX_WAITS}: give each 1 or more waits."
    )
# The largest request body daphne takes in at all (orchestration_site/body_limit.py): over it,
# a 413 before the body is read (a declared length) or as soon as it passes (chunked), nothing
# kept. daphne otherwise holds a whole body in memory before Django can refuse it. Above the
# largest upload (a 20 MB dataset file, with its form's margin).
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=25 * 1024 * 1024)
if REQUEST_MAX_BODY_BYTES < 1024 * 1024:
    raise environ.ImproperlyConfigured(
        f"REQUEST_MAX_BODY_BYTES is {REQUEST_MAX_BODY_BYTES}: give 1048576 bytes or more."
    )
# The largest body POST /p/<slug>/runs and /mcp/ accept.
PUBLICATION_MAX_BODY_BYTES = env.int("PUBLICATION_MAX_BODY_BYTES", default=256 * 1024)
# The chat widget (static/js/widget.js) of a publication: conversations started and messages
# sent per visitor address and publication, and reads of a conversation (the widget polls
# about once a second while an answer is being written).
WIDGET_RATE_LIMIT = env.str("WIDGET_RATE_LIMIT", default="20/minute")
WIDGET_READ_RATE_LIMIT = env.str("WIDGET_READ_RATE_LIMIT", default="300/minute")
# Conversations: how many tokens (about four characters each) of the conversation so far a
# turn's run carries to the entry agent word for word; older messages are summarised.
CONVERSATION_WINDOW_TOKENS = env.int("CONVERSATION_WINDOW_TOKENS", default=3000)
if CONVERSATION_WINDOW_TOKENS < 100:
    raise environ.ImproperlyConfigured(
        f"CONVERSATION_WINDOW_TOKENS is {CONVERSATION_WINDOW_TOKENS}: give 100 or more."
    )
# The messages one conversation may hold (0: no limit). Every message is a run, and the
# conversation is read whole for each one, so a chat widget visitor or a script must not grow
# one without end; past it, the person starts a new conversation.
CONVERSATION_MAX_TURNS = env.int("CONVERSATION_MAX_TURNS", default=100)
if CONVERSATION_MAX_TURNS < 0:
    raise environ.ImproperlyConfigured(
        f"CONVERSATION_MAX_TURNS is {CONVERSATION_MAX_TURNS}: give 0 (no limit) or more."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The HTTP clients under the model providers log every request at INFO; each model call
    # is already an event of its run, so only their warnings are worth a line.
    "loggers": {name: {"level": "WARNING"} for name in ("httpx", "httpx2", "httpcore")},
}
