"""Generated from the matrix, as the routes' test is: the run websocket, opened by a member
of each role and by a non-member. Every role holding the watch permission gets the run's
events; a role without it would be closed with 4403; a non-member is closed exactly as for a
run that does not exist. An API token reaches only its own workspace, here too."""

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from orchestration_site.asgi import application
from runs.actions import append
from runs.consumers import WATCH_PERMISSION
from runs.models import Run
from teams.models import ApiToken
from tests.factories import make_event, make_run, make_user
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


async def what_it_gets(run_id: Any, user: Any = None, token: str = "") -> str:
    """``events 1,2`` when the socket delivers the run's events, else ``closed <code>``; as
    ``user`` (a session) or with an API ``token``."""
    if token:
        header = (b"authorization", f"Bearer {token}".encode())
    else:
        header = (b"cookie", await sync_to_async(session_cookie)(user))
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
