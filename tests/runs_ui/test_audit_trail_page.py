"""The audit page lists every event and filters them by agent, type and text."""

import re

from django.test import Client

from tests.factories import append_event, make_run


def make_trail(owner):
    run = make_run(owner)
    append_event(run, "run.started", payload={"input": "compare prices"})
    append_event(run, "agent.started", "researcher", payload={"task": "find prices"})
    append_event(run, "tool.call", "researcher", payload={"tool": "search", "arguments": {}})
    append_event(run, "message", "writer", payload={"content": "Prices <b>rose</b> 4%"})
    return run


def rows(client: Client, run, query: str = "") -> str:
    response = client.get(f"/runs/{run.id}/audit/?{query}")
    assert response.status_code == 200
    return response.text


def test_it_lists_every_event_with_its_hash(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    html = rows(alice_client, run)
    for event in run.events.all():
        assert f'id="seq-{event.seq}"' in html
        assert event.hash[:12] in html
    assert "4 of 4 events shown" in html


def test_it_filters_by_agent_type_and_text(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    assert 'id="seq-2"' in rows(alice_client, run, "agent=researcher&type=agent.started")
    assert 'id="seq-3"' not in rows(alice_client, run, "agent=researcher&type=agent.started")
    html = rows(alice_client, run, "q=ROSE")
    assert 'id="seq-4"' in html
    assert "1 of 4 events shown" in html


def test_it_names_a_filter_it_cannot_read_and_applies_the_others(
    alice_client: Client, alice
) -> None:
    run = make_trail(alice)
    html = rows(alice_client, run, "agent=nobody&type=tool.call&q=" + "x" * 201)
    assert "not understood and are ignored (the others apply):" in html
    assert "Agent: Select a valid choice. nobody is not one of the available choices." in html
    assert "Text: Ensure this value has at most 200 characters (it has 201)." in html
    assert 'id="seq-3"' in html
    assert "1 of 4 events shown" in html
    # A NUL character, which PostgreSQL cannot search for, is named too, not a server error.
    assert "Text: Null characters are not allowed." in rows(alice_client, run, "q=%00")


def test_a_run_without_events_says_so_instead_of_verifying_nothing(
    alice_client: Client, alice
) -> None:
    html = rows(alice_client, make_run(alice))
    assert "No events recorded yet, so there is nothing to verify." in html
    assert "No events recorded yet: they appear here as the run goes." in html
    assert "No events match these filters." not in html


def test_every_time_is_a_full_date_with_its_time_zone(alice_client: Client, alice) -> None:
    html = rows(alice_client, make_trail(alice))
    times = re.findall(r"<td data-label=\"Time\"><time [^>]*>([^<]*)</time></td>", html)
    assert len(times) == 4
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", t) for t in times), times


def test_each_agent_and_type_is_offered_once(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    append_event(run, "message", "researcher", payload={"content": "more"})
    append_event(run, "message", "researcher", payload={"content": "again"})
    html = rows(alice_client, run)
    assert html.count('<option value="researcher"') == 1
    assert html.count('<option value="message"') == 1


def test_it_says_who_started_the_run_and_who_answered(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    append_event(run, "human.answered", key="h#answered", payload={"answer": "ok", "by": "carol"})
    html = rows(alice_client, run)
    assert re.search(r'data-testid="started-by">user alice<', html)
    assert re.search(r'data-testid="answered-by">carol \(event 5\)<', html)
    assert '<td data-label="Who" class="who">carol</td>' in html


def test_it_escapes_what_a_model_wrote(alice_client: Client, alice) -> None:
    html = rows(alice_client, make_trail(alice))
    assert "<b>rose</b>" not in html
    assert "&lt;b&gt;rose&lt;/b&gt;" in html


def test_it_links_the_exports_and_says_the_chain_is_intact(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    html = rows(alice_client, run)
    assert f'href="/api/runs/{run.id}/audit.jsonl"' in html
    assert f'href="/api/runs/{run.id}/audit.csv"' in html
    assert "Hash chain verified: all 4 events are intact." in html


def test_it_names_the_first_event_changed_after_it_was_written(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    run.events.filter(seq=3).update(payload={"tool": "search", "arguments": {"q": "edited"}})
    html = rows(alice_client, run)
    assert "Hash chain broken at event 3 of 4:" in html
    assert "it was changed after it was written" in html
    assert "Hash chain verified" not in html


def test_it_ignores_an_agent_filter_that_names_no_agent(alice_client: Client, alice) -> None:
    run = make_trail(alice)
    assert "4 of 4 events shown" in rows(alice_client, run, "agent=<script>")


def test_who_acted_reads_as_words_with_the_recorded_value_as_its_title(
    alice_client: Client, alice
) -> None:
    # A run started with API token 1, answered by a person.
    run = make_run(alice, started_by="token:1")
    append_event(run, "run.started", payload={"input": "go"})
    append_event(run, "human.answered", payload={"answer": "yes", "by": "alice"})
    html = rows(alice_client, run)
    who = re.findall(r'<td data-label="Who" class="who">(.*?)</td>', html)
    assert who == ['<span title="token:1">API token #1</span>', "alice"]
    # What was recorded (and hashed) is unchanged.
    assert run.events.get(seq=1).payload == {"input": "go"}
