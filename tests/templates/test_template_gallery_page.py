"""The gallery page shows every template and its "Use this template" button makes a team."""

import pytest
from django.test import Client
from django.urls import reverse

from teams.models import Team, TeamTemplate
from teams.team_templates import render_about
from tests.factories import install_templates, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def gallery(db: None) -> None:
    install_templates()


def test_it_shows_each_template_with_a_use_button(alice_client: Client) -> None:
    response = alice_client.get(reverse("template-gallery"))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("Code review", "Monthly close", "Content production", "Support triage"):
        assert name in page
    assert page.count(">Use this template</button>") == 4
    # The description is Markdown, rendered: the pattern in bold, a tool name as code.
    assert "<strong>supervisor</strong>" in page
    assert "<code>lint_diff</code>" in page
    assert "Lead reviewer</strong>: Splits the review" in page


def test_raw_html_in_a_description_is_escaped() -> None:
    html = render_about("# Title\n\n<script>alert(1)</script> and **bold**")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html


def test_using_a_template_makes_a_team_and_opens_it(alice_client: Client) -> None:
    response = alice_client.post(reverse("template-use", args=["support-triage"]))
    team = Team.objects.get(owner__username="alice")
    assert team.name == "Support triage"
    assert response.status_code == 302
    assert str(team.pk) in response["Location"]


def test_using_needs_a_post_with_csrf() -> None:
    install_templates()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("bob"))
    assert client.get(reverse("template-use", args=["code-review"])).status_code == 405
    assert client.post(reverse("template-use", args=["code-review"])).status_code == 403
    assert Team.objects.count() == 0


def test_strangers_are_sent_to_log_in() -> None:
    response = Client().get(reverse("template-gallery"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_template_broken_by_hand_is_refused_with_a_message(alice_client: Client) -> None:
    template = TeamTemplate.objects.get(slug="code-review")
    template.spec = {**template.spec, "entry": "nobody"}
    template.save()

    response = alice_client.post(reverse("template-use", args=["code-review"]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("template-gallery")
    assert "cannot be used as it is" in response.content.decode()
    assert Team.objects.count() == 0
