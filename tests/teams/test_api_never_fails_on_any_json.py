"""Property: whatever JSON is thrown at the teams API, the answer is 2xx or 4xx, never a 500."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_team, make_user, supervisor_spec

pytestmark = pytest.mark.django_db

KEYS = st.sampled_from(
    ["name", "pattern", "entry", "nodes", "edges", "kind", "id", "source", "target", "gate",
     "limits", "max_turns", "tools", "model", "spec", "team_id", "output_schema", "schema",
     "reviewer", "fallback", "spec_version", "layout", "mcp_servers", "x"]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["supervisor", "pipeline", "swarm", "agent", "team", "human", "lead", "next"])
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def damaged_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with one part (top level, a node or an edge) replaced by random JSON."""
    spec = supervisor_spec()
    where = draw(st.sampled_from(["top", "node", "edge"]))
    target = {"top": spec, "node": spec["nodes"][1], "edge": spec["edges"][0]}[where]
    target[draw(KEYS)] = draw(ANY_JSON)
    return spec


BODIES = ANY_JSON | damaged_specs()
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(make_user("prop"))
    return client


def post(client: Client, url: str, body: Any) -> int:
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code


@FAST
@given(body=BODIES)
def test_validate_answers_any_json_without_a_server_error(client: Client, body: Any) -> None:
    assert post(client, "/api/teams/validate", body) in (200, 400, 422)


@FAST
@given(body=BODIES)
def test_create_answers_any_json_without_a_server_error(client: Client, body: Any) -> None:
    assert post(client, "/api/teams", body) in (201, 400, 422)


@FAST
@given(spec=BODIES, draft=st.booleans())
def test_create_with_any_spec_answers_without_a_server_error(
    client: Client, spec: Any, draft: bool
) -> None:
    body = {"name": "Prop", "spec": spec, "draft": draft}
    assert post(client, "/api/teams", body) in (201, 422)


@FAST
@given(spec=BODIES, draft=st.booleans())
def test_update_with_any_spec_answers_without_a_server_error(
    client: Client, spec: Any, draft: bool
) -> None:
    team = make_team(User.objects.get(username="prop"))
    response = client.put(
        f"/api/teams/{team.pk}",
        json.dumps({"spec": spec, "draft": draft}),
        content_type="application/json",
    )
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        team.refresh_from_db()
        assert team.version == 1  # nothing saved half-way
