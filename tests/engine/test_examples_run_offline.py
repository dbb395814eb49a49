"""Every example team in docs/examples runs end to end on the offline model, a person answering
whenever the run waits for one."""

import json
from pathlib import Path

import pytest

from runs.engine.interfaces import human_answered
from teams.spec import parse
from tests.engine.helpers import run

EXAMPLES = sorted((Path(__file__).parents[2] / "docs" / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_the_example_runs_to_the_end_offline(path):
    spec = parse(json.loads(path.read_text()))
    task = {"text": "Launch our new product to small businesses.", "ticket": "I was charged twice"}
    journal: list = []

    for _ in range(10):
        outcome, sink = await run(spec, task, journal=journal)
        journal += sink.events
        if outcome.status != "waiting":
            break
        request = next(e for e in journal if e.key == outcome.waiting_for)
        journal.append(human_answered(request, {"approved": True}, by="alice", ts=0.0))

    assert outcome.status == "succeeded", outcome.reason
    assert outcome.output and "[simulated]" not in json.dumps(outcome.output)
    assert all(
        e.payload["simulated"] for e in sink.of("message") if e.payload["role"] == "assistant"
    )
    assert journal[-1].type == "run.finished"
