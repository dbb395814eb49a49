"""The start page: where a member of a workspace with no teams lands, with the templates and
a picture of each graph, the three patterns, creating a team, and "connect a model", which
stores the key as a secret bound to the provider's host and never shows it again."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import ModelConfig, Secret, TeamTemplate
from tests.factories import install_templates, make_team, minimal_spec

pytestmark = pytest.mark.django_db

KEY = "sk-proj-0123456789abcdefghijklmnop"


def test_a_workspace_without_teams_lands_on_the_start_page(
    alice: User, alice_client: Client
) -> None:
    assert alice_client.get("/").url == "/start/"
    make_team(alice, minimal_spec(name="First"))
    assert alice_client.get("/").url == "/teams/"  # with teams, the list as before
    assert alice_client.get("/start/").status_code == 200  # and the start page stays


def test_it_shows_each_template_with_a_picture_of_its_graph(alice_client: Client) -> None:
    install_templates()
    page = alice_client.get("/start/").content.decode()
    templates = list(TeamTemplate.objects.all())
    assert len(templates) == 4
    for template in templates:
        assert f'data-testid="start-template-{template.slug}"' in page
        assert f'aria-label="The graph of {template.name}"' in page
        for node in template.spec["nodes"][:1]:
            assert f">{node['name'][:15]}" in page  # its first node is drawn, named
    for pattern in ("Supervisor", "Pipeline", "Swarm"):
        assert f"<strong>{pattern}.</strong>" in page
        assert f'aria-label="A {pattern.lower()} team"' in page
    assert "<script" not in page.split("<main")[-1].split("</main>")[0]


def test_names_in_a_graph_picture_are_escaped(alice_client: Client) -> None:
    spec = minimal_spec(name="Hostile")
    spec["nodes"][0]["name"] = "<script>alert(1)</script>"
    TeamTemplate.objects.create(
        slug="hostile", name="<b>Hostile</b>", pattern="supervisor", spec=spec
    )
    page = alice_client.get("/start/").content.decode()
    assert "<script>alert(1" not in page and "&lt;script&gt;alert(1" in page  # truncated
    assert "<b>Hostile</b>" not in page


def test_connecting_a_model_stores_the_key_as_a_secret_bound_to_the_providers_host(
    alice: User, alice_client: Client
) -> None:
    response = alice_client.post(
        "/start/connect",
        {"preset": "openai", "model": "gpt-4.1-mini", "name": "gpt", "key": KEY},
    )
    assert response.status_code == 302 and response.url == "/start/#connect-a-model"
    config = ModelConfig.objects.get(name="gpt")
    secret = Secret.objects.get()
    assert (config.provider, config.base_url, config.secret) == (
        "openai", "https://api.openai.com/v1", secret,
    )  # fmt: skip
    assert secret.hosts == ["api.openai.com"] and secret.value() == KEY
    page = alice_client.get("/start/").content.decode()
    assert "Test connection" in page and f"/api/models/{config.pk}/test" in page
    assert KEY not in page and KEY[:12] not in page


def test_a_missing_key_or_resource_is_refused_with_what_to_do_and_nothing_kept(
    alice_client: Client,
) -> None:
    no_key = alice_client.post(
        "/start/connect", {"preset": "anthropic", "model": "claude-sonnet-4-5", "name": "c"}
    )
    assert no_key.status_code == 422 and "Anthropic needs a key" in no_key.content.decode()
    azure = alice_client.post(
        "/start/connect",
        {"preset": "azure-openai", "model": "my-deployment", "name": "az", "key": KEY},
    )
    page = azure.content.decode()
    assert azure.status_code == 422 and "needs a base URL like https://{resource}" in page
    assert KEY not in page  # the key is not sent back in the refused form
    assert not ModelConfig.objects.exists() and not Secret.objects.exists()


def test_a_refused_model_leaves_no_secret_behind(alice_client: Client) -> None:
    alice_client.post(
        "/start/connect", {"preset": "openai", "model": "m", "name": "gpt", "key": KEY}
    )
    again = alice_client.post(
        "/start/connect",
        {"preset": "openai", "model": "m", "name": "gpt", "key": "sk-other-99999999"},
    )
    assert again.status_code == 422
    assert Secret.objects.get().value() == KEY  # the first key is untouched
    assert ModelConfig.objects.count() == 1


def test_creating_a_team_from_the_start_page_opens_the_builder(alice_client: Client) -> None:
    page = alice_client.get("/start/").content.decode()
    assert 'action="/teams/"' in page and "Create and open the builder" in page
    response = alice_client.post("/teams/", {"name": "Mine", "pattern": "pipeline"})
    assert response.url.endswith("/builder/")
