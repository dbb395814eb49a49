"""``GET /api/templates`` lists the gallery; instantiating makes a team of the caller's own."""

import pytest
from django.test import Client

from teams.models import Team, TeamTemplate
from tests.factories import install_templates, make_token, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def gallery(db: None) -> None:
    install_templates()


def test_it_lists_the_templates_with_spec_and_sample_input(alice_client: Client) -> None:
    response = alice_client.get("/api/templates")
    assert response.status_code == 200
    listed = {t["slug"]: t for t in response.json()}
    assert set(listed) == {"code-review", "monthly-close", "content-production", "support-triage"}
    triage = listed["support-triage"]
    assert triage["pattern"] == "swarm"
    assert triage["spec"]["entry"] == "intake"
    assert triage["sample_input"] and triage["about"]


def test_instantiating_makes_a_valid_team_for_the_caller(alice_client: Client) -> None:
    response = alice_client.post(
        "/api/templates/code-review/instantiate", {}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    team = Team.objects.get(pk=body["id"])
    assert team.owner.username == "alice"
    assert (team.name, team.pattern, team.version, team.is_valid) == (
        "Code review", "supervisor", 1, True,
    )  # fmt: skip
    template = TeamTemplate.objects.get(slug="code-review")
    assert team.spec == template.spec == body["spec"]
    assert team.current_version().message.startswith("Made from the template")


def test_the_new_team_can_be_named_and_is_independent_of_the_template(
    alice_client: Client,
) -> None:
    response = alice_client.post(
        "/api/templates/monthly-close/instantiate",
        {"name": "October close"},
        content_type="application/json",
    )
    team = Team.objects.get(pk=response.json()["id"])
    assert team.name == team.spec["name"] == "October close"
    # Reinstalling the gallery leaves a team made from it alone.
    install_templates()
    team.refresh_from_db()
    assert team.name == "October close"


def test_an_unknown_template_is_a_clear_404(alice_client: Client) -> None:
    response = alice_client.post("/api/templates/nope/instantiate")
    assert response.status_code == 404
    assert "GET /api/templates" in response.json()["detail"]
    assert Team.objects.count() == 0


def test_a_bad_body_is_refused_and_makes_no_team(alice_client: Client) -> None:
    response = alice_client.post(
        "/api/templates/code-review/instantiate", {"name": ""}, content_type="application/json"
    )
    assert response.status_code == 422
    assert Team.objects.count() == 0


def test_strangers_may_neither_list_nor_instantiate() -> None:
    install_templates()
    client = Client()
    assert client.get("/api/templates").status_code == 401
    assert client.post("/api/templates/code-review/instantiate").status_code == 401
    assert Team.objects.count() == 0


def test_a_body_that_is_not_json_is_refused(alice_client: Client) -> None:
    response = alice_client.post(
        "/api/templates/code-review/instantiate", "{name", content_type="application/json"
    )
    assert response.status_code == 400
    assert Team.objects.count() == 0


def test_a_bearer_token_works_too() -> None:
    install_templates()
    token = make_token(make_user("carol"))
    # No body at all: the template's own name is kept.
    response = Client().post(
        "/api/templates/support-triage/instantiate",
        "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    team = Team.objects.get(pk=response.json()["id"])
    assert (team.owner.username, team.name) == ("carol", "Support triage")


def test_a_template_broken_by_hand_answers_422_with_its_problems(alice_client: Client) -> None:
    template = TeamTemplate.objects.get(slug="code-review")
    template.spec = {**template.spec, "entry": "nobody"}
    template.save()

    response = alice_client.post("/api/templates/code-review/instantiate")

    assert response.status_code == 422
    assert "unknown_entry" in {p["code"] for p in response.json()["problems"]}
    assert Team.objects.count() == 0
