"""Resuming from any prefix of a run's journal gives the same result, and no completed model
call is made again: the run has parallel branches, a retried call and a tool call."""

import contextlib

from runs.engine import run_team
from runs.engine.interfaces import CancelToken, Journal, SystemClock
from runs.engine.tools import builtin_registry
from tests.engine.helpers import FAST, run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply


def team():
    return make_spec(
        "supervisor",
        [
            make_agent("boss", model="test"),
            make_agent("alpha", model="test", tools=["calculator"]),
            make_agent("beta", model="test"),
        ],
        [make_edge("boss", "alpha", "delegates"), make_edge("boss", "beta", "delegates")],
    )


def script(server) -> None:
    server.on(
        lambda r: "You are Boss" in r.system and r.turn == 1,
        Reply.calls(("delegate_to_alpha", {"task": "sum"}), ("delegate_to_beta", {"task": "word"})),
    )
    server.on(
        lambda r: "You are Boss" in r.system, lambda r: Reply.text(" & ".join(r.tool_results))
    )
    server.on(
        lambda r: "You are Alpha" in r.system and r.turn == 1,
        Reply.calls(("calculator", {"expression": "40 + 2"}), delay_s=0.02),
    )
    server.on(
        lambda r: "You are Alpha" in r.system,
        lambda r: Reply.text(f"alpha got {r.tool_results[0]}"),
    )
    # Beta's first attempt at every call is rate limited; the retry succeeds.
    server.on(lambda r: "You are Beta" in r.system and r.attempt == 1, Reply.error(429))
    server.on(lambda r: "You are Beta" in r.system, Reply.text("beta", delay_s=0.01))


async def test_every_prefix_of_the_journal_resumes_to_the_same_output(openai_server):
    script(openai_server)
    models = server_models(openai_server.base_url)
    original, sink = await run(team(), "start", models=models)
    events = sink.events
    keys = [e.key for e in events]
    assert original.status == "succeeded"
    assert '"value": 42' in original.output and "beta" in original.output
    assert {"retry", "activity.failed", "tool.result", "delegation"} <= set(sink.types())
    assert len(keys) == len(set(keys))

    for k in range(len(events) + 1):
        prefix = events[:k]
        served_before = len(openai_server.log)

        outcome, resumed = await run(team(), "start", models=models, journal=prefix)

        assert outcome.output == original.output, f"prefix {k}"
        new_keys = [e.key for e in resumed.events]
        assert not set(new_keys) & {e.key for e in prefix}, f"prefix {k} re-emitted an event"
        assert len(new_keys) == len(set(new_keys)), f"prefix {k} emitted a key twice"
        assert {e.key for e in prefix} | set(new_keys) == set(keys), f"prefix {k}"
        repeated = [
            r.activity_key
            for r in openai_server.log[served_before:]
            if r.completed and any(e.key == r.activity_key for e in prefix)
        ]
        assert not repeated, f"prefix {k} repeated completed model calls {repeated}"


class WorkerKilled(Exception):
    """The worker dies right after an event became durable."""


class DyingSink:
    """Stores events into ``journal`` and kills the run after ``lives`` new ones."""

    def __init__(self, journal: list, lives: int) -> None:
        self.journal, self.lives = journal, lives

    async def emit(self, event, *, durable=True) -> None:
        if event.type == "message.delta":
            return
        self.journal.append(event)
        self.lives -= 1
        if self.lives == 0:
            raise WorkerKilled


async def test_a_run_killed_after_every_event_never_repeats_a_recorded_call(openai_server):
    script(openai_server)
    models = server_models(openai_server.base_url)
    original, _ = await run(team(), "start", models=models)

    # Each new worker resumes from what the last one stored, and is killed after one more event.
    # (A call in flight in a sibling branch when a worker dies may be made again: its result was
    # never recorded. A call whose result was recorded never is.)
    journal: list = []
    outcome = None
    for _ in range(500):
        recorded = {e.key for e in journal}
        served_before = len(openai_server.log)
        with contextlib.suppress(WorkerKilled):
            outcome = await run_team(
                team(), "start", journal=Journal(journal), sink=DyingSink(journal, 1),
                models=models, tools=builtin_registry(), clock=SystemClock(),
                cancel=CancelToken(), seed=7, run_id="r", options=FAST,
            )  # fmt: skip
        served = openai_server.log[served_before:]
        assert not [r.activity_key for r in served if r.completed and r.activity_key in recorded]
        if outcome is not None:
            break

    assert outcome is not None and outcome.output == original.output
    assert len({e.key for e in journal}) == len(journal)
