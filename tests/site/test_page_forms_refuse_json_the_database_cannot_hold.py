"""Pages where a person types JSON (a schedule's input, a custom tool's parameters and headers,
an experiment's JSON Schema scorer) parse it in the form, where the API's body middleware never
looks: 100,000 brackets crashed the parser (a 500), and a NaN, Infinity or NUL in it was a 500
from the database. Each is now the form's own error, with a 422 and nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations import actions
from evaluations.models import Experiment
from teams.models import CustomTool
from tests.factories import make_secret, make_team
from triggers.models import Schedule

pytestmark = pytest.mark.django_db

HOSTILE = {
    "deep": ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels"),
    "nan": ('{"a": NaN}', "Numbers must be finite"),
    "nul": ('{"a": "\\u0000"}', "NUL character"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_schedule_s_input(alice: User, alice_client: Client, case: str) -> None:
    text, said = HOSTILE[case]
    team = make_team(alice)
    form = {"cron": "0 9 * * 1", "timezone": "UTC", "input": text}
    response = alice_client.post(f"/teams/{team.id}/automation/", form)
    assert response.status_code == 422
    if case != "deep":  # the field's length limit refuses that one first
        assert said in response.content.decode()
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("case", HOSTILE)
def test_a_custom_tool_s_parameters(alice: User, alice_client: Client, case: str) -> None:
    text, said = HOSTILE[case]
    make_secret(alice, "WEATHER_KEY", "wk", "weather.example.com")
    form: dict[str, Any] = {
        "name": "weather", "description": "Weather.", "method": "GET",
        "url": "https://weather.example.com/today/{city}", "parameters": text, "headers": "{}",
    }  # fmt: skip
    response = alice_client.post("/settings/tools/", form)
    assert response.status_code in (200, 422) and said in response.content.decode()
    assert not CustomTool.objects.exists()


@pytest.mark.parametrize("case", HOSTILE)
def test_an_experiment_s_json_schema(alice: User, alice_client: Client, case: str) -> None:
    text, said = HOSTILE[case]
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"})])
    form = {"team": team.pk, "concurrency": 2, "json_schema": "on", "json_schema_schema": text}
    response = alice_client.post(f"/datasets/{dataset.pk}/experiment/", form)
    assert response.status_code == 422 and said in response.content.decode()
    assert not Experiment.objects.exists()
