"""``manage.py runteam`` runs a team in the terminal, printing its events, and exits non-zero
when the run does not succeed."""

from io import StringIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from runs.management.commands.runteam import Command
from runs.models import Run
from tests.factories import (
    approval_pipeline_spec,
    make_team,
    make_user,
    supervisor_spec,
)
from tests.runs.helpers import scripted_team
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def runteam(*args: str) -> str:
    out = StringIO()
    call_command("runteam", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_prints_every_event_and_the_output() -> None:
    team = make_team(make_user(), supervisor_spec())
    out = runteam(str(team.id), "--input", '{"task": "Plan a launch"}')

    run = Run.objects.get()
    assert run.status == "succeeded" and run.input == {"task": "Plan a launch"}
    lines = out.splitlines()
    assert "run.started" in lines[0] and any("run.finished" in line for line in lines)
    assert any(line.startswith("Succeeded") for line in lines)


def test_each_event_is_one_line_of_what_it_says() -> None:
    team = make_team(make_user(), supervisor_spec())
    out = runteam(str(team.id), "--input", '{"task": "Plan a launch"}')

    lines = out.splitlines()
    delegation = next(line for line in lines if " delegation " in line)
    assert "lead" in delegation and "to worker:" in delegation
    answers = [line for line in lines if " message " in line and "assistant: " in line]
    assert answers and all("activity_key" not in line for line in lines)


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_line_is_not_drawn_as_an_error() -> None:
    team = make_team(make_user(), supervisor_spec())
    terminal = Terminal()
    command = Command(stdout=StringIO(), stderr=terminal, force_color=True)
    call_command(command, str(team.id), "--input", "Plan a launch")

    run = Run.objects.get()
    written = terminal.getvalue()
    assert written.startswith(f"Run {run.id} of 'Minimal team' v1: ")
    assert f"/runs/{run.id}/" in written.splitlines()[0]
    assert "\r[succeeded]" in written and "events · " in written
    assert "\x1b[31" not in written  # Django's red for errors


def test_plain_text_input_and_a_team_name_work() -> None:
    make_team(make_user(), supervisor_spec(name="Launch planners"))
    runteam("Launch planners", "--input", "Plan a launch")
    assert Run.objects.get().input == "Plan a launch"


def test_a_run_that_waits_for_a_person_exits_with_2() -> None:
    team = make_team(make_user(), approval_pipeline_spec())
    with pytest.raises(CommandError, match="waits for a person") as raised:
        runteam(str(team.id), "--input", "a post")
    assert raised.value.returncode == 2


def test_an_unknown_team_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No team has id 999"):
        runteam("999")


async def test_a_failed_run_exits_non_zero_with_the_reason(
    openai_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    openai_server.on(lambda r: True, Reply.error(400))
    _, team = await sync_to_async(scripted_team)(openai_server.base_url)

    with pytest.raises(CommandError, match="The run failed") as raised:
        await sync_to_async(runteam)(str(team.id), "--input", "go")
    assert raised.value.returncode == 1


def test_a_run_cancelled_on_the_way_says_so_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runs import execution

    team = make_team(make_user(), supervisor_spec())
    start = execution.execute_in_thread

    def cancelled_first(run_id: str) -> Any:
        Run.objects.filter(id=run_id).update(cancel_requested=True)
        return start(run_id)

    monkeypatch.setattr("runs.management.commands.runteam.execute_in_thread", cancelled_first)
    with pytest.raises(CommandError, match="The run was cancelled: ") as raised:
        runteam(str(team.id), "--input", "go")
    assert raised.value.returncode == 1


def test_it_starts_the_run_as_a_member_who_may_and_refuses_one_who_may_not() -> None:
    from workspaces.models import Membership

    alice = make_user("alice")
    team = make_team(alice, supervisor_spec())
    Membership.objects.create(workspace=team.workspace, user=make_user("rita"), role="runner")
    Membership.objects.create(workspace=team.workspace, user=make_user("vic"), role="viewer")
    make_user("nora")  # in no workspace of alice's

    runteam(str(team.id), "--as", "rita", "--input", "go")
    assert Run.objects.get().owner.username == "rita"
    with pytest.raises(CommandError, match="needs the owner, admin, editor or runner role"):
        runteam(str(team.id), "--as", "vic")
    with pytest.raises(CommandError, match="nora is not a member"):
        runteam(str(team.id), "--as", "nora")
    with pytest.raises(CommandError, match="No team is called"):
        runteam(team.name, "--workspace", "someone-else")
    assert Run.objects.count() == 1
