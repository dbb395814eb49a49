"""Issue 18 as people meet it: an owner invites a colleague by link; the colleague accepts,
works in the shared workspace as a runner (runs a team and answers its question, but cannot
save it); an auditor lands on the runs, opens the audit trail and sees it verified, and finds
no way to edit the team."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from teams.services import create_team
from teams.spec import parse
from tests.browser import LiveServer, log_in
from tests.factories import approval_pipeline_spec, make_user
from workspaces.models import create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser: Browser, site: LiveServer) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=site.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_a_colleague_joins_runs_and_answers_while_an_auditor_only_reads(
    page: Page, browser: Browser, asgi_server: LiveServer
) -> None:
    olivia, carol, audrey = make_user("olivia"), make_user("carol"), make_user("audrey")
    acme = create_workspace("Acme", owner=olivia)
    spec = parse({**approval_pipeline_spec(), "name": "Launch note"})
    team, _ = create_team(olivia, spec, workspace=acme)

    # The owner makes an invitation link for a runner, and adds the auditor by name.
    log_in(page, olivia, asgi_server)
    page.goto(f"/workspaces/{acme.slug}/members/")
    page.locator("#invite_role").select_option("runner")
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.locator("#invitation-link").inner_text()
    page.locator("#member_username").fill("audrey")
    page.locator("#member_role").select_option("auditor")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator('tr[data-member="audrey"]')).to_contain_text("auditor")

    # The colleague opens the link, joins, and lands in the workspace.
    colleague = new_page(browser, asgi_server)
    log_in(colleague, carol, asgi_server)
    colleague.goto(link[link.index("/invitations/") :])
    colleague.get_by_role("button", name=re.compile("Join Acme")).click()
    expect(colleague).to_have_url(re.compile(r"/teams/$"))
    expect(colleague.locator("#workspace-switcher")).to_have_value(acme.slug)
    expect(colleague.locator(".topbar .role-badge")).to_have_text("runner")

    # As a runner: the builder has Run but no Save, and says why.
    colleague.goto(f"/teams/{team.pk}/builder/")
    expect(colleague.get_by_test_id("read-only")).to_contain_text(
        "needs the owner, admin or editor role"
    )
    expect(colleague.get_by_role("button", name=re.compile("Save a new version"))).to_have_count(0)
    expect(colleague.get_by_role("region", name="Palette")).to_have_count(0)
    colleague.get_by_role("button", name="Run the team").click()
    colleague.get_by_test_id("run-input").fill("a launch note")
    colleague.get_by_role("button", name="Start run").click()
    expect(colleague).to_have_url(re.compile(r"/runs/[0-9a-f-]+/$"), timeout=30_000)
    run_url = colleague.url
    box = colleague.get_by_role("form", name="Answer")
    expect(box).to_contain_text("Approve the draft?", timeout=30_000)
    box.get_by_label("Answer", exact=True).fill("Ship it")
    box.get_by_role("button", name="Send answer").click()
    expect(colleague.get_by_test_id("run-status")).to_have_text("succeeded", timeout=30_000)

    # The auditor switches to Acme and lands on its runs, not its teams.
    auditor = new_page(browser, asgi_server)
    log_in(auditor, audrey, asgi_server)
    auditor.goto("/")
    auditor.locator("#workspace-switcher").select_option(acme.slug)
    expect(auditor).to_have_url(re.compile(r"/runs/$"))
    expect(auditor.get_by_role("link", name="Teams", exact=True)).to_have_count(0)
    auditor.get_by_role("link", name="Audit trail").first.click()
    expect(auditor.locator("#verification")).to_contain_text("Hash chain verified")
    expect(auditor.locator("body")).to_contain_text("carol")  # who started it and answered
    # No way to edit the team: its pages answer 403 with the reason.
    for url in (f"/teams/{team.pk}/", f"/teams/{team.pk}/builder/"):
        response = auditor.goto(url)
        assert response is not None and response.status == 403
        expect(auditor.locator("body")).to_contain_text("needs the")
    # The run page: replay yes; rerun and fork (starting runs) no.
    assert auditor.goto(run_url.replace(asgi_server.url, "")).status == 200
    expect(auditor.get_by_role("button", name="Replay step by step")).to_be_visible()
    expect(auditor.get_by_role("button", name="Rerun with the same input")).to_have_count(0)
