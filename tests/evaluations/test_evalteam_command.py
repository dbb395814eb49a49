"""``manage.py evalteam``, the CI gate: it runs the experiment (here on the embedded executor,
this process's run loop), prints each scorer's mean with its interval and the difference from
a baseline, and exits 0 when good enough, 1 when a mean is under the bar or worse than the
baseline beyond its interval, 2 on bad arguments, saying what is wrong."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from evaluations.actions import ItemIn, do_add_items, do_create_dataset
from evaluations.models import Experiment
from teams.services import save_spec
from teams.spec import parse
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.support.openai_server import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded(settings: Any) -> None:
    settings.RUN_EXECUTOR = "thread"  # runs and the experiment's steps on this process's loop
    settings.EXPERIMENT_POLL_S = 0.2


def team_and_cases(expected: list[str]) -> tuple[Any, Any]:
    """Alice's team on the offline model (it echoes the case) and a dataset of those cases."""
    alice = make_user()
    team = make_team(alice, minimal_spec())
    dataset = do_create_dataset(alice, team.workspace, "Cases", "")
    items = [ItemIn(input={"task": f"case {i}"}, expected=e) for i, e in enumerate(expected)]
    do_add_items(dataset, items)
    return team, dataset


def evalteam(*args: Any) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("evalteam", *[str(a) for a in args], stdout=out, stderr=StringIO())
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_it_exits_0_and_prints_the_table_when_good_enough(embedded: None) -> None:
    team, dataset = team_and_cases([f"case {i}" for i in range(6)])
    code, out = evalteam(team.id, dataset.id, "--scorer", "contains", "--fail-under", "0.9")
    assert code == 0, out
    assert "contains" in out and "1.000" in out and "[1.000, 1.000]" in out
    assert out.rstrip().endswith("PASS")
    assert Experiment.objects.get().status == "finished"

    # Recorded, then replayed from that cassette: the same verdict.
    code, out = evalteam(team.id, dataset.id, "--scorer", "contains", "--record")
    recorded = Experiment.objects.latest("id")
    assert code == 0 and recorded.recording_id is not None, out
    code, out = evalteam(team.id, dataset.id, "--against", recorded.pk, "--replay", recorded.pk,
                         "--fail-under", "0.9")  # fmt: skip
    assert code == 0, out
    assert Experiment.objects.latest("id").replay_id == recorded.recording_id


def test_it_exits_1_when_a_mean_is_under_the_bar(embedded: None) -> None:
    # Half the cases expect a word the echo never holds: the mean is 0.5.
    team, dataset = team_and_cases([f"case {i}" if i % 2 == 0 else "absent" for i in range(6)])
    scorer = json.dumps({"kind": "contains", "name": "mentions"})
    code, out = evalteam(team.id, dataset.id, "--scorer", scorer, "--fail-under", "0.9")
    assert code == 1, out
    assert "mentions: mean 0.500 is under 0.9" in out and "FAIL" in out


