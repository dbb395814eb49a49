"""Starting from a template: a built-in starter per pattern, or a team of the gallery."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from teams.models import TeamTemplate
from tests.factories import install_templates, make_team, minimal_spec

from .canvas import open_builder, press, save

pytestmark = pytest.mark.browser


def test_it_replaces_the_canvas_with_a_gallery_template_keeping_the_name(
    page: Page, alice, alice_client: Client
):
    install_templates()
    template = TeamTemplate.objects.order_by("position").first()
    assert template is not None
    team = make_team(alice, minimal_spec(name="My desk"))
    open_builder(page, team.pk)

    page.get_by_label("Start from a template").select_option(f"gallery:{template.slug}")
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(len(template.spec["nodes"]))
    expect(page.get_by_test_id("pattern")).to_have_value(template.pattern)
    save(page)
    spec = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    assert spec["name"] == "My desk"
    assert [n["id"] for n in spec["nodes"]] == [n["id"] for n in template.spec["nodes"]]

    # Undo brings the team back as it was.
    press(page, "Control+z")
    expect(nodes).to_have_count(1)


def test_it_offers_a_starter_for_each_pattern(page: Page, alice):
    team = make_team(alice, minimal_spec(name="Blank"))
    open_builder(page, team.pk)
    page.get_by_label("Start from a template").select_option(label="Pipeline with a review gate")
    expect(page.get_by_test_id("pattern")).to_have_value("pipeline")
    expect(page.get_by_test_id("edge-label-draft-publish")).to_contain_text("gate: reviewer")
