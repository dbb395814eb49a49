"""An experiment's judges are asked outside its row lock: the next items start while the
judges of the ended ones are still being asked (a real Celery worker, PostgreSQL, a private
Redis and the local OpenAI-compatible server as a slow judge); a step that dies while its
judges are asked leaves the items to a later step, which scores each once; a cancel drops
their verdicts; and a step with no judge costs the statements it always did."""

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations import actions, judging
from evaluations.models import Experiment, ExperimentItem
from evaluations.scorers import SPECS
from runs.models import Run
from tests.evaluations.test_experiments_on_celery import finished, post
from tests.factories import make_ended_run, make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in
from tests.runs.live import PrivateRedis, start_worker
from tests.support.openai_server import ChatRequest, Reply

JUDGE_DELAY_S = 1.5
#: A step of an experiment without judges in which four items end and four start: the
#: statements it made before judges were asked outside the lock (counted then, BEGIN and
#: COMMIT included).
STATEMENTS_OF_A_STEP = 13


def slow_experiment(base_url: str, n: int) -> tuple[Client, int]:
    """Alice's team on the offline model (its runs end at once), ``n`` cases, and an
    experiment of it (two at a time) scored by a judge on the test server."""
    alice = make_user()
    make_model_config(alice, base_url, name="grader")
    team = make_team(alice, minimal_spec())
    client = logged_in(alice)
    cases = [{"input": {"task": f"case {i}"}, "expected": f"case {i}"} for i in range(n)]
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": cases}).json()
    body = {"team_id": team.id, "dataset_id": dataset["id"], "concurrency": 2,
            "scorers": [{"kind": "judge", "model": "grader", "rubric": "Right?"}]}  # fmt: skip
    started = post(client, "/api/experiments", body)
    assert started.status_code == 201, started.content
    return client, started.json()["id"]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
async def test_the_next_items_start_while_the_judges_are_still_being_asked(
    openai_server: Any, stack: PrivateRedis, settings: Any
) -> None:
    asked: dict[str, float] = {}  # each case's judge: when it was asked (wall clock)

    def verdict(request: ChatRequest) -> Reply:
        task = json.loads(request.user)["input"]["task"]
        asked[task] = time.time()
        return Reply.json({"score": 0.5, "reason": f"Graded {task}."}, delay_s=JUDGE_DELAY_S)

    openai_server.on(lambda r: "You grade the output" in r.system, verdict)
    # The chain polls once: the items move by the nudges of runs that end, and the last
    # judges' write finishes the experiment.
    settings.EXPERIMENT_POLL_S = 300
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="300")
    try:
        client, experiment_id = await sync_to_async(slow_experiment)(openai_server.base_url, 6)
        read = await sync_to_async(finished)(client, experiment_id, 150)
    finally:
        worker.stop()
    assert read["status"] == "finished"
    assert read["progress"] == {**read["progress"], "done": 6, "running": 0, "failed": 0}
    assert read["summary"]["judge"]["mean"] == 0.5
    # Each item judged once.
    judged = [r for r in openai_server.completed() if "You grade the output" in r.system]
    assert len(judged) == 6 and len(asked) == 6
    # Runs of the experiment were created while a judge was still being asked: under the
    # lock, every run waited until the judges of the step that started it had answered.
    created = [r.created_at.timestamp() async for r in Run.objects.filter(
        started_by=f"experiment:{experiment_id}")]  # fmt: skip
    meanwhile = [
        (task, at) for task, at in asked.items()
        if any(at < made < at + JUDGE_DELAY_S for made in created)
    ]  # fmt: skip
    assert meanwhile, (sorted(asked.values()), sorted(created))


def judged_experiment(n: int, alice: Any = None) -> Experiment:
    """An experiment of ``alice``'s (a new user by default) scored by ``exact`` and a judge
    on the offline model, whose ``n`` items' runs all succeeded (its cases' runs ended)."""
    alice = alice or make_user()
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(
        dataset, [actions.ItemIn(input={"task": f"case {i}"}, expected="no") for i in range(n)]
    )
    specs = SPECS.validate_python(
        [{"kind": "exact"}, {"kind": "judge", "rubric": "Right?", "model": "offline"}]
    )
    experiment = actions.do_start_experiment(alice, team.current_version(), dataset, specs, n)
    for item in experiment.items.all():
        item.run = make_ended_run(alice, events=1, days_ago=0, team=team, output="no")
        item.status = ExperimentItem.Status.STARTED
        item.save()
    return experiment


