"""Single sign-on tests run against a real OpenID Connect provider on 127.0.0.1
(tests/support/oidc_provider.py), with the site's OIDC settings pointed at it."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.oidc_provider import ProviderProcess, point_at, start_provider


@pytest.fixture(scope="session")
def provider() -> Iterator[ProviderProcess]:
    """The provider, for the Django test client (which calls itself http://testserver)."""
    process = start_provider(["http://testserver"])
    yield process
    process.stop()


@pytest.fixture
def sso(settings: Any, provider: ProviderProcess) -> Iterator[ProviderProcess]:
    """Single sign-on on, with the provider knowing nobody until the test says."""
    point_at(settings, provider)
    provider.set_accounts({})
    yield provider
    provider.set_accounts({})
