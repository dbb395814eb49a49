"""Generated from the matrix, as the routes' test is: the run and experiment websockets,
opened by a member of each role and by a non-member. Every role holding the watch permission
gets the run's events (the experiment's progress); a role without it is closed with 4403; a
non-member is closed exactly as for a run (an experiment) that does not exist. An API token
reaches only its own workspace, here too."""

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from evaluations.consumers import WATCH_PERMISSION as EXPERIMENT_WATCH_PERMISSION
from evaluations.models import Dataset, Experiment
from orchestration_site.asgi import application
from runs.actions import append
from runs.consumers import WATCH_PERMISSION
from runs.models import Run
from teams.models import ApiToken
from tests.factories import make_event, make_run, make_team, make_user
from workspaces import roles
from workspaces.models import Membership, create_workspace

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = [r.value for r in roles.ORDER]


def shared_run() -> tuple[Run, dict[str, Any]]:
    users = {"owner": make_user("olga")}
    run = make_run(users["owner"], status=Run.Status.RUNNING)
    for role in ROLES[1:]:
        users[role] = make_user(f"the-{role}")
        Membership.objects.create(workspace=run.workspace, user=users[role], role=role)
    users["non-member"] = make_user("nemo")
    with transaction.atomic():
        append(run, [make_event(key=key, payload={"step": key}) for key in ("one", "two")])
    return run, users


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def credentials(user: Any, token: str) -> tuple[bytes, bytes]:
    """The handshake header of ``user`` (a session) or of an API ``token``."""
    if token:
        return (b"authorization", f"Bearer {token}".encode())
    return (b"cookie", await sync_to_async(session_cookie)(user))


async def what_it_gets(run_id: Any, user: Any = None, token: str = "") -> str:
    """``events 1,2`` when the socket delivers the run's events, else ``closed <code>``; as
    ``user`` (a session) or with an API ``token``."""
    header = await credentials(user, token)
    socket = WebsocketCommunicator(application, f"/ws/runs/{run_id}/", headers=[header])
    await socket.connect()
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    seen: list[int] = []
    try:
        while not seen or seen[-1] < 2:
            message = await socket.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return f"closed {message['code']}"
            body = json.loads(message["text"])
            if body["type"] == "events":
                seen += [event["seq"] for event in body["events"]]
        return "events " + ",".join(map(str, seen))
    finally:
        await socket.disconnect()


async def test_every_role_and_a_non_member_get_what_the_matrix_says() -> None:
    run, users = await sync_to_async(shared_run)()
    watchers = roles.roles_with(WATCH_PERMISSION)
    got = {caller: await what_it_gets(run.id, user) for caller, user in users.items()}
    wanted = {role: "events 1,2" if role in watchers else "closed 4403" for role in ROLES}
    wanted["non-member"] = await what_it_gets(uuid.uuid4(), users["non-member"])
    assert wanted["non-member"] == "closed 4403"  # a run that does not exist
    assert got == wanted


async def test_a_token_limited_to_another_workspace_cannot_watch_though_its_user_may() -> None:
    run, users = await sync_to_async(shared_run)()
    olga = users["owner"]
    elsewhere = await sync_to_async(create_workspace)("Elsewhere", owner=olga)
    _, limited = await sync_to_async(ApiToken.issue)(olga, "ci", workspace=elsewhere)
    _, own = await sync_to_async(ApiToken.issue)(olga, "cli", workspace=run.workspace)
    assert await what_it_gets(run.id, olga) == "events 1,2"
    assert await what_it_gets(run.id, token=own) == "events 1,2"
    assert await what_it_gets(run.id, token=limited) == "closed 4403"


# --- the experiment websocket ------------------------------------------------------------


def shared_experiment() -> tuple[Experiment, dict[str, Any]]:
    """An experiment in olga's workspace, whose members have every role."""
    run, users = shared_run()
    team = make_team(users["owner"])
    assert team.workspace_id == run.workspace_id
    dataset = Dataset.objects.create(owner=users["owner"], workspace=run.workspace, name="Cases")
    experiment = Experiment.objects.create(
        owner=users["owner"], workspace=run.workspace, team=team,
        team_version=team.current_version(), dataset=dataset, dataset_version=0,
    )  # fmt: skip
    return experiment, users


async def what_the_experiment_socket_gives(
    experiment_id: int, user: Any = None, token: str = ""
) -> str:
    """``progress`` when the socket sends the experiment's progress, else ``closed <code>``."""
    header = await credentials(user, token)
    url = f"/ws/experiments/{experiment_id}/"
    socket = WebsocketCommunicator(application, url, headers=[header])
    await socket.connect()
    try:
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return f"closed {message['code']}"
        body = json.loads(message["text"])
        return f"{body['type']} of {body['id']}"
    finally:
        await socket.disconnect()


async def test_the_experiment_socket_answers_every_role_and_a_non_member_as_the_matrix_says() -> (
    None
):
    experiment, users = await sync_to_async(shared_experiment)()
    watchers = roles.roles_with(EXPERIMENT_WATCH_PERMISSION)
    assert watchers != roles.EVERYONE  # so a role is refused here: the auditor
    got = {
        caller: await what_the_experiment_socket_gives(experiment.pk, user)
        for caller, user in users.items()
    }
    seen = f"progress of {experiment.pk}"
    wanted = {role: seen if role in watchers else "closed 4403" for role in ROLES}
    wanted["non-member"] = await what_the_experiment_socket_gives(
        experiment.pk + 1000, users["non-member"]
    )
    assert wanted["non-member"] == "closed 4403"  # an experiment that does not exist
    assert got == wanted


async def test_a_token_limited_to_another_workspace_cannot_watch_the_experiment() -> None:
    experiment, users = await sync_to_async(shared_experiment)()
    olga = users["owner"]
    elsewhere = await sync_to_async(create_workspace)("Elsewhere", owner=olga)
    _, limited = await sync_to_async(ApiToken.issue)(olga, "ci", workspace=elsewhere)
    _, own = await sync_to_async(ApiToken.issue)(olga, "cli", workspace=experiment.workspace)
    seen = f"progress of {experiment.pk}"
    assert await what_the_experiment_socket_gives(experiment.pk, olga) == seen
    assert await what_the_experiment_socket_gives(experiment.pk, token=own) == seen
    assert await what_the_experiment_socket_gives(experiment.pk, token=limited) == "closed 4403"
    anonymous = WebsocketCommunicator(application, f"/ws/experiments/{experiment.pk}/")
    await anonymous.connect()
    assert (await anonymous.receive_output(timeout=5))["code"] == 4401
    await anonymous.disconnect()
