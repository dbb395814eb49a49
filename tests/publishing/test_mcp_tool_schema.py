"""A published team's input schema becomes its MCP tool's: as it is when it describes an
object (MCP tools take objects), else wrapped as the tool's `input` argument."""

from publishing.mcp import tool_schema

from .helpers import INPUT_SCHEMA


def test_an_object_schema_is_the_tools_own() -> None:
    assert tool_schema({"input_schema": INPUT_SCHEMA}) == (INPUT_SCHEMA, False)


def test_a_team_without_an_input_schema_takes_any_object() -> None:
    assert tool_schema({}) == ({"type": "object"}, False)


def test_any_other_input_is_the_tools_input_argument() -> None:
    schema, wrapped = tool_schema({"input_schema": {"type": "string", "maxLength": 50}})
    assert wrapped is True
    assert schema == {
        "type": "object",
        "properties": {"input": {"type": "string", "maxLength": 50}},
        "required": ["input"],
    }
