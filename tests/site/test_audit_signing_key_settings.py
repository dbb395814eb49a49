"""The key that signs audit heads comes from the environment: production refuses to start
without one or with one that is not an Ed25519 key, and local use (DEBUG) keeps a key of its
own in a file, the same one from start to start."""

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from runs import signing

ROOT = Path(__file__).resolve().parents[2]
KEY_ID = "from django.conf import settings; from runs.signing import key_id; " \
    "print(key_id(settings.AUDIT_SIGNING_KEY.public_key()))"  # fmt: skip


def start(**env: str) -> subprocess.CompletedProcess[str]:
    """A process that sets Django up with ``env`` (and no key unless given) and prints the
    signing key's id."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_", "DEBUG"))}
    base |= {"DJANGO_SETTINGS_MODULE": "orchestration_site.settings", "SECRET_KEY": "x" * 50}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {KEY_ID}"],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_signing_key() -> None:
    result = start()
    assert result.returncode != 0
    assert "AUDIT_SIGNING_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "value",
    ["not-a-key", base64.b64encode(b"short").decode(), "-----BEGIN PRIVATE KEY-----\nAAAA\n"],
)
def test_production_refuses_a_key_that_is_not_ed25519(value: str) -> None:
    result = start(AUDIT_SIGNING_KEY=value)
    assert result.returncode != 0
    assert "AUDIT_SIGNING_KEY is not an Ed25519 private key" in result.stderr


def test_a_verify_key_that_is_not_a_public_key_refuses_to_start() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    result = start(AUDIT_SIGNING_KEY=key, AUDIT_VERIFY_KEYS="abc,def")
    assert result.returncode != 0
    assert "AUDIT_VERIFY_KEYS holds 'abc'" in result.stderr


def test_a_key_is_taken_as_pem_or_as_raw_base64() -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    expected = signing.key_id(key.public_key())
    for value in (pem, base64.b64encode(raw).decode()):
        result = start(AUDIT_SIGNING_KEY=value)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


def test_debug_without_a_key_keeps_one_in_var() -> None:
    first, second = start(DEBUG="1"), start(DEBUG="1")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    path = ROOT / "var" / "audit-signing-key.pem"
    assert (
        signing.key_id(signing.private_key(path.read_text()).public_key()) == first.stdout.strip()
    )


def test_the_development_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "audit-signing-key.pem"
    made = signing.development_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.key_id(signing.development_key(path).public_key()) == signing.key_id(
        made.public_key()
    )
