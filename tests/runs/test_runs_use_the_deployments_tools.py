"""A run started in the product gets what its tools need from the deployment: the publish tool
writes to the configured outbox, charts become the run's artifacts, the operator's registered
MCP servers the team names are connected for the run, an MCP server that cannot start fails the
run with its name, and a program a team names itself is never started."""

import json
from pathlib import Path
from typing import Any

import pytest

from runs.engine.tools.mcp_servers import parse_registry
from runs.models import Artifact, Run, RunEvent
from teams.models import Team
from teams.spec import parse
from tests.factories import install_templates, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.chdir(ROOT)  # so "python -m tests.tools..." finds the MCP server module


def instantiate(client: Any, slug: str) -> int:
    response = client.post(f"/api/templates/{slug}/instantiate")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_the_content_template_publishes_to_the_configured_outbox(settings: Any) -> None:
    install_templates()
    alice = make_user()
    client = logged_in(alice)
    team_id = instantiate(client, "content-production")
    sample = json.loads((ROOT / "teams/team_templates/content-production/input.json").read_text())

    run = wait_for_status(start(client, team_id, sample), "succeeded", "failed", "waiting")

    assert run.status == "succeeded", run.failure_reason
    outbox = Path(settings.OUTBOX_DIR) / f"user-{alice.id}"  # alice's own folder
    platforms = {p.name for p in outbox.iterdir() if any(p.iterdir())}
    assert len(platforms) >= 2, platforms
    assert_sound_trail(run)


def test_the_monthly_close_chart_is_an_artifact_of_the_run() -> None:
    install_templates()
    alice = make_user()
    client = logged_in(alice)
    team_id = instantiate(client, "monthly-close")
    sample = json.loads((ROOT / "teams/team_templates/monthly-close/input.json").read_text())

    run = wait_for_status(start(client, team_id, sample), "succeeded", "failed", "waiting")

    assert run.status == "succeeded", run.failure_reason
    [chart] = Artifact.objects.filter(run=run)
    assert chart.content_type == "image/png" and chart.file.read(8) == b"\x89PNG\r\n\x1a\n"
    shown = logged_in(alice).get(f"/api/runs/{run.id}")
    assert [a["id"] for a in shown.json()["artifacts"]] == [str(chart.id)]


def register(settings: Any, command: str, *args: str) -> None:
    """The operator's MCP_SERVERS, holding one server called 'warehouse'."""
    settings.MCP_SERVERS = parse_registry({"warehouse": {"command": command, "args": list(args)}})


def mcp_team_spec(**server: Any) -> dict[str, Any]:
    spec = minimal_spec("supervisor")
    spec["nodes"][0]["tools"] = ["inventory.stock_level"]
    spec["nodes"][0]["instructions"] = "inventory.stock_level.sku: LAMP-01"
    spec["mcp_servers"] = [{"name": "inventory", "transport": "stdio", **server}]
    parse(spec)  # the document is a valid TeamSpec
    return spec


def test_an_agent_calls_a_tool_of_a_registered_mcp_server(settings: Any) -> None:
    register(settings, "python", "-m", "tests.tools.mcp_inventory_server")
    alice = make_user()
    team = make_team(alice, mcp_team_spec(server="warehouse"))

    run = wait_for_status(start(logged_in(alice), team.id, {}), "succeeded", "failed")

    assert run.status == "succeeded", run.failure_reason
    [result] = RunEvent.objects.filter(run=run, type="tool.result")
    assert result.payload["tool"] == "inventory.stock_level" and result.payload["ok"]
    assert result.payload["result"]["sku"] == "LAMP-01"


def test_a_run_whose_mcp_server_cannot_start_fails_naming_it(settings: Any) -> None:
    register(settings, "/nonexistent/mcp-server")
    alice = make_user()
    team = make_team(alice, mcp_team_spec(server="warehouse"))

    run = wait_for_status(start(logged_in(alice), team.id, {}), "succeeded", "failed")

    assert run.status == "failed" and "'inventory'" in run.failure_reason
    events = assert_sound_trail(run)
    assert events[-1].type == "run.failed"


def stored_as_valid(owner: Any, document: dict[str, Any]) -> Team:
    """A team saved before the registry existed: in the database, marked valid, as it was."""
    team = Team(owner=owner, name="Old team", pattern="supervisor")
    team.save_version(parse(document), by=owner, is_valid=True)
    return team


def test_a_stored_team_that_names_a_program_never_starts_it(settings: Any, tmp_path: Path) -> None:
    # The attack from issue 16: a spec whose MCP server is a shell command. Stored before the
    # fix (or written into the database), it still loads, but running it starts nothing.
    register(settings, "python", "-m", "tests.tools.mcp_inventory_server")
    proof = tmp_path / "proof.txt"
    alice = make_user()
    team = stored_as_valid(alice, mcp_team_spec(command=["sh", "-c", f"id > {proof}"]))
    client = logged_in(alice)

    run = wait_for_status(start(client, team.id, {}), "succeeded", "failed")

    assert run.status == "failed"
    assert "names a program or environment variables" in run.failure_reason
    assert not proof.exists()
    assert not RunEvent.objects.filter(run=run, type="tool.call").exists()
    # The team and the run still load; the team's problems say where the program is named.
    problems = client.get(f"/api/teams/{team.id}").json()["problems"]
    assert [p["path"] for p in problems if p["code"] == "mcp_program_in_team"] == ["mcp_servers.0"]
    assert client.get(f"/api/runs/{run.id}").status_code == 200
    assert Run.objects.get(id=run.id).spec["mcp_servers"][0]["command"][0] == "sh"
