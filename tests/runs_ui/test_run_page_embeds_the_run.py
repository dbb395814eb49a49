"""The live run page embeds the run as JSON, safely, with the question a waiting run asks."""

import json
import re

from django.test import Client

from runs.engine.interfaces import answer_key
from runs.models import Run
from tests.factories import append_event, make_run


def embedded_run(html: str) -> dict:
    match = re.search(r'<script id="run-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page embeds the run"
    return json.loads(match.group(1))


def test_it_embeds_the_run_summary_for_the_script(alice_client: Client, alice) -> None:
    run = make_run(alice, status=Run.Status.RUNNING, input_tokens=12, output_tokens=34)
    append_event(run, "run.started")
    response = alice_client.get(f"/runs/{run.id}/")
    assert response.status_code == 200
    data = embedded_run(response.text)
    assert data["id"] == str(run.id)
    assert data["status"] == "running"
    assert (data["input_tokens"], data["output_tokens"], data["last_seq"]) == (12, 34, 1)
    assert data["pending_human"] is None
    assert 'id="run-root"' in response.text


def test_it_escapes_model_text_in_the_embedded_json(alice_client: Client, alice) -> None:
    evil = "</script><script>alert(1)</script>"
    run = make_run(alice, input={"task": evil}, output=evil, status=Run.Status.SUCCEEDED)
    response = alice_client.get(f"/runs/{run.id}/")
    assert "<script>alert(1)" not in response.text
    assert embedded_run(response.text)["output"] == evil


def test_it_gives_a_waiting_run_its_unanswered_question(alice_client: Client, alice) -> None:
    run = make_run(alice, status=Run.Status.WAITING)
    schema = {"type": "object", "properties": {"approve": {"type": "boolean"}}}
    # An answered question, then the open one.
    append_event(run, "human.requested", payload={"activity_key": "h1", "prompt": "First?"})
    append_event(
        run,
        "human.answered",
        key=answer_key("h1"),
        payload={"activity_key": "h1", "answer": "yes"},
    )
    append_event(
        run,
        "human.requested",
        payload={
            "activity_key": "h2",
            "node": "editor",
            "prompt": "Publish?",
            "answer_schema": schema,
            "kind": "human",
        },
    )
    pending = embedded_run(alice_client.get(f"/runs/{run.id}/").text)["pending_human"]
    assert pending == {
        "activity_key": "h2",
        "node": "editor",
        "prompt": "Publish?",
        "answer_schema": schema,
        "kind": "human",
    }


def test_it_embeds_the_agents_names_nested_teams_included(alice_client: Client, alice) -> None:
    evil = "</script><script>alert(1)</script>"
    inner = {"nodes": [{"kind": "agent", "id": "figures", "name": "Figures desk"}]}
    spec = {
        "name": "Close",
        "pattern": "supervisor",
        "nodes": [
            {"kind": "agent", "id": "lead", "name": evil},
            {"kind": "team", "id": "reporting", "name": "Reporting", "spec": inner},
            {"kind": "human", "id": "cfo", "name": "CFO"},
            {"kind": "agent", "id": "figures", "name": "Shadowed"},
        ],
    }
    run = make_run(alice, spec=spec, status=Run.Status.RUNNING)
    response = alice_client.get(f"/runs/{run.id}/")
    assert "<script>alert(1)" not in response.text
    match = re.search(
        r'<script id="run-agents" type="application/json">(.*?)</script>', response.text
    )
    assert match
    # Ids repeated in a nested team keep the outer team's name.
    assert json.loads(match.group(1)) == {
        "lead": evil, "reporting": "Reporting", "cfo": "CFO", "figures": "Shadowed",
    }  # fmt: skip
