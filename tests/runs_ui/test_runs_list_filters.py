"""The runs list filters by team, status and dates given as GET parameters, and pages."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from runs.models import Run
from tests.factories import make_run, make_team, minimal_spec


def listed(client: Client, query: str) -> str:
    response = client.get(f"/runs/?{query}")
    assert response.status_code == 200
    return response.text


def test_it_filters_by_team_and_status(alice_client: Client, alice) -> None:
    research, writing = (
        make_team(alice, minimal_spec(name="Research")),
        make_team(alice, minimal_spec(name="Writing")),
    )
    a = make_run(alice, research, status=Run.Status.SUCCEEDED)
    b = make_run(alice, research, status=Run.Status.FAILED)
    c = make_run(alice, writing, status=Run.Status.SUCCEEDED)
    html = listed(alice_client, f"team={research.id}&status=succeeded")
    assert str(a.id) in html
    assert str(b.id) not in html
    assert str(c.id) not in html


def test_it_filters_by_creation_date(alice_client: Client, alice) -> None:
    old, new = make_run(alice), make_run(alice)
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    html = listed(alice_client, f"since={since}")
    assert str(new.id) in html
    assert str(old.id) not in html
    html = listed(alice_client, f"until={since}")
    assert str(old.id) in html
    assert str(new.id) not in html


def test_it_says_which_filters_it_could_not_read_and_lists_everything(
    alice_client: Client, alice, bob
) -> None:
    run = make_run(alice)
    foreign_team = make_team(bob, minimal_spec(name="Bob's"))
    html = listed(alice_client, f"status=exploded&since=yesterday&team={foreign_team.id}")
    assert "not understood" in html
    assert str(run.id) in html


def test_the_filters_it_can_read_still_apply_beside_one_it_cannot(
    alice_client: Client, alice
) -> None:
    succeeded = make_run(alice, status=Run.Status.SUCCEEDED)
    failed = make_run(alice, status=Run.Status.FAILED)
    html = listed(alice_client, "status=failed&since=yesterday")
    assert "not understood and are ignored (the others apply): Since: Enter a valid date." in html
    assert str(failed.id) in html
    assert str(succeeded.id) not in html


def test_an_empty_list_says_why(alice_client: Client, alice) -> None:
    assert "No runs yet." in listed(alice_client, "")
    make_run(alice, status=Run.Status.SUCCEEDED)
    assert "No runs match these filters." in listed(alice_client, "status=failed")


def test_it_pages_long_lists(alice_client: Client, alice) -> None:
    for _ in range(51):
        make_run(alice)
    assert "Page 1 of 2" in listed(alice_client, "")
    assert "Page 2 of 2" in listed(alice_client, "page=2")
