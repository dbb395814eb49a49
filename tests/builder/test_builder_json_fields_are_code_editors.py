"""The builder's JSON fields are code editors: highlighted, with line numbers, and a mistake
underlined where it is, with the reason below; the value changes only while the text parses."""

import json

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.axe import axe_violations
from tests.factories import make_team, minimal_spec

from .canvas import node, open_builder, save

pytestmark = pytest.mark.browser


def test_a_schema_is_highlighted_and_a_mistake_is_marked_in_place(
    page: Page, alice, alice_client: Client
):
    team = make_team(alice, minimal_spec(name="Schemas"))
    open_builder(page, team.pk)
    # An empty field (the team's input schema) means none: nothing is marked.
    expect(page.get_by_role("textbox", name="Input schema")).to_be_visible()
    expect(page.locator(".cm-lint-marker-error")).to_have_count(0)
    node(page, "lead").click()
    editor = page.get_by_test_id("field-output-schema")
    expect(editor).to_have_attribute("role", "textbox")
    expect(page.get_by_role("textbox", name="Output schema")).to_be_visible()

    editor.fill('{\n  "type": "object",\n  "properties": {"n": {"type": "number"},}\n}')
    # The stray comma is underlined where it is, flagged in the gutter, and explained.
    expect(page.locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(1)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    expect(page.get_by_role("alert")).to_contain_text("Not valid JSON yet")
    expect(editor).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []

    # Fixed: no mark, and the JSON is highlighted (property names and strings apart).
    editor.fill('{"type": "object", "properties": {"n": {"type": "number"}}}')
    expect(page.locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    colours = page.evaluate(
        """() => new Set([...document.querySelectorAll('.cm-content span')]
            .map((s) => getComputedStyle(s).color)).size"""
    )
    assert colours >= 2, "the JSON is drawn in more than one colour"
    expect(page.locator(".cm-lineNumbers").first).to_be_visible()

    # An array is valid JSON but not a schema: said so, in place.
    editor.fill("[1, 2]")
    expect(page.get_by_role("alert")).to_contain_text("A JSON Schema is an object")
    expect(page.locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(1)

    # The last good value is what is saved.
    save(page)
    spec = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    schema = spec["nodes"][0]["output_schema"]
    assert schema == json.loads('{"type": "object", "properties": {"n": {"type": "number"}}}')
