"""Log-in through the OpenID Connect provider: a new person gets an account (whatever SIGNUP
says), a returning one the same account, found by the provider's `sub` and never by e-mail;
unverified addresses, other domains and forged callbacks get nobody in."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import OIDCIdentity
from accounts.sso import DOMAIN, EMAIL_TAKEN, NO_NEW_ACCOUNTS, UNVERIFIED
from accounts.sso_views import FAILED, UNREACHABLE
from tests.factories import PASSWORD, make_user
from tests.support.oidc_provider import ProviderProcess, person
from workspaces.models import Membership, Workspace, create_workspace

pytestmark = pytest.mark.django_db


def sign_in(client: Client, provider: ProviderProcess, login: str, next_url: str = "") -> Any:
    """Clicks "Sign in with", logs in at the provider as ``login``, comes back."""
    start = client.get("/oidc/start/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    assert start["Location"].startswith(provider.issuer)
    return client.get(provider.sign_in(start["Location"], login))


def shown(client: Client, response: Any) -> str:
    """The page a redirect lands on, as the person sees it."""
    assert response.status_code == 302, response
    return client.get(response["Location"]).content.decode()


def logged_in_as(client: Client) -> str | None:
    response = client.get("/teams/")
    return response.context["user"].username if response.status_code == 200 else None


def test_it_makes_an_account_for_a_new_person_though_sign_up_is_closed(
    sso: ProviderProcess, settings: Any
) -> None:
    settings.SIGNUP = "closed"
    sso.set_accounts({"ann": person("Ann@Example.org", preferred_username="ann")})
    client = Client()

    response = sign_in(client, sso, "ann", next_url="/runs/")

    # back where she was going, logged in, with an account that has no password
    assert response.status_code == 302 and response["Location"] == "/runs/"
    assert logged_in_as(client) == "ann"
    ann = User.objects.get(username="ann")
    assert ann.email == "Ann@example.org"  # Django lower-cases the domain
    assert not ann.has_usable_password()
    identity = OIDCIdentity.objects.get(user=ann)
    assert (identity.issuer, identity.subject) == (sso.issuer, "ann")


def test_a_second_log_in_is_the_same_account_though_the_address_changed(
    sso: ProviderProcess,
) -> None:
    sso.set_accounts({"ann": person("ann@example.org")})
    sign_in(Client(), sso, "ann")
    # the provider's account moves to a new address, and logs in again
    sso.set_accounts({"ann": person("ann@new.example.org")})
    client = Client()
    sign_in(client, sso, "ann")

    assert logged_in_as(client) == "ann"
    assert User.objects.count() == 1
    assert User.objects.get().email == "ann@new.example.org"


def test_an_address_taken_over_at_the_provider_does_not_take_over_the_account(
    sso: ProviderProcess,
) -> None:
    victim = make_user("victor", email="victor@example.org", is_staff=True)
    # mallory signs in once with her own address ...
    sso.set_accounts({"mallory": person("mallory@example.org")})
    sign_in(Client(), sso, "mallory")
    # ... then sets (and verifies) victor's address and victor's username at the provider
    sso.set_accounts({"mallory": person("victor@example.org", preferred_username="victor")})
    client = Client()
    sign_in(client, sso, "mallory")

    # she is still mallory; victor's account and address are his alone
    assert logged_in_as(client) == "mallory"
    assert User.objects.get(username="mallory").email == "mallory@example.org"
    victim.refresh_from_db()
    assert victim.email == "victor@example.org"
    assert not victim.oidc_identities.exists()


def test_a_new_provider_account_with_a_local_accounts_address_is_refused(
    sso: ProviderProcess,
) -> None:
    make_user("victor", email="victor@example.org")
    sso.set_accounts({"eve": person("VICTOR@example.org", preferred_username="victor")})
    client = Client()

    page = shown(client, sign_in(client, sso, "eve"))

    assert EMAIL_TAKEN.format(email="VICTOR@example.org") in page.replace("&#x27;", "'")
    assert logged_in_as(client) is None
    assert User.objects.count() == 1 and not OIDCIdentity.objects.exists()


def test_a_wanted_username_that_is_taken_gets_a_free_one(sso: ProviderProcess) -> None:
    make_user("admin", email="root@example.org")
    sso.set_accounts({"x": person("x@example.org", preferred_username="Admin")})
    client = Client()
    sign_in(client, sso, "x")

    assert logged_in_as(client) == "admin-2"
    assert User.objects.get(username="admin").email == "root@example.org"


def test_an_unverified_address_gets_nobody_in(sso: ProviderProcess) -> None:
    sso.set_accounts({"una": person("una@example.org", verified=False)})
    client = Client()

    page = shown(client, sign_in(client, sso, "una"))

    assert UNVERIFIED.format(email="una@example.org") in page.replace("&#x27;", "'")
    assert logged_in_as(client) is None
    assert not User.objects.exists()


def test_only_the_allowed_domains_get_in(sso: ProviderProcess, settings: Any) -> None:
    settings.OIDC_ALLOWED_DOMAINS = ["acme.test"]
    sso.set_accounts(
        {
            "out": person("out@evil.test"),
            "sub": person("sub@mail.acme.test"),
            "in": person("in@ACME.test"),
        }
    )
    outsider = Client()
    assert DOMAIN.format(domain="evil.test") in shown(outsider, sign_in(outsider, sso, "out"))
    # an allowed domain's subdomain is another domain
    other = Client()
    assert DOMAIN.format(domain="mail.acme.test") in shown(other, sign_in(other, sso, "sub"))
    insider = Client()
    sign_in(insider, sso, "in")

    assert logged_in_as(outsider) is None and logged_in_as(other) is None
    assert logged_in_as(insider) == "in"
    # a domain dropped from the list later locks its people out on their next log-in
    settings.OIDC_ALLOWED_DOMAINS = ["example.org"]
    again = Client()
    sign_in(again, sso, "in")
    assert logged_in_as(again) is None


def test_with_new_accounts_off_only_linked_identities_get_in(
    sso: ProviderProcess, settings: Any
) -> None:
    settings.OIDC_CREATE_USERS = False
    bob = make_user("bob")
    OIDCIdentity.objects.create(user=bob, issuer=sso.issuer, subject="bob")
    sso.set_accounts({"bob": person("bob@example.org"), "new": person("n@x.org")})
    newcomer = Client()
    assert NO_NEW_ACCOUNTS in shown(newcomer, sign_in(newcomer, sso, "new")).replace("&#x27;", "'")
    client = Client()
    sign_in(client, sso, "bob")

    assert logged_in_as(newcomer) is None
    assert logged_in_as(client) == "bob"


def test_a_switched_off_account_stays_out(sso: ProviderProcess) -> None:
    sso.set_accounts({"ann": person("ann@example.org")})
    earlier = Client()
    sign_in(earlier, sso, "ann")
    assert logged_in_as(earlier) == "ann"
    User.objects.filter(username="ann").update(is_active=False)
    client = Client()
    sign_in(client, sso, "ann")

    assert logged_in_as(client) is None
    # the session she already had ends too
    assert logged_in_as(earlier) is None


def test_a_forged_or_replayed_callback_gets_nobody_in(sso: ProviderProcess) -> None:
    sso.set_accounts({"ann": person("ann@example.org")})
    client = Client()
    start = client.get("/oidc/start/")
    callback = sso.sign_in(start["Location"], "ann")
    # the code handed to another browser (no state in its session) is refused
    thief = Client()
    assert FAILED in shown(thief, thief.get(callback))
    # a state this browser never started is refused, without a 500
    forged = callback.replace("state=", "state=x")
    assert FAILED in shown(client, client.get(forged))
    # the real one works once, and not a second time
    client.get(callback)
    assert logged_in_as(client) == "ann"
    client.logout()
    client.get(callback)
    assert logged_in_as(client) is None
    assert logged_in_as(thief) is None


def test_the_provider_saying_no_is_shown(sso: ProviderProcess) -> None:
    client = Client()
    client.get("/oidc/start/")
    page = shown(client, client.get("/oidc/callback/?error=access_denied&state=whatever"))

    assert "did not let you in (access_denied)" in page


def test_a_provider_that_is_down_is_said_so(sso: ProviderProcess, settings: Any) -> None:
    from accounts import oidc

    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard: nothing listens
    oidc.forget()
    client = Client()

    page = shown(client, client.get("/oidc/start/"))

    assert UNREACHABLE in page
    # the log-in page itself still works, passwords too
    make_user("alice")
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    assert logged_in_as(client) == "alice"


def test_the_log_in_page_offers_the_provider_and_passwords(sso: ProviderProcess) -> None:
    make_user("alice")
    client = Client()

    page = client.get("/login/?next=/runs/").content.decode()

    assert "Sign in with Acme ID" in page
    assert 'href="/oidc/start/?next=/runs/"' in page
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_as(client) == "alice"


def test_without_single_sign_on_there_is_no_button_and_no_flow(settings: Any) -> None:
    settings.OIDC_ENABLED = False
    client = Client()

    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/oidc/start/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_an_account_made_by_single_sign_on_has_no_password_to_guess(
    sso: ProviderProcess,
) -> None:
    sso.set_accounts({"ann": person("ann@example.org")})
    sign_in(Client(), sso, "ann")
    client = Client()

    for guess in ("", "ann", "!"):
        client.post("/login/", {"username": "ann", "password": guess})
    assert logged_in_as(client) is None


def test_an_identity_the_operator_links_in_the_admin_logs_in_to_that_account(
    sso: ProviderProcess,
) -> None:
    make_user("root", is_staff=True, is_superuser=True)
    victor = make_user("victor", email="victor@example.org")
    admin = Client()
    admin.login(username="root", password=PASSWORD)
    # single sign-on refuses to take over victor's account by his address ...
    sso.set_accounts({"v-sub": person("victor@example.org")})
    refused = Client()
    sign_in(refused, sso, "v-sub")
    assert logged_in_as(refused) is None
    # ... until the operator links his provider identity to it
    response = admin.post(
        "/admin/accounts/oidcidentity/add/",
        {"user": victor.pk, "issuer": sso.issuer, "subject": "v-sub"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client()
    sign_in(client, sso, "v-sub")

    assert logged_in_as(client) == "victor"


def test_a_discovery_document_of_another_issuer_is_not_trusted(
    sso: ProviderProcess, settings: Any
) -> None:
    from accounts import oidc

    # the same server under another name: its document names the issuer it really is
    settings.OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")
    oidc.forget()
    client = Client()

    assert UNREACHABLE in shown(client, client.get("/oidc/start/"))


def test_an_id_token_from_another_issuer_is_refused(sso: ProviderProcess, settings: Any) -> None:
    from accounts import oidc

    # endpoints given by hand that belong to a provider other than the configured issuer
    document = oidc.discovery()
    settings.OIDC_ISSUER = "https://id.example.com"
    settings.OIDC_AUTHORIZATION_ENDPOINT = document["authorization_endpoint"]
    settings.OIDC_TOKEN_ENDPOINT = document["token_endpoint"]
    settings.OIDC_USERINFO_ENDPOINT = document["userinfo_endpoint"]
    settings.OIDC_JWKS_ENDPOINT = document["jwks_uri"]
    sso.set_accounts({"ann": person("ann@example.org")})
    client = Client()

    assert FAILED in shown(client, sign_in(client, sso, "ann"))
    assert logged_in_as(client) is None
    assert not User.objects.exists()


def test_a_next_address_off_this_site_is_not_followed(sso: ProviderProcess) -> None:
    sso.set_accounts({"ann": person("ann@example.org")})
    client = Client()

    response = sign_in(client, sso, "ann", next_url="https://evil.example/phish")

    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_as(client) == "ann"


def test_a_new_person_joins_the_configured_workspace_with_the_configured_role(
    sso: ProviderProcess, settings: Any
) -> None:
    acme = create_workspace("Acme", owner=make_user("boss"))
    settings.OIDC_JOIN_WORKSPACE = acme.slug
    settings.OIDC_JOIN_ROLE = "runner"
    sso.set_accounts({"ann": person("ann@example.org")})
    sign_in(Client(), sso, "ann")

    ann = User.objects.get(username="ann")
    assert Membership.objects.get(workspace=acme, user=ann).role == "runner"
    # and she has her personal workspace, as every account does
    assert Membership.objects.get(workspace__personal_for=ann).role == "owner"
    # a role the workspace's owner changes later stays as they set it at her next log-in
    Membership.objects.filter(workspace=acme, user=ann).update(role="editor")
    client = Client()
    sign_in(client, sso, "ann")
    assert logged_in_as(client) == "ann"
    assert Membership.objects.get(workspace=acme, user=ann).role == "editor"


def test_a_workspace_to_join_that_does_not_exist_makes_no_half_account(
    sso: ProviderProcess, settings: Any
) -> None:
    settings.OIDC_JOIN_WORKSPACE = "no-such-team"
    sso.set_accounts({"ann": person("ann@example.org")})
    client = Client()

    page = shown(client, sign_in(client, sso, "ann"))

    assert "the workspace &quot;no-such-team&quot;, which does not exist" in page
    assert logged_in_as(client) is None
    assert not User.objects.exists() and not Workspace.objects.exists()
