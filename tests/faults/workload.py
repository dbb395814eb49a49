"""The runs every fault test has in flight when its fault strikes, and the checks they must pass.

Per case: a *desk* run, a supervisor whose first turn calls an HTTP tool (served and counted by
the local model server) and fans out to three workers at once: an analyst who calls the
calculator, a writer, and a nested team (a clerk); and an *approval* run, a pipeline that waits
for a person between two model calls. Every prompt names its case, so the model server tells
the runs' calls apart, and every reply depends only on the request, so a resumed run gets the
same answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from runs.models import Run, RunEvent
from teams.models import ApiToken
from tests.factories import make_custom_tool, make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, start
from tests.support.openai_server import ChatRequest, Reply, ScriptedOpenAIServer

# Model calls each run makes to completion: lead 2, analyst 2, writer 1, clerk 1; draft 1,
# publish 1.
DESK_CALLS = 6
APPROVAL_CALLS = 2
#: A worker may send the HTTP tool's requests to the local server, and a run's executor counts
#: as dead after 10 s of silence: with the 3 s of tests/runs, a worker starved of CPU for 3 s
#: on this shared machine (a daphne starting, another suite) lost its runs to another
#: executor while alive, and the model calls it had under way were made again. A lease
#: cannot do better; production's is 30 s (RUN_STALE_AFTER_S).
WORKER_ENV = {"TOOLS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1", "RUN_STALE_AFTER_S": "10"}


def agent(case: int, key: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "agent", "id": key, "name": key.capitalize(), "model": "scripted",
            "instructions": f"Case {case}: you are the {key}.", **fields}  # fmt: skip


def desk_spec(case: int) -> dict[str, Any]:
    clerk = minimal_spec(name=f"Desk {case}", entry="clerk", nodes=[agent(case, "clerk")])
    nodes = [
        agent(case, "lead", tools=["order_lookup"]),
        agent(case, "analyst", tools=["calculator"]),
        agent(case, "writer"),
        {"kind": "team", "id": "desk", "name": "Desk", "spec": clerk},
    ]
    edges = [
        {"id": f"e-{w}", "source": "lead", "target": w, "kind": "delegates"}
        for w in ("analyst", "writer", "desk")
    ]
    return minimal_spec(name=f"Case {case}", nodes=nodes, edges=edges)


def approval_spec(case: int) -> dict[str, Any]:
    editor = {"kind": "human", "id": "editor", "name": "Editor", "prompt": "Approve?"}
    return minimal_spec(
        "pipeline",
        name=f"Approval {case}",
        entry="draft",
        nodes=[agent(case, "draft"), editor, agent(case, "publish")],
        edges=[
            {"id": "e1", "source": "draft", "target": "editor", "kind": "next"},
            {"id": "e2", "source": "editor", "target": "publish", "kind": "next"},
        ],
    )


def case_of(request: ChatRequest) -> int:
    return int(request.system.split("Case ", 1)[1].split(":", 1)[0])


def role_of(request: ChatRequest) -> str:
    return request.system.split("you are the ", 1)[1].split(".", 1)[0]


def answer(request: ChatRequest, delay_s: float) -> Reply:
    """What every agent of the workload says, from the request alone."""
    case, role = case_of(request), role_of(request)
    if role == "lead" and request.turn == 1:
        return Reply.calls(
            ("order_lookup", {"order_id": f"case-{case}"}),
            ("delegate_to_analyst", {"task": "Add up the order."}),
            ("delegate_to_writer", {"task": "Write the note."}),
            ("delegate_to_desk", {"task": "File it."}),
            delay_s=delay_s,
        )
    if role == "analyst" and request.turn == 1:
        return Reply.calls(("calculator", {"expression": "6 * 7"}), delay_s=delay_s)
    return Reply.text(f"Case {case}: the {role} is done.", delay_s=delay_s)


Fault = Callable[[ChatRequest], Reply | None]


def script(
    server: ScriptedOpenAIServer, delay_s: float, fault: Fault | None = None
) -> list[ChatRequest]:
    """Answer the workload's calls; ``fault`` may answer some otherwise. Returns the list of
    the requests it did answer, which are not answers the run can use."""
    faulted: list[ChatRequest] = []

    def reply(request: ChatRequest) -> Reply:
        if fault is not None and (bad := fault(request)) is not None:
            faulted.append(request)
            return bad
        return answer(request, delay_s)

    server.on(lambda r: True, reply)
    return faulted


@dataclass
class Workload:
    desk: dict[str, int]  # run id: case
    approval: dict[str, int]
    token: str
    client: Any

    @property
    def run_ids(self) -> list[str]:
        return [*self.desk, *self.approval]


def start_workload(server: ScriptedOpenAIServer, cases: int = 2) -> Workload:
    """Alice's desk and approval runs, one of each per case."""
    alice = make_user()
    make_model_config(alice, server.base_url)
    make_custom_tool(alice, url=f"{server.tool_url}/orders/{{order_id}}")
    client = logged_in(alice)
    token = ApiToken.issue(alice, "watcher")[1]
    desk = {start(client, make_team(alice, desk_spec(c)).id, f"Case {c}"): c for c in range(cases)}
    approval = {
        start(client, make_team(alice, approval_spec(c)).id, f"Case {c}"): c for c in range(cases)
    }
    return Workload(desk, approval, token, client)


