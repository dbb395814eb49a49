"""A team uses stdio MCP servers only by the name the operator registered them under: a spec
that names a program or worker environment variables is refused where it says so, through
every way a team is saved or checked, and listing tools or servers starts nothing."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from runs.engine.tools.mcp_servers import parse_registry
from tests.factories import minimal_spec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registry(settings: Any) -> None:
    settings.MCP_SERVERS = parse_registry(
        {
            "warehouse": {
                "command": "/usr/local/bin/warehouse-mcp",
                "env": ["WAREHOUSE_TOKEN"],
                "description": "Stock levels and reorders.",
            }
        }
    )


def with_server(**server: Any) -> dict[str, Any]:
    spec = minimal_spec()
    spec["mcp_servers"] = [{"name": "inventory", "transport": "stdio", **server}]
    return spec


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def test_it_refuses_a_team_that_names_a_program_to_start(
    alice_client: Client, tmp_path: Path
) -> None:
    proof = tmp_path / "proof.txt"
    attack = with_server(command=["sh", "-c", f"id > {proof}"])

    response = post(alice_client, "/api/teams", {"name": "Attack", "spec": attack})

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["code"] == "mcp_program_in_team"
    assert problem["path"] == "mcp_servers.0"
    assert "registered" in problem["message"]
    assert not proof.exists()
    assert alice_client.get("/api/teams").json() == []  # nothing was saved


def test_it_refuses_a_team_that_names_worker_variables(alice_client: Client) -> None:
    attack = with_server(server="warehouse", env={"TOKEN": "SECRET_KEY"})
    response = post(alice_client, "/api/teams/import", attack)
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("mcp_program_in_team", "mcp_servers.0")


def test_it_refuses_a_name_the_operator_did_not_register(alice_client: Client) -> None:
    response = post(alice_client, "/api/teams/validate", with_server(server="github"))
    assert response.json()["valid"] is False
    [problem] = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("unknown_mcp_server", "mcp_servers.0.server")
    assert "warehouse" in problem["message"]  # what may be chosen instead


def test_it_saves_a_team_that_names_a_registered_server(alice_client: Client) -> None:
    spec = with_server(server="warehouse")
    response = post(alice_client, "/api/teams", {"name": "Stock", "spec": spec})
    assert response.status_code == 201, response.content
    assert response.json()["spec"]["mcp_servers"][0]["server"] == "warehouse"


def test_an_http_server_stays_open_to_teams(alice_client: Client) -> None:
    spec = minimal_spec()
    spec["mcp_servers"] = [{"name": "docs", "transport": "http", "url": "https://mcp.example"}]
    response = post(alice_client, "/api/teams", {"name": "Docs", "spec": spec})
    assert response.status_code == 201, response.content


def test_the_registry_is_listed_by_name_without_commands(alice_client: Client) -> None:
    response = alice_client.get("/api/mcp-servers")
    assert response.json() == [{"name": "warehouse", "description": "Stock levels and reorders."}]
    assert "/usr/local/bin" not in alice_client.get("/api/tools").content.decode()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[1]", "must be a JSON object"),
        ('{"x": {"command": ""}}', "command"),
        ('{"x": {"command": "a", "env": ["NOT A NAME"]}}', "env"),
        ('{"x": {"command": "a", "cmd": "b"}}', "cmd"),
        ("{not json", "not valid JSON"),
    ],
)
def test_nonsense_in_the_registry_stops_start_up(value: str, reason: str) -> None:
    from runs.engine.tools.mcp_servers import load_registry

    with pytest.raises(ValueError, match=reason):
        load_registry(value)


def settings_loaded_with(**variables: str) -> Any:
    """Load the settings in a fresh interpreter with ``variables`` in its environment."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-c", "import orchestration_site.settings as s; print(sorted(s.MCP_SERVERS))"],
        cwd=root, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(root), "SECRET_KEY": "x", **variables},
    )  # fmt: skip


def test_the_settings_read_the_registry_from_a_file_or_refuse_to_start(tmp_path: Path) -> None:
    registry_file = tmp_path / "mcp.json"
    registry_file.write_text('{"warehouse": {"command": "/usr/bin/warehouse-mcp"}}')
    loaded = settings_loaded_with(MCP_SERVERS_FILE=str(registry_file))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "['warehouse']"

    refused = settings_loaded_with(MCP_SERVERS='{"bad name!": {"command": "x"}}')
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "MCP_SERVERS" in refused.stderr
