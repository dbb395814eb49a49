"""Hand-written factories: small functions that make what a test needs, with overridable
defaults. Add yours at the end; keep each one short."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User

from teams.spec import TeamSpec, parse

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", **kwargs: Any) -> User:
    kwargs.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


def minimal_spec(pattern: str = "supervisor", **overrides: Any) -> dict[str, Any]:
    """The smallest valid TeamSpec document: one entry agent of the given pattern."""
    spec: dict[str, Any] = {
        "spec_version": 1,
        "name": "Minimal team",
        "pattern": pattern,
        "entry": "lead",
        "nodes": [{"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Answer."}],
        "edges": [],
    }
    spec.update(overrides)
    return spec


def supervisor_spec(**overrides: Any) -> dict[str, Any]:
    """A valid supervisor team: 'lead' delegates to 'worker'."""
    return minimal_spec(
        "supervisor",
        nodes=[
            {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Delegate."},
            {"kind": "agent", "id": "worker", "name": "Worker", "instructions": "Do it."},
        ],
        edges=[{"id": "e1", "source": "lead", "target": "worker", "kind": "delegates"}],
        **overrides,
    )


def make_team(owner: User, spec: dict[str, Any] | None = None, *, draft: bool = False) -> Any:
    """A saved team (version 1) owned by ``owner``; ``draft`` saves a spec with errors too."""
    from teams.services import create_team
    from workspaces.models import personal_workspace

    team, _ = create_team(
        owner, parse(spec or minimal_spec()), workspace=personal_workspace(owner), draft=draft
    )
    return team


def make_token(user: User, name: str = "test") -> str:
    from teams.models import ApiToken

    return ApiToken.issue(user, name)[1]


# --- engine: team specs ---------------------------------------------------------------


def make_agent(agent_id: str, **kwargs: Any) -> dict[str, Any]:
    """An agent node as the builder saves it; its name is its id with a capital letter."""
    return {"kind": "agent", "id": agent_id, "name": agent_id.capitalize(), **kwargs}


def make_edge(source: str, target: str, kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target, "kind": kind, **kwargs}


def make_spec(
    pattern: str, nodes: list[dict], edges: Sequence[dict] = (), **kwargs: Any
) -> TeamSpec:
    """A parsed TeamSpec; the entry is the first node unless given."""
    kwargs.setdefault("entry", nodes[0]["id"])
    return parse({"pattern": pattern, "nodes": nodes, "edges": list(edges), **kwargs})


def make_custom_tool(owner: User, **kwargs: Any) -> Any:
    """A user's HTTP tool: an order lookup unless told otherwise."""
    from teams.models import CustomTool

    kwargs.setdefault("name", "order_lookup")
    kwargs.setdefault("description", "Look up an order by id.")
    kwargs.setdefault("url", "https://shop.example.com/api/orders/{order_id}")
    kwargs.setdefault(
        "parameters",
        {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    )
    return CustomTool.objects.create(owner=owner, **kwargs)


# --- templates ----------------------------------------------------------------------


def install_templates() -> str:
    """Install the shipped template gallery as ``make run`` does; returns what it printed."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("loadtemplates", stdout=out)
    return out.getvalue()


def make_event(type: str = "message", key: str | None = None, **kwargs: Any) -> Any:
    """An engine event, e.g. ``make_event("tool.call", payload={...})``."""
    import time

    from runs.engine.events import Event

    return Event(type=type, key=key or f"{type}:{time.monotonic_ns()}", ts=time.time(), **kwargs)


def make_secret(owner: User, name: str, value: str = "s3cret-value", *hosts: str) -> Any:
    """A secret ``owner`` stored, encrypted, bound to ``hosts`` (api.example.com if none)."""
    from teams.model_configs import SecretIn, store_secret
    from workspaces.models import personal_workspace

    data = SecretIn(name=name, value=value, hosts=list(hosts or ["api.example.com"]))
    return store_secret(owner, data, personal_workspace(owner))[0]


def make_model_config(owner: User, base_url: str, name: str = "scripted", **kwargs: Any) -> Any:
    """An OpenAI-compatible model at ``base_url`` (the test server on 127.0.0.1), with the
    operator credential the tests define (pyproject.toml: ``test-server``, whose key is in
    SCRIPTED_KEY and which may be sent to 127.0.0.1 only)."""
    from teams.models import ModelConfig

    kwargs.setdefault("credential", "test-server")
    return ModelConfig.objects.create(
        owner=owner, name=name, provider="openai", model="test-model", base_url=base_url, **kwargs
    )


def approval_pipeline_spec(model: str = "offline") -> dict[str, Any]:
    """draft -> a person approves -> publish."""
    return minimal_spec(
        "pipeline",
        entry="draft",
        nodes=[
            {"kind": "agent", "id": "draft", "name": "Draft", "model": model},
            {"kind": "human", "id": "editor", "name": "Editor", "prompt": "Approve the draft?"},
            {"kind": "agent", "id": "publish", "name": "Publish", "model": model},
        ],
        edges=[
            {"id": "e1", "source": "draft", "target": "editor", "kind": "next"},
            {"id": "e2", "source": "editor", "target": "publish", "kind": "next"},
        ],
    )


def expert_question_spec(timeout_s: float, model: str = "offline") -> dict[str, Any]:
    """The lead delegates to a person, the expert, who has ``timeout_s`` to answer."""
    expert = {"kind": "human", "id": "expert", "name": "Expert", "prompt": "Which figures?",
              "timeout_s": timeout_s}  # fmt: skip
    return minimal_spec(
        nodes=[{"kind": "agent", "id": "lead", "name": "Lead", "model": model}, expert],
        edges=[{"id": "e1", "source": "lead", "target": "expert", "kind": "delegates"}],
    )


def make_run(owner: User, team: Any = None, **kwargs: Any) -> Any:
    """A run, as if just created; pass ``status`` etc. to place it. It lives in ``team``'s
    workspace when a team is given, as a run started from the team does; else in the
    owner's personal one."""
    from runs.models import Run

    if team is not None:
        kwargs.setdefault("workspace", team.workspace)
    kwargs.setdefault("team_name", team.name if team else "Research team")
    kwargs.setdefault("spec", {"name": kwargs["team_name"], "pattern": "supervisor"})
    kwargs.setdefault("input", {"task": "Summarise the findings"})
    return Run.objects.create(owner=owner, team=team, **kwargs)


def append_event(run: Any, type: str, agent: str = "", **kwargs: Any) -> Any:
    """Append the run's next event, numbered and hash-chained exactly as the sink does."""
    from django.utils import timezone

    from runs.chain import GENESIS_HASH
    from runs.engine.events import chain_hash
    from runs.models import RunEvent

    last = run.events.order_by("-seq").first()
    seq = last.seq + 1 if last else 1
    event = RunEvent(
        run=run,
        seq=seq,
        ts=kwargs.pop("ts", None) or timezone.now(),
        type=type,
        key=kwargs.pop("key", f"{type}#{seq}"),
        agent=agent,
        span_id=kwargs.pop("span_id", ""),
        parent_span_id=kwargs.pop("parent_span_id", ""),
        payload=kwargs.pop("payload", {}),
    )
    event.hash = chain_hash(last.hash if last else GENESIS_HASH, event.hashed_fields())
    event.save()
    return event


def sign_head(run: Any) -> None:
    """Sign the run's head as its executor does when the run stops (``runs.heads``)."""
    from runs.chain import ChainHead
    from runs.heads import sign

    head = ChainHead.of(run.id)
    run.audit_head = sign(run.id, head.seq, head.hash)
    run.save(update_fields=["audit_head"])


# --- ops: a team to run, its runs -------------------------------------------------------


def make_supervisor_team(owner: User, name: str = "Research desk") -> Any:
    """A saved supervisor team: 'lead' delegates to 'researcher', who has the calculator."""
    nodes = [make_agent("lead"), make_agent("researcher", tools=["calculator"])]
    edges = [make_edge("lead", "researcher", "delegates")]
    return make_team(owner, minimal_spec(name=name, nodes=nodes, edges=edges))


def make_run_of(team: Any, **kwargs: Any) -> Any:
    """A run of ``team``'s current version, queued unless ``status`` says otherwise."""
    kwargs.setdefault("status", "queued")
    kwargs.setdefault("input", {"question": "What is 6 * 7?"})
    version, spec = team.current_version(), team.spec
    return make_run(
        team.owner, team=team, team_version=version, team_name=team.name, spec=spec, **kwargs
    )


# --- retention: old runs with many events -----------------------------------------------


def make_ended_run(
    owner: User, events: int = 5, days_ago: float = 40, status: str = "succeeded", **kwargs: Any
) -> Any:
    """A run that ended ``days_ago`` with ``events`` chained events (stored in one INSERT,
    hashed as the sink hashes them) and its head signed. Active statuses get no end."""
    from datetime import timedelta

    from django.utils import timezone

    from runs.chain import GENESIS_HASH
    from runs.engine.events import chain_hash
    from runs.models import Run, RunEvent

    then = timezone.now() - timedelta(days=days_ago)
    ended = status in Run.FINISHED_STATUSES
    run = make_run(owner, status=status, finished_at=then if ended else None, **kwargs)
    Run.objects.filter(id=run.id).update(created_at=then - timedelta(minutes=5))
    rows, previous = [], GENESIS_HASH
    for seq in range(1, events + 1):
        row = RunEvent(run=run, seq=seq, ts=then, type="message", key=f"message#{seq}",
                       agent="lead", payload={"content": f"Step {seq} of the work, résumé ✓"})  # fmt: skip
        row.hash = previous = chain_hash(previous, row.hashed_fields())
        rows.append(row)
    RunEvent.objects.bulk_create(rows, batch_size=5000)
    sign_head(run)
    return Run.objects.get(id=run.id)
