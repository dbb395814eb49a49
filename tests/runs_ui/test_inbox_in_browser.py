"""In a real Chromium: the inbox lists the questions waiting for the person, the top bar counts
them on every page and keeps counting while a page is open, and a new question makes a browser
notification, once the person allowed it with a click (never asked unprompted)."""

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.factories import append_event, make_run, make_user

pytestmark = pytest.mark.browser

# A stand-in for the browser's Notification that records what the page shows, with the
# permission the test chooses: headless Chromium shows none to look at. It also counts the
# page's looks at the inbox: a question is new only to a page that looked before it came.
FAKE_NOTIFICATION = """
window.__notes = []; window.__asked = 0; window.__looks = 0;
document.addEventListener("inbox:changed", () => { window.__looks += 1; });
window.Notification = class {
  static permission = %r;
  static async requestPermission() { window.__asked += 1; this.permission = "granted"; return "granted"; }
  constructor(title, options) { window.__notes.push({ title, body: options.body }); }
};
"""


def asking(owner, prompt: str, team_name: str = "Refunds") -> Run:
    run = make_run(owner, status=Run.Status.WAITING, team_name=team_name, waiting_for="k")
    append_event(run, "run.started", payload={"input": run.input})
    append_event(
        run, "human.requested", "approver", payload={"activity_key": "k", "prompt": prompt}
    )
    return run


def first_look(page: Page) -> None:
    """Wait for the page's first look at the inbox (under load it can come after the test's
    next step, and a question already there at the first look is not new)."""
    page.wait_for_function("() => window.__looks > 0", timeout=10_000)


@pytest.fixture
def quick_poll(settings) -> None:
    settings.INBOX_POLL_SECONDS = 1


def test_the_inbox_lists_questions_with_a_way_to_answer(page: Page) -> None:
    run = asking(page.user, "Approve the refund of 40 EUR?")
    asking(make_user("bob"), "Bob's own question")
    page.goto("/teams/")
    expect(page.locator("#inbox-count")).to_have_text("1")

    page.get_by_role("link", name="Inbox").click()
    questions = page.get_by_role("list", name="Questions waiting for you").get_by_role("listitem")
    expect(questions).to_have_count(1)
    expect(questions).to_contain_text("Approve the refund of 40 EUR?")
    expect(questions).to_contain_text("started by alice")
    questions.get_by_role("link", name="Answer").click()
    page.wait_for_url(f"**/runs/{run.id}/")
    expect(page.get_by_text("Approve the refund of 40 EUR?").first).to_be_visible()


def test_nothing_waiting_says_so_and_shows_no_count(page: Page) -> None:
    page.goto("/inbox/")
    expect(page.locator("#inbox-count")).to_be_hidden()
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()


def test_a_new_question_counts_and_notifies_while_a_page_is_open(page: Page, quick_poll) -> None:
    page.add_init_script(FAKE_NOTIFICATION % "granted")
    page.goto("/runs/")
    expect(page.locator("#inbox-count")).to_be_hidden()
    first_look(page)  # which knows of no question

    asking(page.user, "Publish the post?", team_name="Blog")
    expect(page.locator("#inbox-count")).to_have_text("1", timeout=10_000)
    page.wait_for_function("() => window.__notes.length === 1")
    assert page.evaluate("window.__notes") == [
        {"title": "Blog asks for you", "body": "Publish the post?"}
    ]
    # The same question is not announced twice.
    page.wait_for_timeout(2500)
    assert page.evaluate("window.__notes.length") == 1


def test_notifications_are_asked_for_only_on_a_click(page: Page, quick_poll) -> None:
    page.add_init_script(FAKE_NOTIFICATION % "default")
    page.goto("/inbox/")
    button = page.get_by_role("button", name="Notify me of new questions")
    expect(button).to_be_visible()
    assert page.evaluate("window.__asked") == 0

    button.click()
    expect(page.get_by_role("status")).to_contain_text("You are notified when a new question")
    expect(button).to_be_hidden()
    assert page.evaluate("window.__asked") == 1
    # Nothing existed before the click: a question arriving now is announced.
    first_look(page)
    asking(page.user, "Ship it?")
    page.wait_for_function("() => window.__notes.length === 1", timeout=10_000)
