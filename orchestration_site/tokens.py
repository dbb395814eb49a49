"""The one way the product makes and keeps bearer secrets (API tokens, sign-up and workspace
invitations): a recognisable prefix and 256 random bits, shown once; only the SHA-256 digest
is stored, so a database reader cannot use one. A plain hash is enough, unlike for passwords:
the token has 256 bits of entropy, so there is nothing to guess."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