async def test_it_exits_1_when_worse_than_the_baseline_beyond_its_interval(
    embedded: None, openai_server: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    openai_server.on(lambda r: True, Reply.text("it is answered"))
    # The model server answers on this test's event loop: the command runs on a thread.
    run = sync_to_async(evalteam, thread_sensitive=False)
    team, dataset = await sync_to_async(team_and_cases)([f"case {i}" for i in range(6)])
    code, out = await run(team.id, dataset.id, "--scorer", "contains")
    assert code == 0, out
    baseline = await Experiment.objects.aget()

    # The same version against itself is no worse.
    code, out = await run(team.id, dataset.id, "--against", baseline.pk)
    assert code == 0, out
    assert "+0.000" in out

    # Version 2 asks a model that answers none of the cases: every item regressed.
    await sync_to_async(make_model_config)(team.owner, openai_server.base_url)
    spec = minimal_spec(nodes=[{"kind": "agent", "id": "lead", "name": "Lead",
                                "instructions": "Answer.", "model": "scripted"}])  # fmt: skip
    await sync_to_async(save_spec)(team, parse(spec), by=team.owner)
    code, out = await run(team.id, dataset.id, "--against", baseline.pk, "--version", 2)
    assert code == 1, out
    assert "-1.000" in out and "[-1.000, -1.000]" in out and "worse" in out
    assert "below zero beyond its interval" in out
    assert len(openai_server.completed()) == 6


def exits_2(*args: Any) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("evalteam", *[str(a) for a in args], stdout=StringIO(), stderr=StringIO())
    assert refused.value.returncode == 2
    return str(refused.value)


def test_it_exits_2_on_bad_arguments_saying_what_is_wrong(embedded: None) -> None:
    team, dataset = team_and_cases(["case 0"])
    bobs = make_team(make_user("bob"), minimal_spec())
    assert "No team has id 999999" in exits_2(999999, dataset.id, "--scorer", "exact")
    assert "No dataset has id 999999" in exits_2(team.id, 999999, "--scorer", "exact")
    assert "different workspaces" in exits_2(bobs.id, dataset.id, "--scorer", "exact")
    assert "no version 7" in exits_2(team.id, dataset.id, "--version", 7, "--scorer", "exact")
    assert "give a score from 0 to 1" in exits_2(team.id, dataset.id, "--scorer", "exact",
                                                 "--fail-under", "90")  # fmt: skip
    assert "at least one --scorer" in exits_2(team.id, dataset.id)
    assert "not JSON" in exits_2(team.id, dataset.id, "--scorer", "{nope")
    assert "--scorer number 1" in exits_2(team.id, dataset.id, "--scorer", "telepathy")
    assert "No experiment 999999" in exits_2(team.id, dataset.id, "--against", 999999)
    assert "No dataset has id 999999" in exits_2(team.id, 999999, "--scorer", "exact")
    assert Experiment.objects.count() == 0  # nothing was started
    assert evalteam(team.id, dataset.id, "--scorer", "exact")[0] == 0
    plain = Experiment.objects.get()
    assert "recorded no cassette" in exits_2(team.id, dataset.id, "--against", plain.pk,
                                             "--replay", plain.pk)  # fmt: skip


def test_its_process_exits_2_on_a_bad_argument() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "evalteam", "my-team", "1", "--scorer", "exact"],
        cwd=ROOT, env={**os.environ, "DEBUG": "1"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "TEAM_ID must be a number, not 'my-team'" in done.stderr


def test_it_starts_as_a_member_who_may_and_refuses_one_who_may_not(embedded: None) -> None:
    from workspaces.models import Membership

    team, dataset = team_and_cases(["case 0"])
    for name, role in [("rita", "runner"), ("vic", "viewer"), ("aud", "auditor")]:
        Membership.objects.create(workspace=team.workspace, user=make_user(name), role=role)
    make_user("nora")  # in no workspace of the team's maker
    assert "needs the owner, admin, editor or runner role; you are viewer" in exits_2(
        team.id, dataset.id, "--scorer", "exact", "--as", "vic"
    )
    assert "you are auditor" in exits_2(team.id, dataset.id, "--scorer", "exact", "--as", "aud")
    assert "nora is not a member" in exits_2(
        team.id, dataset.id, "--scorer", "exact", "--as", "nora"
    )
    assert "No active user called 'nobody'" in exits_2(
        team.id, dataset.id, "--scorer", "exact", "--as", "nobody"
    )
    assert Experiment.objects.count() == 0  # nothing was started
    assert evalteam(team.id, dataset.id, "--scorer", "exact", "--as", "rita")[0] == 0
    first = Experiment.objects.get()
    assert first.owner.username == "rita"
    # Replaying an experiment's cassette is starting one too: no way around the check.
    assert "nora is not a member" in exits_2(
        team.id, dataset.id, "--as", "nora", "--against", first.pk, "--replay", first.pk
    )


def test_a_recorded_judge_finishes_when_steps_could_hold_every_database_thread(
    embedded: None, monkeypatch: Any
) -> None:
    """An experiment's step waits on its judges, and a judge that records writes its answer
    to the cassette on a database thread. Were steps on the database threads, steps enough
    to hold all of them (eight experiments at once; here the one thread) would leave the
    judges nothing to write with, and they would score 0 when they timed out."""
    from concurrent.futures import ThreadPoolExecutor

    from evaluations import judging
    from runs.shell import loop

    one = ThreadPoolExecutor(1, thread_name_prefix="one-db")
    monkeypatch.setattr(loop, "_db_threads", one)
    monkeypatch.setattr(loop, "DB_THREADS", 1)
    monkeypatch.setattr(judging, "JUDGE_TIMEOUT_S", 3.0)
    team, dataset = team_and_cases(["case 0", "case 1"])
    judge = json.dumps({"kind": "judge", "model": "offline", "rubric": "Echoes the case?"})

    try:
        _, out = evalteam(team.id, dataset.id, "--scorer", judge, "--record")
    finally:
        loop.close_db_connections()  # the one thread's connection too, before the database goes
        one.shutdown()

    experiment = Experiment.objects.get()
    assert experiment.status == "finished", out
    reasons = [item.scores["judge"]["reason"] for item in experiment.items.all()]
    assert len(reasons) == 2 and not any("could not answer" in r for r in reasons), reasons
    assert experiment.recording.entries.count() == 4  # two runs' answers, two verdicts
