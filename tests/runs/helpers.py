"""Starting runs through the API and waiting for them, for the execution tests."""

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.test import Client

from runs.audit import verify
from runs.models import Run, RunEvent
from tests.factories import make_model_config, make_team, make_user, minimal_spec


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client: Client, team_id: int, task_input: Any) -> str:
    response = client.post(
        f"/api/teams/{team_id}/runs",
        json.dumps({"input": task_input}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def wait_for_status(run_id: str, *statuses: str, within_s: float = 60.0) -> Run:
    """Poll until the run reaches one of ``statuses``; fail with what it is doing otherwise."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        run = Run.objects.get(id=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.1)
    types = list(RunEvent.objects.filter(run_id=run_id).values_list("type", flat=True))
    raise AssertionError(
        f"run is {run.status}, not {statuses}, after {within_s} s; events: {types}"
    )


def assert_sound_trail(run: Run) -> list[RunEvent]:
    """Seq 1..N without gaps, one terminal event at the end, the chain verifies and the
    run's signed head vouches for every event."""
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    result = verify(run)
    assert (result["ok"], result["events"], result["signed_seq"]) == (
        True,
        len(events),
        len(events),
    ), result
    return events


async def until(condition: Callable[[], bool], within_s: float = 30.0) -> None:
    """Let the event loop run (the test model server lives on it) until ``condition``."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {within_s} s")
        await asyncio.sleep(0.05)


def scripted_team(base_url: str) -> tuple[Any, Any]:
    """Alice and her one-agent team on the scripted model server at ``base_url``."""
    alice = make_user()
    make_model_config(alice, base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    return alice, make_team(alice, minimal_spec(nodes=[lead]))


def race(work: Callable[[], Any], threads: int = 4) -> None:
    """Run ``work`` on ``threads`` threads released at the same instant, each on a database
    connection of its own, as processes sweeping together do; fail with what any raised."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def one() -> None:
        try:
            start.wait(timeout=10)
            work()
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    running = [threading.Thread(target=one) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=30)
    assert failures == []
