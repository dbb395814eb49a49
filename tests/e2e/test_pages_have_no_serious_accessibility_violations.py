"""axe-core finds no serious or critical WCAG 2.1 AA violation on any page a person visits,
at a desktop and a phone width."""

import pytest
from playwright.sync_api import Page, expect

from conversations.actions import do_start_conversation
from publishing.actions import do_publish
from publishing.models import PublicationKey
from runs.models import Run
from tests.axe import axe_violations
from tests.factories import install_templates, make_run, make_team

pytestmark = pytest.mark.browser


def scored_experiment(alice, team) -> tuple[int, int]:
    """A dataset of two items and an experiment over it whose items are scored (so its
    comparison has charts)."""
    from evaluations import actions
    from evaluations.scorers import SPECS

    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": t}, expected=t) for t in "ab"])
    specs = SPECS.validate_python([{"kind": "exact"}])
    experiment = actions.do_start_experiment(alice, team.current_version(), dataset, specs, 1)
    experiment.items.update(
        status="done", output="a", scores={"exact": {"score": 1.0, "reason": "Same."}}
    )
    # Finished, so its page does not reload itself under the check.
    type(experiment).objects.filter(pk=experiment.pk).update(status="finished")
    return dataset.pk, experiment.pk


def pages(alice) -> list[str]:
    team = make_team(alice)
    run = make_run(alice, team=team, status=Run.Status.SUCCEEDED)
    dataset, experiment = scored_experiment(alice, team)
    PublicationKey.issue(do_publish(team, team.version, "a11y-desk", "", alice), "crm", alice)
    conversation = do_start_conversation(alice, team, team.current_version(), None)
    return [
        "/start/", "/teams/", f"/teams/{team.pk}/", f"/teams/{team.pk}/builder/",
        f"/teams/{team.pk}/automation/", "/runs/",
        f"/runs/{run.id}/", f"/runs/{run.id}/audit/", "/dashboard/", "/templates/",
        "/settings/tokens/", "/settings/models/", "/settings/secrets/", "/settings/tools/",
        "/datasets/", f"/datasets/{dataset}/", f"/datasets/{dataset}/experiment/",
        f"/experiments/{experiment}/", f"/experiments/compare/{experiment}/{experiment}/",
        f"/teams/{team.pk}/publish/",
        f"/teams/{team.pk}/conversations/", f"/conversations/{conversation.pk}/",
    ]  # fmt: skip


@pytest.mark.parametrize("width,height", [(1280, 720), (390, 844)])
def test_no_page_has_a_serious_violation(page: Page, alice, width, height):
    install_templates()
    page.set_viewport_size({"width": width, "height": height})
    found = {}
    for url in pages(alice):
        page.goto(url)
        expect(page.locator("main, #builder-root").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    assert found == {}


def test_the_login_page_has_no_serious_violation(anonymous_page: Page):
    anonymous_page.goto("/login/")
    assert axe_violations(anonymous_page) == []


def test_the_check_catches_a_button_without_a_name(page: Page, alice):
    # The check itself can fail: an unnamed button on the team list is reported.
    page.goto("/teams/")
    page.evaluate("document.querySelector('main').append(document.createElement('button'))")
    assert [v["id"] for v in axe_violations(page)] == ["button-name"]