def in_flight_with_editors_waited_for(
    server: ScriptedOpenAIServer, workload: Workload, within_s: float = 60.0
) -> None:
    """Until the desk runs are ``in_flight`` while every approval run waits for its editor."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        waiting = Run.objects.filter(id__in=list(workload.approval), status="waiting").count()
        if (
            waiting == len(workload.approval)
            and in_flight(server, workload)
            and lookups_recorded(workload)
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"the workload was not in flight with its editors asked in {within_s} s")


def answer_the_editors(workload: Workload) -> None:
    """Approve every approval run once it waits (the database may be coming back)."""
    for run_id in workload.approval:
        wait_for(run_id, "waiting")
        response = workload.client.post(
            f"/api/runs/{run_id}/answer",
            json.dumps({"answer": "Approved"}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content


def wait_for(run_id: str, *statuses: str, within_s: float = 90.0) -> Run:
    """Poll until the run is in one of ``statuses``, riding out a database that restarts."""
    deadline = time.monotonic() + within_s
    run = None
    while time.monotonic() < deadline:
        try:
            run = Run.objects.get(id=run_id)
            if run.status in statuses:
                return run
        except (OperationalError, InterfaceError):
            connection.close()  # the database went away: connect afresh next time
        time.sleep(0.2)
    close_old_connections()
    types = list(RunEvent.objects.filter(run_id=run_id).values_list("type", flat=True))
    status, reason = (run.status, run.failure_reason) if run else ("unknown", "")
    raise AssertionError(
        f"run is {status} ({reason}), not {statuses}, after {within_s} s; events: {types}"
    )


def assert_every_run_finished_whole(
    server: ScriptedOpenAIServer, workload: Workload, faulted: Sequence[ChatRequest] = ()
) -> None:
    """Every run succeeded with a sound trail; each model and tool call completed once."""
    for run_id in workload.run_ids:
        run = wait_for(run_id, "succeeded", "failed", "cancelled")
        assert run.status == "succeeded", (run_id, run.failure_reason)
        events = assert_sound_trail(run)
        types = Counter(e.type for e in events)
        assert types["run.started"] == 1 and types["run.finished"] == 1, types
        if run_id in workload.desk:
            # The lead's tool and three delegations, and the analyst's calculator.
            assert (types["tool.call"], types["tool.result"], types["delegation"]) == (5, 5, 3), (
                types
            )
        else:
            assert types["human.answered"] == 1, types
    assert_no_call_made_twice(server, workload, faulted)


def assert_no_call_made_twice(
    server: ScriptedOpenAIServer, workload: Workload, faulted: Sequence[ChatRequest] = ()
) -> None:
    answers = [r for r in server.completed() if not any(r is f for f in faulted)]
    completed = Counter((case_of(r), r.activity_key) for r in answers)
    again = {k: n for k, n in completed.items() if n > 1}
    assert again == {}, f"model calls made again: {again}"
    per_case = Counter(case for case, _ in completed)
    expected = DESK_CALLS + APPROVAL_CALLS
    assert per_case == {c: expected for c in workload.desk.values()}, per_case
    tools = Counter(call.path for call in server.tool_log if call.completed)
    assert tools == {f"orders/case-{c}": 1 for c in workload.desk.values()}, tools


def lookups_recorded(workload: Workload) -> bool:
    """Every desk run's ``order_lookup`` result is stored. The engine stores a result without
    waiting for it (the next activity's announcement waits: runs/engine/interfaces.py), and
    the lead's lookup runs beside its delegations, whose turns were announced before it
    answered: until the sink stores it, a crash makes the lookup again, as designed. The
    promise is that no recorded call is made again, so the fault comes after the record."""
    stored = RunEvent.objects.filter(
        run_id__in=list(workload.desk), type="tool.result", payload__tool="order_lookup"
    ).values_list("run_id", flat=True)
    return {str(run_id) for run_id in stored} == set(workload.desk)


async def until_in_flight(
    server: ScriptedOpenAIServer, workload: Workload, within_s: float = 60.0
) -> None:
    """Until the desk runs are ``in_flight`` with their lookups recorded."""
    deadline = time.monotonic() + within_s
    while not (in_flight(server, workload) and await sync_to_async(lookups_recorded)(workload)):
        if time.monotonic() > deadline:
            raise AssertionError(f"the workload was not in flight in {within_s} s")
        await asyncio.sleep(0.05)


def in_flight(server: ScriptedOpenAIServer, workload: Workload) -> bool:
    """Every desk run has called its tool and fanned out, and waits on a worker's model call."""
    tools = {call.path for call in server.tool_log if call.completed}
    open_calls = {
        case_of(r) for r in list(server.log)
        if not r.completed and role_of(r) in ("analyst", "writer", "clerk")
    }  # fmt: skip
    return all(f"orders/case-{c}" in tools and c in open_calls for c in workload.desk.values())
