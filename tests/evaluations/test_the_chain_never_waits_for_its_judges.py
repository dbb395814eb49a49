"""The chain's step (the fallback poll) hands its judges off as the nudges' step does: on
Celery to a task of its own, on the embedded default to the run loop's waiting threads, so
its next poll never waits for them."""

import threading
import time
from typing import Any

import pytest

from evaluations import actions, judging, tasks
from evaluations.models import Experiment
from runs.execution import run_loop
from tests.evaluations.test_judges_outside_the_lock import judged_experiment

pytestmark = pytest.mark.django_db(transaction=True)


def chained(experiment: Experiment) -> str:
    Experiment.objects.filter(pk=experiment.pk).update(chain="the-chain")
    return "the-chain"


def test_on_celery_the_step_sends_its_next_poll_and_a_task_for_its_judges(
    monkeypatch: Any,
) -> None:
    experiment = judged_experiment(2)
    token = chained(experiment)
    sent: list[tuple[str, Any]] = []
    asked: list[Any] = []
    real = judging.judge_many
    monkeypatch.setattr(judging, "judge_many", lambda cases: asked.append(cases) or real(cases))
    monkeypatch.setattr(tasks.judge, "delay", lambda *args: sent.append(("judge", args)))
    monkeypatch.setattr(
        tasks.advance, "apply_async", lambda args, countdown: sent.append(("advance", args))
    )

    # The step holds the items and returns without asking their judges.
    tasks.advance.run(experiment.pk, token)
    assert asked == [] and [name for name, _ in sent] == ["judge", "advance"]
    assert {i.status for i in experiment.items.all()} == {"scoring"}

    # The judges' task scores them, and the experiment finishes.
    _, args = sent[0]
    tasks.judge.run(*args)
    assert len(asked) == 1 and {i.status for i in experiment.items.all()} == {"done"}
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    # Delivered again (its worker died after the write): nothing is asked twice.
    tasks.judge.run(*args)
    assert len(asked) == 1


def test_on_the_embedded_default_the_chain_polls_again_while_its_judges_are_asked(
    monkeypatch: Any, settings: Any
) -> None:
    settings.EXPERIMENT_POLL_S = 0.05
    experiment = judged_experiment(2)
    token = chained(experiment)
    answer = threading.Event()
    real = judging.judge_many

    def slow(cases: Any) -> Any:
        answer.wait(30)
        return real(cases)

    steps: list[float] = []
    take_step = actions.take_step

    def counted(experiment_id: int) -> Any:
        steps.append(time.monotonic())
        return take_step(experiment_id)

    monkeypatch.setattr(judging, "judge_many", slow)
    monkeypatch.setattr(actions, "take_step", counted)
    chain = run_loop.submit(tasks._advance_forever(experiment.pk, token, 0))
    try:
        # The chain goes on polling while the judges have not answered.
        deadline = time.monotonic() + 10
        while len(steps) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(steps) >= 3, steps
        assert {i.status for i in experiment.items.all()} == {"scoring"}
    finally:
        answer.set()
    chain.result(timeout=30)  # it stops once the judges' write finished the experiment
    assert {i.status for i in experiment.items.all()} == {"done"}
