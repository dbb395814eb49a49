"""Pages say who or what started a run in words ("API token #3"), never its stored form
("token:3"), which stays in the title for whoever needs the exact value."""

import pytest
from django.template import loader


@pytest.mark.parametrize(
    ("started_by", "words"),
    [
        ("token:3", "API token #3"),
        ("schedule:2", "schedule #2"),
        ("trigger:7", "signed trigger #7"),
        ("publication:4/key:9", "a published team's key"),
        ("conversation:5", "conversation #5"),
        ("experiment:6", "experiment #6"),
        ("node-test:lead", "a test of node lead in the builder"),
    ],
)
def test_it_names_what_started_the_run(started_by: str, words: str) -> None:
    html = loader.get_template("runs/_started_by.html").render({"by": started_by})
    assert html == f'<span title="{started_by}">{words}</span>'


def test_a_person_is_named_as_they_are() -> None:
    template = loader.get_template("runs/_started_by.html")
    assert template.render({"by": "user alice"}) == "user alice"
    assert template.render({"by": ""}) == "a person"
