"""Judges that cannot be asked at all (a bug, the database, a judge model deleted since the
experiment started: anything but a model's own failure, which is a score) release their
items at once for the next step to try again, and after ``JUDGE_ATTEMPTS`` tries the items
are scored 0 for each judge, saying why in words and nothing more, and the experiment ends.
On real Celery worker processes (PostgreSQL, a private Redis): a judge phase that always
raises lets the experiment finish within seconds; one that raises once scores normally."""

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from evaluations import actions, judging
from evaluations.models import Experiment
from tests.evaluations.test_experiments_on_celery import experiment_of, finished
from tests.evaluations.test_judges_outside_the_lock import judged_experiment
from tests.factories import minimal_spec
from tests.runs.live import PrivateRedis, start_worker

#: What the worker processes' failing judge phase raises (``failing_judges_app``): its text
#: stands for what an exception may hold that no user should read.
SECRET = "postgres://app:hunter2@db"


def breaks(cases: Any) -> Any:
    raise RuntimeError(f"a bug in the judge phase ({SECRET})")


def asked(score: dict[str, Any]) -> bool:
    """Whether ``score`` is the offline judge's own verdict (it reports what it was sent)."""
    return score["reason"].startswith("Received a request") and score["input_tokens"] > 0


def judge_scores(experiment: Experiment) -> list[dict[str, Any]]:
    return [item.scores["judge"] for item in experiment.items.all()]


@pytest.mark.django_db(transaction=True)
def test_it_releases_the_items_at_once_then_scores_them_0_saying_why(
    monkeypatch: Any, caplog: Any
) -> None:
    experiment = judged_experiment(2)
    monkeypatch.setattr(judging, "judge_many", breaks)
    for attempt in range(1, actions.JUDGE_ATTEMPTS):
        # Each failed try gives the items back at once: the next step takes them again.
        assert actions.do_advance(experiment.pk) is True
        items = list(experiment.items.all())
        assert {(i.status, i.scoring_until, i.judge_attempts) for i in items} == {
            ("scoring", None, attempt)
        }
    assert actions.do_advance(experiment.pk) is False
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    for item in experiment.items.all():
        assert item.status == "done" and item.scoring_until is None
        # The other scorers scored as usual; the judge 0, with a reason a person reads.
        assert item.scores["exact"]["score"] == 1.0
        reason = item.scores["judge"]["reason"]
        assert item.scores["judge"]["score"] == 0.0
        assert reason.startswith("The judge could not be asked: an error in the orchestrator")
        assert "RuntimeError" in reason and "3 times" in reason
        assert SECRET not in reason and "Traceback" not in reason
    # The operator's log has the exception, each time.
    logged = [r for r in caplog.records if r.name == "evaluations.actions"]
    assert len(logged) == actions.JUDGE_ATTEMPTS
    assert all(r.levelno == logging.ERROR and r.exc_info for r in logged)
    assert SECRET in str(logged[0].exc_info[1])


@pytest.mark.django_db(transaction=True)
def test_a_judge_phase_that_fails_once_then_works_scores_normally(monkeypatch: Any) -> None:
    experiment = judged_experiment(2)
    monkeypatch.setattr(judging, "judge_many", breaks)
    assert actions.do_advance(experiment.pk) is True
    monkeypatch.undo()
    assert actions.do_advance(experiment.pk) is False
    assert {i.status for i in experiment.items.all()} == {"done"}
    assert all(asked(score) for score in judge_scores(experiment))


@pytest.mark.django_db(transaction=True)
def test_a_judge_model_deleted_meanwhile_is_named() -> None:
    experiment = judged_experiment(1)
    scorers = [{"kind": "judge", "rubric": "Right?", "model": "grader"}]
    Experiment.objects.filter(pk=experiment.pk).update(scorers=scorers)
    for _ in range(actions.JUDGE_ATTEMPTS):
        actions.do_advance(experiment.pk)
    [score] = judge_scores(experiment)
    assert score["score"] == 0.0
    assert score["reason"].startswith("The judge could not be asked: Judge judge: No model")
    assert "'grader'" in score["reason"]


@pytest.mark.django_db(transaction=True)
def test_a_step_whose_worker_dies_every_time_ends_too(monkeypatch: Any) -> None:
    experiment = judged_experiment(1)

    def dies(cases: Any) -> Any:
        raise SystemExit("the worker died while its judges were asked")

    monkeypatch.setattr(judging, "judge_many", dies)
    for _ in range(actions.JUDGE_ATTEMPTS):
        with pytest.raises(SystemExit):
            actions.do_advance(experiment.pk)
        # Nothing released it: its lease passes.
        experiment.items.update(scoring_until=timezone.now() - timedelta(seconds=1))
    assert actions.do_advance(experiment.pk) is False
    [score] = judge_scores(experiment)
    assert score["score"] == 0.0
    assert score["reason"].startswith(
        "The judge could not be asked: the step asking it stopped before it answered, 3 times"
    )


# --- on Celery worker processes ------------------------------------------------------------


def on_celery(test: Any) -> Any:
    """A test on the production stack as processes (PostgreSQL, a private Redis)."""
    marks = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True),
             pytest.mark.timeout(300)]  # fmt: skip
    for mark in marks:
        test = mark(test)
    return test


async def run_on_a_worker(stack: PrivateRedis, fails: int) -> tuple[dict[str, Any], float]:
    """An experiment of two cases with an ``exact`` scorer and an offline judge, on a worker
    whose judge phase raises ``fails`` times (-1: always): what the API reads when it ended,
    and how long it took."""
    scorers = [{"kind": "exact"}, {"kind": "judge", "model": "offline", "rubric": "Right?"}]
    worker = await asyncio.to_thread(
        start_worker, stack, "first", 8, celery_app="tests.evaluations.failing_judges_app",
        JUDGE_PHASE_FAILS=str(fails),
    )  # fmt: skip
    try:
        began = time.monotonic()
        client, experiment_id = await sync_to_async(experiment_of)(minimal_spec(), 2, scorers, 2)
        read = await sync_to_async(finished)(client, experiment_id, 60)
        took = time.monotonic() - began
        items = await sync_to_async(client.get)(f"/api/experiments/{experiment_id}/items")
        read["items"] = items.json()
    finally:
        worker.stop()
    return read, took


@on_celery
async def test_on_celery_a_judge_phase_that_always_raises_ends_within_seconds(
    stack: PrivateRedis,
) -> None:
    read, took = await run_on_a_worker(stack, fails=-1)
    assert read["status"] == "finished" and took < 30, (read["status"], took)
    assert read["progress"] == {**read["progress"], "done": 2, "running": 0}
    for item in read["items"]:
        judge = item["scores"]["judge"]
        assert judge["score"] == 0.0
        assert judge["reason"].startswith("The judge could not be asked: an error in")
        assert SECRET not in judge["reason"] and "Traceback" not in judge["reason"]


@on_celery
async def test_on_celery_a_judge_phase_that_raises_once_then_scores_normally(
    stack: PrivateRedis,
) -> None:
    read, took = await run_on_a_worker(stack, fails=1)
    assert read["status"] == "finished" and took < 30, (read["status"], took)
    assert read["progress"] == {**read["progress"], "done": 2, "running": 0}
    assert all(asked(item["scores"]["judge"]) for item in read["items"])
