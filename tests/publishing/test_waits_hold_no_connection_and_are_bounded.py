"""`POST /p/<slug>/runs?wait=true` on the running site (daphne, PostgreSQL, Redis) against a
run that does not finish: however many callers wait, the database holds no connection and the
web process no thread for them, and a key waiting for as many runs as it may gets a 429 with
Retry-After that starts no run. (A key used to hold one PostgreSQL connection per wait, past
`max_connections` and so down for everyone.)"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from django.db import connection

from publishing.actions import do_publish
from publishing.models import PublicationKey
from runs.models import Run
from tests.factories import make_team, make_user, minimal_spec

from .helpers import INPUT_SCHEMA
from .test_mcp_server_runs_a_published_team import with_session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.usefixtures("dispatched"),  # nothing executes the runs: they stay queued
]

QUESTION = {"input": {"question": "Where is my parcel?"}}


@pytest.fixture
def key(settings: Any) -> str:
    settings.QUOTA_RUNS_IN_FLIGHT = 1000  # the publisher's own quota is not what is tested
    settings.QUOTA_RUNS = "10000/hour"
    alice = make_user("alice")
    team = make_team(alice, minimal_spec(name="Help desk", input_schema=INPUT_SCHEMA))
    publication = do_publish(team, team.version, "help-desk", "10000/minute", alice)
    return PublicationKey.issue(publication, "partner", alice)[1]


def database_connections() -> int:
    """Connections to the test database, this test's own included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


async def waits(url: str, key: str, callers: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=callers)) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"{url}/p/help-desk/runs?wait=true",
                    json=QUESTION,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=60,
                )
                for _ in range(callers)
            )
        )


def test_waiting_callers_hold_no_database_connection_and_no_thread(
    asgi_server: Any, key: str, settings: Any
) -> None:
    settings.PUBLICATION_WAIT_S = 6
    settings.PUBLICATION_MAX_WAITS_PER_KEY = 40
    connections_before, threads_before = database_connections(), threading.active_count()

    # 30 callers wait at once for runs that stay queued; look once every run has started
    # (starting takes a request's thread and connection, as every request does).
    async def attack() -> tuple[list[httpx.Response], list[tuple[int, int]]]:
        waiting = asyncio.ensure_future(waits(asgi_server.url, key, 30))
        while await asyncio.to_thread(Run.objects.count) < 30:
            await asyncio.sleep(0.1)
        seen = []
        for _ in range(3):
            await asyncio.sleep(0.5)
            connections = await asyncio.to_thread(database_connections)
            threads = threading.active_count()
            seen.append((connections - connections_before, threads - threads_before))
        return await waiting, seen

    answers, seen = asyncio.run(attack())

    assert Run.objects.count() == 30
    # A check borrows a connection for a moment; nothing stays open for a waiting caller.
    assert max(extra for extra, _ in seen) <= 3, seen
    assert max(threads for _, threads in seen) <= 8, seen
    # After PUBLICATION_WAIT_S each caller gets the run as it is, to read later.
    assert [a.status_code for a in answers] == [201] * 30
    assert {(a.json()["status"], a.json()["finished"]) for a in answers} == {("queued", False)}
    assert all(a.json()["url"].endswith(a.json()["run_id"]) for a in answers)


@pytest.mark.parametrize(
    ("bound", "refusal"),
    [
        ("PUBLICATION_MAX_WAITS_PER_KEY", "This key is already waiting for 3 runs"),
        ("PUBLICATION_MAX_WAITS", "The site is waiting for 3 runs"),
    ],
)
def test_a_wait_over_the_bound_is_refused_and_starts_no_run(
    asgi_server: Any, key: str, settings: Any, bound: str, refusal: str
) -> None:
    settings.PUBLICATION_WAIT_S = 4
    setattr(settings, bound, 3)

    # Five callers at once with one key: three wait, two are told when to come back.
    answers = asyncio.run(waits(asgi_server.url, key, 5))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 201, 429, 429], [a.text for a in answers]
    for answer in (a for a in answers if a.status_code == 429):
        assert 1 <= int(answer.headers["Retry-After"]) <= 4
        assert refusal in answer.json()["detail"]
        assert "nothing was started" in answer.json()["detail"]
    assert Run.objects.count() == 3
    # Without ?wait=true the key still starts runs; once the waits are over, it waits again.
    started = httpx.post(
        f"{asgi_server.url}/p/help-desk/runs", json=QUESTION,
        headers={"Authorization": f"Bearer {key}"}, timeout=30,
    )  # fmt: skip
    assert started.status_code == 201
    settings.PUBLICATION_WAIT_S = 0.5
    assert [a.status_code for a in asyncio.run(waits(asgi_server.url, key, 3))] == [201] * 3


def test_a_caller_that_leaves_gives_its_wait_back(
    asgi_server: Any, key: str, settings: Any
) -> None:
    settings.PUBLICATION_WAIT_S = 30
    settings.PUBLICATION_MAX_WAITS_PER_KEY = 1

    # The only wait the key may have; its caller gives up after a second.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{asgi_server.url}/p/help-desk/runs?wait=true", json=QUESTION,
            headers={"Authorization": f"Bearer {key}"}, timeout=1,
        )  # fmt: skip
    time.sleep(0.5)

    # The key may wait again at once, not only when the abandoned wait would have run out.
    settings.PUBLICATION_WAIT_S = 0.5
    assert [a.status_code for a in asyncio.run(waits(asgi_server.url, key, 1))] == [201]
    assert Run.objects.count() == 2


def test_an_mcp_tool_call_over_the_keys_bound_starts_no_run(
    asgi_server: Any, key: str, settings: Any
) -> None:
    settings.PUBLICATION_WAIT_S = 4
    settings.PUBLICATION_MAX_WAITS_PER_KEY = 1

    # The key's one wait is a `?wait=true` call; an MCP tool call meanwhile is refused.
    async def both() -> Any:
        waiting = asyncio.ensure_future(waits(asgi_server.url, key, 1))
        while await asyncio.to_thread(Run.objects.count) < 1:
            await asyncio.sleep(0.05)

        async def call(session: Any) -> Any:
            return await session.call_tool("help-desk", QUESTION["input"])

        called = await with_session(asgi_server.url, key, call)
        return called, await waiting

    called, [waited] = asyncio.run(both())

    assert called.is_error is True
    assert "already waiting for 1 run," in called.content[0].text
    assert "Retry-After" in called.content[0].text
    assert waited.status_code == 201
    assert Run.objects.count() == 1
