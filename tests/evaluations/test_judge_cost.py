"""What an LLM-as-judge's calls cost is part of what an item, and so the experiment, cost."""

import json
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from evaluations import actions
from evaluations.models import ExperimentItem
from evaluations.scorers import SPECS
from teams.credentials import parse_operator_credentials
from tests.factories import make_ended_run, make_model_config, make_team, make_user
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def scored_with_a_judge(base_url: str) -> tuple[ExperimentItem, Decimal]:
    alice = make_user()
    team = make_team(alice)
    make_model_config(alice, base_url, name="grader")
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refunds"}, expected="no")])
    specs = SPECS.validate_python(
        [{"kind": "exact"}, {"kind": "judge", "rubric": "Right?", "model": "grader"}]
    )
    experiment = actions.do_start_experiment(alice, team.current_version(), dataset, specs, 1)
    # The case's run ended: it cost 0.25 USD and 100 + 50 tokens.
    run = make_ended_run(alice, events=1, days_ago=0, team=team, input={"task": "refunds"},
                         output="no", cost_usd=Decimal("0.25"), input_tokens=100, output_tokens=50)  # fmt: skip
    experiment.items.update(status=ExperimentItem.Status.STARTED, run=run)
    actions.do_advance(experiment.pk)
    return experiment.items.get(), actions.cost(experiment)


async def test_the_judges_tokens_and_cost_are_counted_in_the_items(
    openai_server: Any, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    settings.MODEL_CREDENTIALS = parse_operator_credentials(
        json.dumps(
            {
                "test-server": {
                    "key_env": "SCRIPTED_KEY",
                    "hosts": ["127.0.0.1"],
                    "input_usd_per_mtok": 2,
                    "output_usd_per_mtok": 8,
                }
            }
        )
    )
    openai_server.on(
        lambda r: True, Reply.text('{"score": 1, "reason": "Right."}', usage=(1000, 500))
    )
    item, total = await sync_to_async(scored_with_a_judge, thread_sensitive=False)(
        openai_server.base_url
    )
    assert item.status == "done"
    assert item.scores["judge"]["score"] == 1.0
    # 1000 tokens in at 2 USD and 500 out at 8 USD per million: 0.006 USD for the verdict.
    assert item.scores["judge"]["cost_usd"] == pytest.approx(0.006)
    assert item.cost_usd == Decimal("0.256")
    assert (item.input_tokens, item.output_tokens) == (1100, 550)
    assert total == Decimal("0.256")  # and so the experiment's
