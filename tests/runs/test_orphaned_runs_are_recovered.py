"""Runs whose worker was killed with -9 are taken over by a worker that was already running,
without any worker starting and without the broker redelivering their messages: every live
worker sweeps for runs whose heartbeat is older than RUN_STALE_AFTER_S. Each run finishes with
no completed model call made again, and its audit trail whole."""

import asyncio
import itertools
from collections import Counter
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Run
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, start, until, wait_for_status
from tests.runs.live import PrivateRedis, Worker, stack_env, start_worker
from tests.support.openai_server import ChatRequest, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

RUNS = 6
STEPS = ["research", "draft", "edit"]
MODEL_CALL_S = 1.5


def case_agent(case: int, step: str) -> dict[str, Any]:
    return {"kind": "agent", "id": step, "name": step.capitalize(), "model": "scripted",
            "instructions": f"Case {case}: do the {step}."}  # fmt: skip


def case_team(owner: Any, case: int) -> Any:
    """research -> draft -> edit, each one model call; every prompt names the case, so the
    model server can tell the runs' calls apart."""
    return make_team(
        owner,
        minimal_spec(
            "pipeline",
            name=f"Case {case}",
            entry="research",
            nodes=[case_agent(case, step) for step in STEPS],
            edges=[
                {"id": f"e{i}", "source": a, "target": b, "kind": "next"}
                for i, (a, b) in enumerate(itertools.pairwise(STEPS))
            ],
        ),
    )


def start_cases(base_url: str) -> dict[str, int]:
    """Alice's runs, one per case: {run id: case}."""
    alice = make_user()
    make_model_config(alice, base_url)
    client = logged_in(alice)
    return {
        start(client, case_team(alice, case).id, {"task": f"Case {case}"}): case
        for case in range(RUNS)
    }


def case_of(request: ChatRequest) -> int:
    return int(request.system.split("Case ", 1)[1].split(":", 1)[0])


def holders(run_ids: list[str]) -> Counter[int]:
    """How many of the runs each worker process holds, by its pid."""
    claims = Run.objects.filter(id__in=run_ids).values_list("claimed_by", flat=True)
    return Counter(int(claim.split(":")[1]) for claim in claims if claim)


async def test_runs_of_a_killed_worker_finish_on_a_worker_that_was_already_running(
    openai_server: Any, stack: PrivateRedis
) -> None:
    openai_server.on(lambda r: True, Reply.text("One step done.", delay_s=MODEL_CALL_S))
    # The broker redelivers a dead worker's messages after production's hour, not in this
    # test: only the workers' sweeps can bring the runs back. Four runs at most per worker,
    # so both carry some.
    workers: list[Worker] = []
    try:
        for name in ("first", "second"):
            worker = await asyncio.to_thread(
                start_worker, stack, name, 4, CELERY_VISIBILITY_TIMEOUT="3600"
            )
            workers.append(worker)
        cases = await sync_to_async(start_cases)(openai_server.base_url)

        # Every run's first model call has completed and its second is in flight: kill -9
        # the worker that holds the most of them.
        def mid_run() -> bool:
            made = Counter(case_of(r) for r in openai_server.log)
            done = Counter(case_of(r) for r in openai_server.completed())
            return all(done[c] >= 1 and made[c] > done[c] for c in cases.values())

        await until(mid_run)
        held = await sync_to_async(holders)(list(cases))
        victim = next(w for w in workers if w.process.pid == held.most_common(1)[0][0])
        orphans = held[victim.process.pid]
        assert orphans >= 1
        victim.kill_hard()

        # Within RUN_STALE_AFTER_S and one sweep each orphan resumes; then its two remaining
        # calls, queued behind the survivor's own runs. Generous: it only must not hang.
        env = stack_env(stack)
        bound_s = float(env["RUN_STALE_AFTER_S"]) + float(env["RUN_WAKE_SWEEP_S"]) + 40
        for run_id in cases:
            run = await sync_to_async(wait_for_status)(
                run_id, "succeeded", "failed", within_s=bound_s
            )
            assert run.status == "succeeded", run.failure_reason
            await sync_to_async(assert_sound_trail)(run)
    finally:
        for worker in workers:
            worker.stop()

    # Each run made each of its calls to completion exactly once: none made again.
    completed = Counter((case_of(r), r.activity_key) for r in openai_server.completed())
    assert set(completed.values()) == {1}, completed
    assert Counter(case for case, _ in completed) == {case: len(STEPS) for case in range(RUNS)}
