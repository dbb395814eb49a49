"""Single sign-on tests run against a real OpenID Connect provider on 127.0.0.1
(tests/support/oidc_provider.py), with the site's OIDC settings pointed at it."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require
from tests.support import oidc_provider
from tests.support.oidc_provider import ProviderProcess


def start_provider(redirect_bases: list[str]) -> ProviderProcess:
    require(
        oidc_provider.installed(),
        "needs node and the test OIDC provider: `make test` installs it "
        "(npm ci in tests/support/oidc)",
    )
    return ProviderProcess(redirect_bases)


@pytest.fixture(scope="session")
def provider() -> Iterator[ProviderProcess]:
    """The provider, for the Django test client (which calls itself http://testserver)."""
    process = start_provider(["http://testserver"])
    yield process
    process.stop()


def point_at(settings: Any, process: ProviderProcess, **overrides: Any) -> None:
    """The site's single sign-on settings, aimed at ``process``."""
    from accounts import oidc

    values = {
        "OIDC_ENABLED": True,
        "OIDC_ISSUER": process.issuer,
        "OIDC_RP_CLIENT_ID": oidc_provider.CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": oidc_provider.CLIENT_SECRET,
        "OIDC_BUTTON_LABEL": "Acme ID",
        "OIDC_ALLOWED_DOMAINS": [],
        "OIDC_CREATE_USERS": True,
        "OIDC_JOIN_WORKSPACE": "",
    }
    values.update(overrides)
    for name, value in values.items():
        setattr(settings, name, value)
    csp = settings.CONTENT_SECURITY_POLICY
    directives = {**csp["DIRECTIVES"], "form-action": ["'self'", process.origin]}
    settings.CONTENT_SECURITY_POLICY = {**csp, "DIRECTIVES": directives}
    oidc.forget()


@pytest.fixture
def sso(settings: Any, provider: ProviderProcess) -> Iterator[ProviderProcess]:
    """Single sign-on on, with the provider knowing nobody until the test says."""
    point_at(settings, provider)
    provider.set_accounts({})
    yield provider
    provider.set_accounts({})


def person(email: str, *, verified: bool = True, **claims: Any) -> dict[str, Any]:
    """A person's claims at the provider."""
    return {"email": email, "email_verified": verified, **claims}
