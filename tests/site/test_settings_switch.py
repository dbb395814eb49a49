"""Settings come from the environment: the embedded default without it, the production stack
with DATABASE_URL and REDIS_URL, and a deploy check that is clean with production values."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "executor": settings.RUN_EXECUTOR,
    "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
}))
"""
SETTING_VARS = ("DATABASE_URL", "REDIS_URL", "RUN_EXECUTOR", "CELERY_BROKER_URL", "DEBUG")


def settings_with(**overrides: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_VARS}
    env |= {"DJANGO_SETTINGS_MODULE": "orchestration_site.settings", "SECRET_KEY": "x" * 50}
    env |= overrides
    script = "import django; django.setup()\n" + PROBE
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_without_environment_it_is_sqlite_in_memory_layer_and_a_thread() -> None:
    assert settings_with() == {
        "engine": "django.db.backends.sqlite3",
        "layer": "channels.layers.InMemoryChannelLayer",
        "executor": "thread",
        "broker": "memory://",
        "debug": False,
    }


def test_with_urls_it_is_postgres_redis_and_celery() -> None:
    found = settings_with(
        DATABASE_URL="postgres://u@db.example:5432/app", REDIS_URL="redis://cache.example:6379/0"
    )
    assert found == {
        "engine": "django.db.backends.postgresql",
        "layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "executor": "celery",
        "broker": "redis://cache.example:6379/0",
        "debug": False,
    }


def test_without_a_secret_key_production_refuses_to_start() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (*SETTING_VARS, "SECRET_KEY")}
    env["DJANGO_SETTINGS_MODULE"] = "orchestration_site.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("heartbeat, stale", [("20", "30"), ("0", "30"), ("-1", "30")])
def test_a_heartbeat_a_live_run_could_not_keep_up_refuses_to_start(heartbeat, stale) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_VARS}
    env |= {"DJANGO_SETTINGS_MODULE": "orchestration_site.settings", "SECRET_KEY": "x" * 50,
            "RUN_HEARTBEAT_S": heartbeat, "RUN_STALE_AFTER_S": stale}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "RUN_STALE_AFTER_S (30) must be at least twice RUN_HEARTBEAT_S" in result.stderr


@pytest.mark.parametrize("with_services", [False, True], ids=["embedded", "production"])
def test_check_deploy_is_clean_with_production_settings(with_services: bool) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    env = {k: v for k, v in env.items() if k not in (*SETTING_VARS, "STATICFILES_BACKEND")}
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "orchestrator.example.org",
    }
    if with_services:
        env |= {"DATABASE_URL": "postgres://u@db.example/app", "REDIS_URL": "redis://r.example/0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
