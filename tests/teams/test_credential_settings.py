"""The settings about keys fail loudly at start-up on nonsense, and secrets' encryption keys
rotate: the first key encrypts, every key decrypts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from teams.credentials import (
    CredentialsMisconfigured,
    decrypt,
    encrypt,
    parse_encryption_keys,
    parse_operator_credentials,
    rotate,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["openai"]', "must be a JSON object"),
        ('{"x": {"key_env": "K"}}', "either base_url"),
        ('{"x": {"key_env": "K", "base_url": "https://a/v1", "hosts": ["a"]}}', "not both"),
        ('{"x": {"key_env": "lower", "base_url": "https://a/v1"}}', "key_env"),
        ('{"x": {"base_url": "ftp://a/v1"}}', "base_url"),
        ('{"x": {"base_url": "https://a/v1", "input_usd_per_mtok": -1}}', "input_usd_per_mtok"),
        ('{"x": {"base_url": "https://a/v1", "colour": "red"}}', "colour"),
        ('{"x": {"base_url": "https://a/v1", "rpm": 0}}', "rpm"),
        ('{"x": {"base_url": "https://a/v1", "tpm": -5}}', "tpm"),
        ('{"x": {"base_url": "https://a/v1", "rpm": "lots"}}', "rpm"),
    ],
)
def test_nonsense_credentials_are_refused_with_the_field(raw: str, message: str) -> None:
    with pytest.raises(CredentialsMisconfigured, match=message):
        parse_operator_credentials(raw)


def test_a_credential_lists_the_hosts_its_key_may_go_to() -> None:
    parsed = parse_operator_credentials(
        '{"a": {"key_env": "A", "base_url": "https://API.example.com/v1"},'
        ' "b": {"hosts": ["llm.internal.", "10.0.0.5"]}}'
    )
    assert parsed["a"].allowed_hosts() == {"api.example.com"}
    assert parsed["b"].allowed_hosts() == {"llm.internal", "10.0.0.5"}


def test_production_without_encryption_keys_does_not_start() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRETS_ENCRYPTION_KEYS")}
    env.update(SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="orchestration_site.settings")
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode != 0 and "SECRETS_ENCRYPTION_KEYS is not set" in started.stderr
    # Under DEBUG (make run) a development key is derived and it starts.
    debug = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env | {"DEBUG": "1"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert debug.returncode == 0, debug.stderr


def test_bad_encryption_keys_are_refused() -> None:
    with pytest.raises(CredentialsMisconfigured, match="key 2 is not a Fernet key"):
        parse_encryption_keys(f"{Fernet.generate_key().decode()},nope", debug=True, secret_key="s")


def test_keys_rotate(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = (old,)
    stored = encrypt("the value")
    # A new first key: what was stored still opens, and rotating re-encrypts it with the new.
    settings.SECRETS_ENCRYPTION_KEYS = (new, old)
    assert decrypt(stored) == "the value"
    rotated = rotate(stored)
    settings.SECRETS_ENCRYPTION_KEYS = (new,)
    assert decrypt(rotated) == "the value"
    with pytest.raises(CredentialsMisconfigured, match="Put that key back"):
        decrypt(stored)


@pytest.mark.django_db
def test_rotatesecrets_re_encrypts_every_secret_with_the_first_key(settings: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tests.factories import make_secret, make_user

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = (old,)
    secret = make_secret(make_user(), "s", "the value")
    settings.SECRETS_ENCRYPTION_KEYS = (new, old)
    out = StringIO()
    call_command("rotatesecrets", stdout=out)
    assert out.getvalue().strip() == "Re-encrypted 1 secret."
    settings.SECRETS_ENCRYPTION_KEYS = (new,)
    secret.refresh_from_db()
    assert secret.value() == "the value"
