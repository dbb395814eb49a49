"""User JSON Schemas are evaluated without backtracking regular expressions, wherever they are
checked: a run's input, a person's answer, an agent's output and a gate, a custom tool's
arguments (issue 16, finding 7: ``^(a+)+$`` against 27 a's and a '!' held the web process for
3.4 s). Patterns RE2 cannot evaluate are refused where they are written, and a schema's
``$ref`` never makes the server fetch a URL."""

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, TestCase

from runs.engine.structured import parse_output, schema_problems
from runs.engine.tools.schema_args import args_model
from runs.models import Run
from tests.factories import minimal_spec
from tests.runs.test_runs_api import waiting_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]

EVIL = "^(a+)+$"
ATTACK = "a" * 27 + "!"
PROMPTLY_S = 2.0  # Python's re needs seconds for this, and twice as long per extra 'a'


def post(client: Client, url: str, body: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, json.dumps(body), content_type="application/json")


def timed(call: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def team_with_input_schema(client: Client, schema: dict[str, Any]) -> Any:
    return post(
        client, "/api/teams", {"name": "Patterns", "spec": minimal_spec(input_schema=schema)}
    )


def test_a_run_input_is_checked_promptly_and_correctly(alice_client: Client) -> None:
    created = team_with_input_schema(alice_client, {"type": "string", "pattern": EVIL})
    assert created.status_code == 201, created.content
    runs = f"/api/teams/{created.json()['id']}/runs"

    refused, seconds = timed(lambda: post(alice_client, runs, {"input": ATTACK}))

    assert seconds < PROMPTLY_S
    assert refused.status_code == 422
    assert "does not match" in refused.json()["problems"][0]["message"]
    assert post(alice_client, runs, {"input": "a" * 27}).status_code == 201


def test_property_names_are_matched_promptly_too(alice_client: Client) -> None:
    schema = {"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False}
    created = team_with_input_schema(alice_client, schema)
    runs = f"/api/teams/{created.json()['id']}/runs"

    refused, seconds = timed(lambda: post(alice_client, runs, {"input": {ATTACK: 1}}))

    assert seconds < PROMPTLY_S and refused.status_code == 422
    assert post(alice_client, runs, {"input": {"aaa": 1}}).status_code == 201


def test_an_answer_is_checked_promptly_and_correctly(alice_client: Client, alice: Any) -> None:
    run = waiting_run(alice, answer_schema={"type": "string", "pattern": EVIL})
    answer = f"/api/runs/{run.id}/answer"

    refused, seconds = timed(lambda: post(alice_client, answer, {"answer": ATTACK}))

    assert seconds < PROMPTLY_S
    assert refused.status_code == 422 and "does not match" in refused.json()["detail"]
    assert post(alice_client, answer, {"answer": "aaaa"}).status_code == 200


def test_agent_output_and_gates_are_checked_promptly() -> None:
    schema = {"type": "object", "properties": {"verdict": {"type": "string", "pattern": EVIL}}}

    (_, problems), seconds = timed(lambda: parse_output(json.dumps({"verdict": ATTACK}), schema))

    assert seconds < PROMPTLY_S
    assert problems == [f"verdict: '{ATTACK}' does not match '{EVIL}'"]
    assert schema_problems({"verdict": "aaa"}, schema) == []


DRAFTS = [
    "http://json-schema.org/draft-03/schema#",
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
]


@pytest.mark.parametrize("draft", DRAFTS)
def test_every_draft_and_keyword_matches_by_re2(draft: str) -> None:
    # What jsonschema evaluates with regexes in each draft: pattern, patternProperties, and
    # additionalProperties, which matches the patternProperties to find the others. The
    # attack never matches, so only the keywords that refuse what is left over complain.
    checks = [
        ({"type": "string", "pattern": EVIL}, ATTACK, True),
        (
            {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}},
            {ATTACK: "x"},
            False,
        ),
        ({"patternProperties": {EVIL: {}}, "additionalProperties": False}, {ATTACK: 1}, True),
    ]
    if "2019" in draft or "2020" in draft:
        checks.append(
            ({"patternProperties": {EVIL: {}}, "unevaluatedProperties": False}, {ATTACK: 1}, True)
        )
    for keywords, attack, refused in checks:
        schema = {"$schema": draft, **keywords}
        start = time.monotonic()
        problems = schema_problems(attack, schema)
        assert time.monotonic() - start < PROMPTLY_S, schema
        assert bool(problems) == refused, (schema, problems)


def test_tool_arguments_are_checked_promptly() -> None:
    args = args_model("lookup", {"properties": {"code": {"type": "string", "pattern": EVIL}}})

    start = time.monotonic()
    with pytest.raises(ValueError, match="does not match"):
        args.model_validate({"code": ATTACK})
    assert time.monotonic() - start < PROMPTLY_S
    assert args.model_validate({"code": "aaa"}).values() == {"code": "aaa"}


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("^(?=admin)", "invalid perl operator: (?="), ("(a)\\1", "invalid escape sequence: \\1")],
)
def test_a_pattern_re2_cannot_evaluate_is_refused_where_it_is_written(
    alice_client: Client, pattern: str, why: str
) -> None:
    spec = minimal_spec()
    spec["nodes"][0]["output_schema"] = {"type": "string", "pattern": pattern}
    response = post(alice_client, "/api/teams", {"name": "Lookahead", "spec": spec})
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("invalid_schema", "nodes.0.output_schema")
    assert why in problem["message"] and "RE2" in problem["message"]


def test_a_custom_tool_with_such_a_pattern_is_refused(alice_client: Client) -> None:
    tool = {
        "name": "order_lookup",
        "description": "Look up an order by id.",
        "parameters": {"properties": {"order_id": {"type": "string", "pattern": "^(?=ord)"}}},
        "url": "https://shop.example.com/api/orders/{order_id}",
        "method": "GET",
    }
    response = post(alice_client, "/api/custom-tools", tool)
    assert response.status_code == 422
    assert "RE2" in response.content.decode()


def test_a_nested_dialect_cannot_bring_back_the_backtracking_validator(
    alice_client: Client,
) -> None:
    schema = {"properties": {"x": {"$schema": "http://json-schema.org/draft-07/schema#"}}}
    response = team_with_input_schema(alice_client, schema)
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "input_schema"


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that serves a schema and remembers every request."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/schema.json", requests
    finally:
        server.shutdown()
        server.server_close()


def test_a_reference_to_a_url_is_never_fetched(
    alice_client: Client, listener: tuple[str, list[str]]
) -> None:
    url, requests = listener
    created = team_with_input_schema(alice_client, {"$ref": url})
    assert created.status_code == 201, created.content

    response = post(alice_client, f"/api/teams/{created.json()['id']}/runs", {"input": "x"})

    assert response.status_code == 422
    assert url in response.json()["problems"][0]["message"]
    assert requests == []
    assert not Run.objects.exists()
