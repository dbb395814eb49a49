"""Checking a call to a trigger's URL: its signature and the input in its body (its size is
``orchestration_site.bodies``'s, under ``TRIGGER_MAX_BODY_BYTES``).

The ``orchestrator`` scheme is our outgoing webhooks' (``runs.webhooks.sign``): the sender
puts the Unix time in ``X-Orchestrator-Timestamp`` and ``sha256=<hex HMAC-SHA256 over
"<timestamp>." + raw body>`` in ``X-Orchestrator-Signature``; a timestamp further than
``TRIGGER_SIGNATURE_TOLERANCE_S`` from now is refused, so a captured call cannot be replayed
later. The ``github`` scheme is GitHub's: ``X-Hub-Signature-256`` over the body alone, no
timestamp.

A replay of a call, whatever its ``Idempotency-Key``, carries the same signature, and a
signature that started a run returns that run (``actions.earlier_call``): under GitHub's
scheme that means the same body never starts a second run."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import jsonpointer
from django.conf import settings
from ninja.errors import HttpError

from runs.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from teams import credentials
from teams.services import too_deep, unstorable

from .models import Trigger

GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"


def new_secret() -> str:
    return "trsec_" + secrets.token_urlsafe(32)


def max_body_bytes() -> int:
    return int(getattr(settings, "TRIGGER_MAX_BODY_BYTES", 512 * 1024))


def tolerance_s() -> int:
    return int(getattr(settings, "TRIGGER_SIGNATURE_TOLERANCE_S", 300))


def verify(trigger: Trigger, headers: Mapping[str, str], body: bytes) -> str:
    """The call's signature when it is the trigger's; a 401 saying what is wrong otherwise."""
    secret = credentials.decrypt(trigger.secret_encrypted)
    if trigger.scheme == Trigger.Scheme.GITHUB:
        given = headers.get(GITHUB_SIGNATURE_HEADER) or ""
        expected = github_signature(secret, body)
        missing = f"Sign the body in {GITHUB_SIGNATURE_HEADER} (GitHub does, given the secret)."
    else:
        given = headers.get(SIGNATURE_HEADER) or ""
        timestamp = fresh_timestamp(headers.get(TIMESTAMP_HEADER))
        expected = sign(secret, timestamp, body)
        missing = f"Sign the call: {SIGNATURE_HEADER} over {TIMESTAMP_HEADER} and the body."
    if not given:
        raise HttpError(401, missing)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HttpError(
            401, "The signature does not match this trigger's secret and the body as sent."
        )
    return expected


def fresh_timestamp(raw: str | None) -> int:
    if not raw or not raw.isdigit() or len(raw) > 12:
        raise HttpError(401, f"Put the current Unix time (seconds) in {TIMESTAMP_HEADER}.")
    timestamp = int(raw)
    if abs(time.time() - timestamp) > tolerance_s():
        raise HttpError(
            401,
            f"{TIMESTAMP_HEADER} is more than {tolerance_s()} s from now: sign each call when "
            "you send it (and check the sender's clock).",
        )
    return timestamp


def github_signature(secret: str, body: bytes) -> str:
    """GitHub's ``X-Hub-Signature-256``: HMAC-SHA256 over the raw body alone."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse_pointer(pointer: str) -> jsonpointer.JsonPointer:
    try:
        return jsonpointer.JsonPointer(pointer)
    except jsonpointer.JsonPointerException as exc:
        raise ValueError(
            f"{pointer!r} is not a JSON pointer: start it with '/', e.g. '/pull_request' ({exc})."
        ) from None


def input_of(body: bytes, pointer: str) -> Any:
    """The run's input: the JSON body, or the part of it ``pointer`` names (a 422 if none)."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        raise HttpError(422, "The body is not JSON; send a JSON document.") from None
    except RecursionError:  # nested past Python's stack (a text/plain body: no middleware)
        raise HttpError(422, f"The body cannot be stored: {too_deep().message}") from None
    if problem := unstorable(document):
        raise HttpError(422, f"The body cannot be stored: {problem.message}")
    try:
        found = parse_pointer(pointer).resolve(document) if pointer else document
    except jsonpointer.JsonPointerException:
        raise HttpError(
            422, f"The body has nothing at {pointer}, where this trigger takes its input."
        ) from None
    if found is None:
        raise HttpError(
            422, f"The input (the body at {pointer or '/'}) is null; send {{}} for none."
        )
    return found
