"""A run started in the product gets what its tools need from the deployment: the publish tool
writes to the configured outbox, charts become the run's artifacts, the team's MCP servers are
connected for the run, and an MCP server that cannot start fails the run with its name."""

import json
from pathlib import Path
from typing import Any

import pytest

from runs.models import Artifact, RunEvent
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


def mcp_team_spec(command: list[str]) -> dict[str, Any]:
    spec = minimal_spec("supervisor")
    spec["nodes"][0]["tools"] = ["inventory.stock_level"]
    spec["nodes"][0]["instructions"] = "inventory.stock_level.sku: LAMP-01"
    spec["mcp_servers"] = [{"name": "inventory", "transport": "stdio", "command": command}]
    parse(spec)  # the document is a valid TeamSpec
    return spec


def test_an_agent_calls_a_tool_of_the_teams_mcp_server() -> None:
    alice = make_user()
    team = make_team(alice, mcp_team_spec(["python", "-m", "tests.tools.mcp_inventory_server"]))

    run = wait_for_status(start(logged_in(alice), team.id, {}), "succeeded", "failed")

    assert run.status == "succeeded", run.failure_reason
    [result] = RunEvent.objects.filter(run=run, type="tool.result")
    assert result.payload["tool"] == "inventory.stock_level" and result.payload["ok"]
    assert result.payload["result"]["sku"] == "LAMP-01"


def test_a_run_whose_mcp_server_cannot_start_fails_naming_it() -> None:
    alice = make_user()
    team = make_team(alice, mcp_team_spec(["/nonexistent/mcp-server"]), draft=True)

    run = wait_for_status(start(logged_in(alice), team.id, {}), "succeeded", "failed")

    assert run.status == "failed" and "'inventory'" in run.failure_reason
    events = assert_sound_trail(run)
    assert events[-1].type == "run.failed"
