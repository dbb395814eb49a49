"""The run websocket goes by the workspace: a viewer of the run's workspace watches it live
over a real websocket connection to the running site; someone outside the workspace is
refused exactly as for a run that does not exist."""

import json
import uuid
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from runs.actions import append
from runs.models import Run
from tests.factories import make_event, make_run, make_user
from workspaces.models import Membership

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def record(run: Run, *keys: str) -> None:
    with transaction.atomic():
        append(run, [make_event(key=key, payload={"step": key}) for key in keys])


def socket_for(server: Any, run_id: Any, user: Any) -> Any:
    url = server.url.replace("http://", "ws://") + f"/ws/runs/{run_id}/"
    return connect(url, additional_headers={"Cookie": session_cookie(user)}, open_timeout=10)


def seqs_until(socket: Any, last: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < last:
        message = json.loads(socket.recv(timeout=10))
        if message["type"] == "events":
            seen += [event["seq"] for event in message["events"]]
    return seen


def refusal_code(socket: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_a_viewer_watches_a_run_live_and_a_non_member_is_refused(asgi_server: Any) -> None:
    alice, vic, nemo = make_user("alice"), make_user("vic"), make_user("nemo")
    run = make_run(alice, status=Run.Status.RUNNING)
    Membership.objects.create(workspace=run.workspace, user=vic, role="viewer")
    record(run, "first", "second")

    with socket_for(asgi_server, run.id, vic) as socket:
        socket.send(json.dumps({"type": "subscribe", "after_seq": 0}))
        assert seqs_until(socket, 2) == [1, 2]
        # Events the run records from now on reach the viewer as they happen.
        record(run, "third", "fourth")
        assert seqs_until(socket, 4) == [3, 4]

    with socket_for(asgi_server, run.id, nemo) as outsider:
        refused = refusal_code(outsider)
    with socket_for(asgi_server, uuid.uuid4(), nemo) as nowhere:
        missing = refusal_code(nowhere)
    assert refused == missing == 4403
