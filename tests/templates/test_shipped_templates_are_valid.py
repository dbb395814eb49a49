"""Every shipped template parses, validates with no errors, and its sample input fits it."""

import pytest
from jsonschema import Draft202012Validator

from teams.team_templates import TEMPLATES_DIR, shipped

EXPECTED = {
    "code-review": "supervisor",
    "monthly-close": "supervisor",
    "content-production": "pipeline",
    "support-triage": "swarm",
}


def test_it_ships_the_four_templates_in_gallery_order() -> None:
    templates = shipped()
    assert [t.slug for t in templates] == list(EXPECTED)
    assert {t.slug: t.pattern for t in templates} == EXPECTED


@pytest.mark.parametrize("template", shipped(), ids=lambda t: t.slug)
def test_it_validates_with_no_errors(template) -> None:
    from teams.team_templates import problems_of

    errors = [p for p in problems_of(template.spec) if p.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("template", shipped(), ids=lambda t: t.slug)
def test_its_sample_input_fits_its_input_schema(template) -> None:
    schema = template.spec.input_schema
    assert schema is not None
    assert list(Draft202012Validator(schema).iter_errors(template.sample_input)) == []
    # The run form of a team made from the template starts filled in with the sample.
    assert schema["examples"] == [template.sample_input]


@pytest.mark.parametrize("template", shipped(), ids=lambda t: t.slug)
def test_it_explains_itself(template) -> None:
    assert template.about.startswith(f"# {template.name}")
    assert (TEMPLATES_DIR / template.slug / "input.json").is_file()
