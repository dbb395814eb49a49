"""Reading the run list loads the runs of the page asked for, never every run.

Every open run list reads ``/api/runs`` again every few seconds; when the view serialised
every run and only then cut out the page, each read loaded the whole table (with each run's
team version) into the web process, whose memory then grew with the number of runs (the
soak, docs/reliability.md)."""

from typing import Any

import pytest
from django.test import Client

from runs.models import Run
from tests.factories import make_run, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs_loaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the runs Django builds from database rows while the test runs."""
    loaded: list[str] = []
    from_db = Run.from_db.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, db: Any, field_names: Any, values: Any) -> Any:
        run = from_db(cls, db, field_names, values)
        loaded.append(str(run.id))
        return run

    monkeypatch.setattr(Run, "from_db", classmethod(counting))
    return loaded


def test_a_page_of_the_run_list_loads_only_that_pages_runs(
    alice_client: Client, alice: Any, runs_loaded: list[str]
) -> None:
    # 120 runs of alice's (and one of bob's, never listed to her)
    mine = {str(make_run(alice, status=Run.Status.SUCCEEDED).id) for _ in range(120)}
    make_run(make_user("bob"))
    runs_loaded.clear()

    first = alice_client.get("/api/runs?page_size=20").json()

    # the count is of every run of hers, the page holds 20, and only those 20 were loaded
    assert first["count"] == 120
    assert len(first["items"]) == 20
    assert sorted(runs_loaded) == sorted(r["id"] for r in first["items"])

    # the pages together list each of her runs once
    seen = [r["id"] for r in first["items"]]
    for page in range(2, 7):
        seen += [
            r["id"] for r in alice_client.get(f"/api/runs?page_size=20&page={page}").json()["items"]
        ]
    assert sorted(seen) == sorted(mine)
    assert len(runs_loaded) == 120
