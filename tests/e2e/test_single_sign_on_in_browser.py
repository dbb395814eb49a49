"""A person with an account at the company's OpenID Connect provider (a real one, on
127.0.0.1) signs in from the log-in page in Chromium, lands logged in with a new account in the
configured workspace with the configured role, and logging out ends the provider's session
too."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from accounts.models import OIDCIdentity
from tests.browser import LiveServer
from tests.factories import make_user
from tests.support.oidc_provider import ProviderProcess, person, point_at, start_provider
from workspaces.models import Membership, create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(asgi_server: LiveServer, settings: Any) -> Iterator[ProviderProcess]:
    process = start_provider([asgi_server.url])
    point_at(settings, process)
    yield process
    process.stop()


def log_in_at_provider(page: Page, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("whatever the provider checks")
    page.get_by_role("button", name="Sign-in").click()


def test_a_person_signs_in_with_the_provider_and_out_again(
    page: Page, provider: ProviderProcess, settings: Any, asgi_server: LiveServer
) -> None:
    settings.SIGNUP = "closed"
    acme = create_workspace("Acme", owner=make_user("boss"))
    settings.OIDC_JOIN_WORKSPACE = acme.slug
    settings.OIDC_JOIN_ROLE = "runner"
    provider.set_accounts({"sub-ann-1": person("ann@acme.test", preferred_username="ann")})

    # the log-in page offers the provider next to the password form
    page.goto("/runs/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Sign in with Acme ID").click()

    # at the provider, then back here, logged in where she was going
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page.url.startswith(provider.issuer)
    log_in_at_provider(page, "sub-ann-1")
    expect(page.locator(".topbar .who")).to_have_text("ann")
    assert page.url == f"{asgi_server.url}/runs/"

    ann = User.objects.get(username="ann")
    assert ann.email == "ann@acme.test"
    assert OIDCIdentity.objects.get(user=ann).subject == "sub-ann-1"
    assert Membership.objects.get(workspace=acme, user=ann).role == "runner"

    # logging out here ends the provider's session too, and comes back to the log-in page
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url.startswith(f"{asgi_server.url}/login/")
    page.goto("/teams/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # signing in again asks the provider for her log-in again
    page.get_by_role("link", name="Sign in with Acme ID").click()
    expect(page.locator("input[name=login]")).to_be_visible()


def test_a_refusal_is_explained_on_the_log_in_page(page: Page, provider: ProviderProcess) -> None:
    provider.set_accounts({"sub-una": person("una@acme.test", verified=False)})

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    log_in_at_provider(page, "sub-una")

    expect(page.get_by_text("Your provider has not verified the e-mail address")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert not User.objects.exists()
