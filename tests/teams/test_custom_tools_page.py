"""The tools page lists built-ins and my HTTP tools, adds one from the form with clear errors,
and removes one; nobody else's tools show or can be removed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import CustomTool
from tests.factories import make_custom_tool, make_secret, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def weather_key(alice: User) -> None:
    """Alice stored the weather service's key, for its host."""
    make_secret(alice, "WEATHER_KEY", "wk", "weather.example.com")


FORM = {
    "name": "weather",
    "description": "Today's weather for a city.",
    "url": "https://weather.example.com/today/{city}",
    "method": "GET",
    "parameters": '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}',
    "headers": '{"X-Api-Key": "secret:WEATHER_KEY"}',
}


def test_it_lists_builtins_and_only_my_tools(alice: User, alice_client: Client) -> None:
    make_custom_tool(alice, name="mine")
    make_custom_tool(make_user("bob"), name="bobs")
    page = alice_client.get("/settings/tools/").content.decode()
    assert "mine" in page and "bobs" not in page
    assert "sql_query" in page and "lint_diff" in page


def test_it_adds_a_tool_from_the_form(alice: User, alice_client: Client) -> None:
    response = alice_client.post("/settings/tools/", FORM)
    assert response.status_code == 302
    tool = CustomTool.objects.get(owner=alice)
    assert tool.name == "weather" and tool.headers == {"X-Api-Key": "secret:WEATHER_KEY"}
    assert tool.parameters["required"] == ["city"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parameters": "{not json"}, "Not valid JSON"),
        ({"headers": '{"X-Api-Key": "abc123"}'}, "carries a secret"),
        ({"name": "sql_query"}, "built-in tool"),
        ({"url": "ftp://weather.example.com/"}, "String should match pattern"),
    ],
)
def test_bad_input_shows_an_error_and_saves_nothing(
    alice_client: Client, change: dict, message: str
) -> None:
    response = alice_client.post("/settings/tools/", FORM | change)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CustomTool.objects.exists()


def test_it_removes_my_tool_but_not_someone_elses(alice: User, alice_client: Client) -> None:
    mine = make_custom_tool(alice)
    theirs = make_custom_tool(make_user("bob"))
    assert alice_client.post(f"/settings/tools/{mine.pk}/delete/").status_code == 302
    assert alice_client.post(f"/settings/tools/{theirs.pk}/delete/").status_code == 404
    assert list(CustomTool.objects.all()) == [theirs]


def test_the_page_needs_a_login() -> None:
    assert Client().get("/settings/tools/").url.startswith("/login/")


def test_a_secret_bound_to_another_host_is_refused_in_place(alice_client: Client) -> None:
    listener = FORM | {"url": "https://listener.example.net/{city}"}
    page = alice_client.post("/settings/tools/", listener).content.decode()
    assert "may only be sent to weather.example.com" in page
    assert not CustomTool.objects.exists()
