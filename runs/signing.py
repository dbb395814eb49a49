"""Ed25519 keys and signatures of audit heads, with no Django: the settings parse the keys
with it at start-up, and ``runs.heads`` signs and checks with them.

A signed head is a JSON object: ``format``, ``run`` (its id), ``seq`` and ``hash`` (of the
run's last event; 0 and 64 zeros for none), ``signed_at``, ``key_id`` and ``signature``, the
base64 Ed25519 signature of the canonical JSON (keys sorted, no spaces, UTF-8) of every other
member. ``docs/examples/verify_audit.py`` checks one with nothing but this description.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

HEAD_FORMAT = "agent-team-orchestrator/audit-head/1"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)
_GENERATE = 'generate one with: python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


class UnusableKey(ValueError):
    """A key in the environment that cannot be used, with what to do about it."""


def private_key(text: str, name: str = "AUDIT_SIGNING_KEY") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or from its 32 raw bytes in base64."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(_base64(text))
    except (ValueError, TypeError, binascii.Error):
        raise UnusableKey(
            f"{name} is not an Ed25519 private key: give it as PEM or as 32 bytes in base64 "
            f"({_GENERATE})."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UnusableKey(f"{name} is a {type(key).__name__}, not an Ed25519 key; {_GENERATE}.")
    return key


def public_keys(text: str, name: str = "AUDIT_VERIFY_KEYS") -> list[Ed25519PublicKey]:
    """Ed25519 public keys: PEM blocks, and 32-byte keys in base64 separated by commas or
    white space."""
    keys: list[Ed25519PublicKey] = []
    for block in _PEM_BLOCK.findall(text):
        key = _pem_public_key(block, name)
        keys.append(key)
    for token in re.split(r"[\s,]+", _PEM_BLOCK.sub(" ", text).strip()):
        if not token:
            continue
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(_base64(token)))
        except (ValueError, binascii.Error):
            raise UnusableKey(
                f"{name} holds {token[:12]!r}..., which is not an Ed25519 public key (PEM, or "
                "32 bytes in base64)."
            ) from None
    return keys


def _pem_public_key(block: str, name: str) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(block.encode())
    except ValueError:
        raise UnusableKey(f"{name} holds a PEM block that is not a public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UnusableKey(f"{name} holds a {type(key).__name__}, not an Ed25519 public key.")
    return key


def _base64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def development_key(path: Path) -> Ed25519PrivateKey:
    """The key kept in ``path`` for local use, made on first use (by one process: another
    that starts at the same time reads the same file)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        fresh.write_bytes(pem)
        fresh.chmod(0o600)
        try:
            os.link(fresh, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    return private_key(path.read_text(), str(path))


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the start of the sha256 of its 32 raw bytes."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def canonical(value: Any) -> bytes:
    """What is signed: the canonical JSON of the audit chain, as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_head(
    key: Ed25519PrivateKey, run_id: str, seq: int, hash_: str, signed_at: str
) -> dict[str, Any]:
    head = {
        "format": HEAD_FORMAT,
        "run": run_id,
        "seq": seq,
        "hash": hash_,
        "signed_at": signed_at,
        "key_id": key_id(key.public_key()),
    }
    signature = base64.b64encode(key.sign(canonical(head))).decode()
    return head | {"signature": signature}


def head_problem(head: Any, run_id: str, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why ``head`` is not a valid signed head of run ``run_id`` made with one of ``keys``
    (by key id), in a sentence; None if it is."""
    if not isinstance(head, dict) or head.get("format") != HEAD_FORMAT:
        return "The run's signed head is not in a form this version knows: it was altered."
    signed = {name: value for name, value in head.items() if name != "signature"}
    key = keys.get(str(head.get("key_id")))
    if key is None:
        return (
            f"The run's head was signed with a key this server does not know (key id "
            f"{head.get('key_id')}): it was not signed here, or with a key retired without "
            "being listed in AUDIT_VERIFY_KEYS."
        )
    try:
        key.verify(_base64(str(head.get("signature", ""))), canonical(signed))
    except (InvalidSignature, ValueError, binascii.Error):
        return (
            "The run's signed head does not match its signature: it was changed after it "
            "was signed."
        )
    if signed.get("run") != run_id:
        return "The signed head belongs to another run: it was copied onto this one."
    return None
