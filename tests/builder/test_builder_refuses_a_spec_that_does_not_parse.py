"""A spec the server cannot parse is not saved, the user is told why, and nothing typed is lost."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_team, supervisor_spec

from .canvas import node, open_builder

pytestmark = pytest.mark.browser


def test_it_keeps_the_edit_and_the_last_version_when_a_save_is_refused(
    page: Page, alice, alice_client: Client
):
    team = make_team(alice, supervisor_spec())
    open_builder(page, team.pk)

    # An agent without a name does not parse: the problem appears on that node.
    node(page, "worker").click()
    page.get_by_test_id("field-name").fill("")
    expect(page.get_by_test_id("node-problems-worker")).to_be_visible()

    page.get_by_role("button", name="Save a new version (Ctrl+S)").click()
    expect(page.get_by_test_id("status")).to_contain_text("Not saved")
    expect(page.get_by_test_id("field-name")).to_have_value("")
    expect(page.get_by_text("unsaved", exact=True)).to_be_visible()
    assert alice_client.get(f"/api/teams/{team.pk}").json()["version"] == 1