@pytest.mark.django_db(transaction=True)
def test_a_step_that_dies_while_judging_leaves_its_items_to_a_later_step_which_scores_each_once(
    monkeypatch: Any,
) -> None:
    experiment = judged_experiment(3)
    asked: list[str] = []
    real = judging.judge_many

    def counted(cases: Any) -> Any:
        asked.extend(case.task_input["task"] for case in cases)
        return real(cases)

    def dies(cases: Any) -> Any:
        raise SystemExit("the worker died while its judges were asked")

    monkeypatch.setattr(judging, "judge_many", dies)
    with pytest.raises(SystemExit):
        actions.do_advance(experiment.pk)
    items = experiment.items.all()
    assert {i.status for i in items} == {"scoring"}
    assert actions.progress(experiment) == {**actions.progress(experiment), "running": 3, "done": 0}

    # While the lease lasts, later steps leave the items alone and do not finish.
    monkeypatch.setattr(judging, "judge_many", counted)
    assert actions.do_advance(experiment.pk) is True
    assert asked == [] and {i.status for i in items} == {"scoring"}

    # The lease passed: the next step takes the items over and scores each once. The dead
    # step's held items, were it to come back, write nothing.
    _, stale = actions.take_step(experiment.pk)
    assert stale is None  # nothing ended meanwhile: the held items are not taken twice
    experiment.items.update(scoring_until=timezone.now() - timedelta(seconds=1))
    going, held = actions.take_step(experiment.pk)
    assert going is True and held is not None and len(held.items) == 3
    late = actions.Held(held.experiment, held.specs, held.items, held.until - timedelta(hours=1))
    assert actions.score_held(late) is True  # another lease's: asked, but nothing written
    assert {i.status for i in items} == {"scoring"}
    assert actions.score_held(held) is False  # the last items scored: finished
    assert sorted(asked) == sorted([f"case {i}" for i in range(3)] * 2)
    scored = list(experiment.items.all())
    assert all(i.status == "done" and i.scoring_until is None for i in scored)
    assert all(set(i.scores) == {"exact", "judge"} for i in scored)
    experiment.refresh_from_db()
    assert experiment.status == "finished" and experiment.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_items_being_judged_when_the_experiment_is_cancelled_are_cancelled() -> None:
    experiment = judged_experiment(2)
    going, held = actions.take_step(experiment.pk)
    assert going is True and held is not None
    actions.do_cancel(experiment, "alice")
    # Their verdicts come after the cancel: dropped, and the experiment stays cancelled.
    assert actions.score_held(held) is False
    assert actions.progress(experiment) == {
        **actions.progress(experiment),
        "cancelled": 2,
        "done": 0,
    }
    experiment.refresh_from_db()
    assert experiment.status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_step_without_judges_costs_the_statements_it_did() -> None:
    """Four items end and four start: the step's statements, counted (the figure it had
    before judges were asked outside the lock)."""
    alice = make_user()
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(
        dataset, [actions.ItemIn(input={"task": f"case {i}"}, expected="no") for i in range(8)]
    )
    specs = SPECS.validate_python([{"kind": "exact"}])
    experiment = actions.do_start_experiment(alice, team.current_version(), dataset, specs, 4)
    for item in experiment.items.all()[:4]:
        item.run = make_ended_run(alice, events=1, days_ago=0, team=team, output="no")
        item.status = ExperimentItem.Status.STARTED
        item.save()
    with CaptureQueriesContext(connection) as queries:
        assert actions.do_advance(experiment.pk) is True
    assert actions.progress(experiment) == {**actions.progress(experiment), "done": 4, "running": 4}
    assert len(queries.captured_queries) == STATEMENTS_OF_A_STEP, [
        q["sql"][:120] for q in queries.captured_queries
    ]
