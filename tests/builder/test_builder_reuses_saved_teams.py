"""Each saved team is a block in the palette: dropped on the canvas it becomes a team node."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_team, minimal_spec, supervisor_spec

from .canvas import drop_from_palette, node, open_builder, save

pytestmark = pytest.mark.browser


def test_it_drops_a_saved_team_as_a_nested_team_node(page: Page, alice, alice_client: Client):
    research = make_team(alice, minimal_spec("swarm", name="Research desk"))
    team = make_team(alice, supervisor_spec())
    open_builder(page, team.pk)

    # The palette offers the other saved team (not the one being edited).
    expect(page.get_by_test_id(f"palette-team-{team.pk}")).to_have_count(0)
    drop_from_palette(page, f"team-{research.pk}", 560, 420)
    expect(node(page, "research-desk")).to_contain_text(f"saved team #{research.pk}")
    save(page)

    saved = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    nested = next(n for n in saved["nodes"] if n["id"] == "research-desk")
    assert nested == {
        "kind": "team",
        "id": "research-desk",
        "name": "Research desk",
        "role": "",
        "team_id": research.pk,
        "spec": None,
    }
