"""Every HTML page sends a Content-Security-Policy that allows scripts, styles and connections
only from this origin, and no page relies on what it forbids (inline scripts, event-handler
attributes, style attributes), so the policy costs nothing that works."""

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runs.models import Run
from tests.factories import make_run, make_team, make_user

pytestmark = pytest.mark.django_db


class InlineCode(HTMLParser):
    """Collects what a strict policy blocks: script elements without src (other than JSON
    data), on* attributes and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.found += [f"<{tag} {n}=...>" for n in named if n.startswith("on") or n == "style"]
        if tag == "script" and "src" not in named and named.get("type") != "application/json":
            self.found.append("<script> without src")


def directives(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def pages(user: User) -> list[str]:
    team = make_team(user)
    run = make_run(user, team=team, status=Run.Status.SUCCEEDED)
    return [
        "/start/", "/teams/", f"/teams/{team.id}/", f"/teams/{team.id}/builder/", "/runs/",
        f"/runs/{run.id}/", f"/runs/{run.id}/audit/", "/dashboard/", "/templates/",
        "/settings/tokens/", "/settings/models/", "/settings/tools/", "/api/docs",
        f"/teams/{team.id}/publish/",
    ]  # fmt: skip


def test_every_page_has_a_strict_policy_and_no_inline_code(
    alice: User, alice_client: Client
) -> None:
    for url in ["/login/", *pages(alice)]:
        client = Client() if url == "/login/" else alice_client
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["script-src"] == "script-src 'self'", url
        # Styles: this origin, plus a fresh nonce on the builder for its code editor's own
        # style element; never 'unsafe-inline'.
        if url.endswith("/builder/"):
            nonce = re.search(r'data-style-nonce="([^"]+)"', response.content.decode())
            assert nonce and policy["style-src"] == f"style-src 'self' 'nonce-{nonce[1]}'", url
        else:
            assert policy["style-src"] == "style-src 'self'", url
        assert policy["object-src"] == "object-src 'none'", url
        assert "unsafe" not in response["Content-Security-Policy"], url
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], (url, parser.found)


def test_the_policy_lets_the_run_page_open_its_websocket(settings: Any) -> None:
    # the SITE_URL the settings were read with decides the websocket origin
    policy = directives(Client().get("/login/"))["connect-src"]
    origin = re.sub(r"^http", "ws", settings.SITE_URL.rstrip("/"))
    assert policy.split()[1:] == ["'self'", origin]


def test_an_artifact_keeps_its_own_stricter_policy(tmp_path: Any, settings: Any) -> None:
    from django.core.files.base import ContentFile

    from runs.models import Artifact

    settings.MEDIA_ROOT = tmp_path
    alice = make_user("carol")
    run = make_run(alice)
    artifact = Artifact(run=run, name="page.html", content_type="text/html", size=4, sha256="0")
    artifact.file.save("page.html", ContentFile(b"<b>"), save=True)
    client = Client()
    client.force_login(alice)
    response = client.get(f"/api/artifacts/{artifact.id}")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
